"""The standardised sample report: ``{sample}.report.json`` and its HL7 FHIR R4 bundle.

* :mod:`genomflow.report.validate`: the versioned JSON Schema and fast validation;
* :mod:`genomflow.report.vrs`: GA4GH refget/VRS identifiers from our own reference;
* :mod:`genomflow.report.qc`, :mod:`genomflow.report.variants`: reading the run's outputs;
* :mod:`genomflow.report.build`: assembling, checking and writing a report;
* :mod:`genomflow.report.fhir`: the FHIR Genomics Reporting bundle of a report.
"""
