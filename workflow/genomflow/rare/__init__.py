"""Rare disease: phenotype (HPO) terms and genes, inheritance models, ranked candidates."""
