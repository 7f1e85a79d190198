"""Tumour biomarkers: tumour mutational burden (:mod:`.tmb`) and microsatellite instability."""
