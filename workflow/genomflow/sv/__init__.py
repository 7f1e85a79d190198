"""Structural variants of whole-genome samples with delly (issue #16).

delly 1.1.6 calls each germline calling group (a family, or a sample on its own) jointly
over its WGS alignments; :mod:`genomflow.sv.deliver` turns a group's calls into each
sample's deliverable: its genotyped SVs of at least 50 bp as symbolic ALTs with ``SVTYPE``,
``END``, ``SVLEN``, ``CIPOS``/``CIEND``, supporting read counts and ``GT``.
"""
