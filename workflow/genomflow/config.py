"""Validation of the workflow configuration, with schema defaults filled in.

The Snakefile calls :func:`resolve` once; everything downstream may rely on every key existing.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from genomflow.errors import GenomflowError
from genomflow.schemas import DefaultFillingValidator, load_schema, non_finite

CONFIG_SCHEMA = "config.schema.yaml"


def _location(error: jsonschema.ValidationError) -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def _check_finite(config: Mapping[str, Any], source: str) -> None:
    """YAML's ``.nan`` and ``.inf`` are numbers to the schema, but no threshold or depth.

    >>> _check_finite({"qc": {"min_depth": float("nan")}}, "config")
    Traceback (most recent call last):
    genomflow.errors.GenomflowError: config: key 'qc.min_depth': nan is not a finite number
    """
    found = non_finite(dict(config))
    if found is not None:
        path, value = found
        where = ".".join(str(part) for part in path) or "(top level)"
        raise GenomflowError(f"{source}: key '{where}': {value} is not a finite number")


def resolve(config: Mapping[str, Any], source: str = "config") -> dict[str, Any]:
    """Validate ``config`` against the schema and return a copy with every default filled in.

    Raises :class:`GenomflowError` naming the key and the problem for the first fault.

    >>> resolve({"reference": {"fasta": "ref.fa"}})["germline"]["caller"]
    'bcftools'
    """
    _check_finite(config, source)
    resolved = copy.deepcopy(dict(config))
    validator = DefaultFillingValidator(load_schema(CONFIG_SCHEMA))
    errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        raise GenomflowError(f"{source}: key '{_location(first)}': {first.message}")
    return resolved


#: Config sections that say where results go, not how they are made: not in the resolved
#: config file (nor, so, in the reports' config digest).
NOT_ANALYSIS = ("load",)


def analysis_json(config: Mapping[str, Any]) -> str:
    """The analysis settings of a resolved config as JSON text, keys sorted (all but ``load``).

    >>> analysis_json({"qc": {"b": 1, "a": 2}, "load": {"db": "sqlite://"}})
    '{"qc": {"a": 2, "b": 1}}'
    """
    analysis = {key: value for key, value in config.items() if key not in NOT_ANALYSIS}
    return json.dumps(analysis, sort_keys=True, default=str)


def project_path(path: str | Path, workdir: Path | None = None) -> str:
    """``path`` relative to the working directory when it lies inside it, else as given.

    Rule inputs, parameters and commands name the project's own files by where they lie in
    it, so that moving the whole project (checkout, sheets and results together) changes
    none of them and Snakemake has nothing to rerun; files outside it (a shared reference, a
    sequencer's run folder) keep their absolute paths, which a move leaves valid.

    >>> project_path("/data/project/resources/panels", Path("/data/project"))
    'resources/panels'
    >>> project_path("/refs/GRCh38.fa", Path("/data/project"))
    '/refs/GRCh38.fa'
    >>> project_path("config/samples.tsv", Path("/data/project"))
    'config/samples.tsv'
    """
    given = Path(path)
    if not given.is_absolute():
        return str(given)
    base = (workdir or Path.cwd()).absolute()
    return str(given.relative_to(base)) if given.is_relative_to(base) else str(given)
