"""Somatic small variants of tumour samples.

* :mod:`~genomflow.somatic.model`: the likelihood model (tumour and normal log-odds, germline
  and somatic priors);
* :mod:`~genomflow.somatic.classify`: FILTERs of one candidate;
* :mod:`~genomflow.somatic.settings`: thresholds and FILTER names;
* :mod:`~genomflow.somatic.vcf`: candidates in, classified VCF out, the panel of normals;
* :mod:`~genomflow.somatic.evaluate`: comparison with a planted truth;
* :mod:`~genomflow.somatic.cli`: ``genomflow somatic ...``.

See ``docs/somatic.md`` for the method and its measured accuracy.
"""
