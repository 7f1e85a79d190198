"""Validation of sample reports against ``workflow/schemas/report.schema.yaml``.

The schema (JSON Schema 2020-12, checked with :mod:`jsonschema`) is the judge. A whole-genome
report holds millions of variants, and :mod:`jsonschema` checks about 13,000 a second, so the
variants are checked with a validator compiled by :mod:`fastjsonschema` from the schema's
``variant`` definition. That is only done because the definition uses keywords that mean
the same in draft-07 (what fastjsonschema knows) and in 2020-12 (:data:`DRAFT_NEUTRAL`,
enforced by :func:`draft_neutral_keywords` and a test). A variant that fails is checked
again with :mod:`jsonschema` for the message.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema

REPORT_SCHEMA = "report"

#: Keywords that mean the same in JSON Schema draft-07 and 2020-12 (with schema-form items).
DRAFT_NEUTRAL: frozenset[str] = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "description",
        "title",
    }
)

#: Keywords whose value is a mapping of names to subschemas, or one subschema.
_SUBSCHEMA_MAPS = frozenset({"properties"})
_SUBSCHEMAS = frozenset({"items", "additionalProperties"})


class ReportError(GenomflowError):
    """A report that does not follow the schema (or cannot be read)."""


def schema_version() -> str:
    """The version written into new reports: the last of the schema's ``schema_version``
    values (the earlier ones, of the same major version, are still read).

    >>> schema_version()
    '1.2.0'
    """
    version: str = load_schema(REPORT_SCHEMA)["properties"]["schema_version"]["enum"][-1]
    return version


def draft_neutral_keywords(schema: Mapping[str, Any]) -> set[str]:
    """Keywords used anywhere in ``schema`` that are not in :data:`DRAFT_NEUTRAL`.

    >>> sorted(draft_neutral_keywords({"type": "object", "properties": {"a": {"format": "date"}}}))
    ['format']
    """
    found: set[str] = set()
    for key, value in schema.items():
        if key not in DRAFT_NEUTRAL:
            found.add(key)
        elif key in _SUBSCHEMA_MAPS and isinstance(value, Mapping):
            for sub in value.values():
                found |= draft_neutral_keywords(sub)
        elif key in _SUBSCHEMAS and isinstance(value, Mapping):
            found |= draft_neutral_keywords(value)
    return found


@functools.cache
def _validators() -> tuple[Any, Any, Callable[[Any], Any]]:
    schema = load_schema(REPORT_SCHEMA)
    full = Draft202012Validator(schema, format_checker=FormatChecker())
    variant_schema = schema["$defs"]["variant"]
    odd = draft_neutral_keywords(variant_schema)
    if odd:  # pragma: no cover - guarded by a unit test on the shipped schema
        raise ValueError(f"report schema: variant uses draft-specific keywords {sorted(odd)}")
    variant = Draft202012Validator(variant_schema, format_checker=FormatChecker())
    compiled = fastjsonschema.compile(
        {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "array",
            "items": variant_schema,
        }
    )
    return full, variant, compiled


def _where(error: ValidationError, prefix: tuple[str | int, ...] = ()) -> str:
    parts = [*prefix, *error.absolute_path]
    return "/".join(str(p) for p in parts) or "(top level)"


def _first(errors: Iterator[ValidationError]) -> ValidationError | None:
    ordered = sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])
    return ordered[0] if ordered else None


def validate_report(report: Any, source: str) -> None:
    """Raise :class:`ReportError` naming ``source``, the field and the problem, if invalid."""
    full, variant, compiled = _validators()
    if not isinstance(report, dict):
        raise ReportError(f"{source}: not a report: the top level must be a JSON object")
    variants = report.get("variants")
    head = {**report, "variants": []} if isinstance(variants, list) else report
    error = _first(full.iter_errors(head))
    if error is not None:
        raise ReportError(f"{source}: at {_where(error)}: {error.message}")
    if not isinstance(variants, list):
        return
    try:
        compiled(variants)
    except fastjsonschema.JsonSchemaValueException:
        for index, item in enumerate(variants):
            error = _first(variant.iter_errors(item))
            if error is not None:
                raise ReportError(
                    f"{source}: at {_where(error, ('variants', index))}: {error.message}"
                ) from None
        # jsonschema is the judge: a variant only the fast check refused is valid.


class _NotFinite(ValueError):
    """A JSON number that is NaN or infinite (Python's json reads them; JSON has none)."""


def _not_a_number(token: str) -> float:
    raise _NotFinite(token)


def _finite(token: str) -> float:
    """A JSON number as a float; one too large for a float (``1e999``) is refused.

    >>> _finite("0.25")
    0.25
    """
    value = float(token)
    if not math.isfinite(value):
        raise _NotFinite(token)
    return value


def read_report(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The bytes and the parsed, schema-valid report at ``path``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReportError(f"{path}: report not found") from None
    except OSError as err:
        raise ReportError(f"{path}: cannot read the report ({err.strerror})") from None
    try:
        report = json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ReportError(f"{path}: not valid JSON ({err})") from None
    except _NotFinite as err:
        raise ReportError(f"{path}: {err} is not a number JSON allows (NaN or infinite)") from None
    validate_report(report, str(path))
    result: dict[str, Any] = report
    return data, result
