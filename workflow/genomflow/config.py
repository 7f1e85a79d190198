"""Validation of the workflow configuration, with schema defaults filled in.

The Snakefile calls :func:`resolve` once; everything downstream may rely on every key existing.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import jsonschema

from genomflow.errors import GenomflowError
from genomflow.schemas import DefaultFillingValidator, load_schema

CONFIG_SCHEMA = "config.schema.yaml"


def _location(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def resolve(config: Mapping[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate ``config`` against the schema and return a copy with every default filled in.

    Raises :class:`GenomflowError` naming the key and the problem for the first fault.

    >>> resolve({"reference": {"fasta": "ref.fa"}})["germline"]["caller"]
    'bcftools'
    """
    resolved = copy.deepcopy(dict(config))
    validator = DefaultFillingValidator(load_schema(CONFIG_SCHEMA))
    errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise GenomflowError(f"{source}: key '{_location(first)}': {first.message}")
    return resolved
