"""Find and load the JSON Schemas (draft 2020-12, written as YAML) in ``workflow/schemas``.

The schemas live next to the package, not inside it, so that Snakemake rules and the
documentation can use the same files: ``workflow/schemas/<name>.schema.yaml``. This works
from a source tree and from an editable install of the repository.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator

#: Directory holding ``<name>.schema.yaml`` files (``workflow/schemas``).
SCHEMA_DIR: Path = Path(__file__).resolve().parents[1] / "schemas"

#: libyaml's loader where PyYAML has it (5-10x faster than the Python one; the workflow reads
#: three schemas on every start), else the Python one: the same documents either way.
YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: The only JSON Schema dialect used by genomflow.
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_path(name: str) -> Path:
    """Path of schema ``name``: ``"samples"`` -> ``SCHEMA_DIR/samples.schema.yaml``."""
    file_name = name if name.endswith((".yaml", ".yml")) else f"{name}.schema.yaml"
    return SCHEMA_DIR / file_name


def load_schema(name: str) -> dict[str, Any]:
    """Load schema ``name`` (e.g. ``"samples"``) and check it is a valid 2020-12 schema.

    Returns a fresh copy each call, so callers may modify it. A missing or broken schema
    is an installation fault, not a user error, so this raises ``FileNotFoundError`` or
    ``ValueError`` rather than ``GenomflowError``.
    """
    return copy.deepcopy(_load_schema_cached(name))


@functools.cache
def _load_schema_cached(name: str) -> dict[str, Any]:
    path = schema_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"schema {name!r} not found: {path} (SCHEMA_DIR={SCHEMA_DIR})")
    with path.open(encoding="utf-8") as handle:
        schema = yaml.load(handle, Loader=YAML_LOADER)
    if not isinstance(schema, dict):
        raise ValueError(f"{path}: a schema must be a mapping")
    if schema.get("$schema") != DIALECT:
        raise ValueError(f"{path}: '$schema' must be {DIALECT}")
    Draft202012Validator.check_schema(schema)
    result: dict[str, Any] = schema
    return result


def _fill_defaults(validator_class: type[Any]) -> type[Any]:
    """A validator class that, while validating, inserts missing properties' defaults."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(
        validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[jsonschema.ValidationError]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    extended: type[Any] = jsonschema.validators.extend(
        validator_class, {"properties": set_defaults}
    )
    return extended


DefaultFillingValidator = _fill_defaults(Draft202012Validator)
"""A Draft 2020-12 validator that fills in schema defaults as it validates (in place)."""


def non_finite(
    value: Any, path: tuple[str | int, ...] = ()
) -> tuple[tuple[str | int, ...], float] | None:
    """The key path and value of the first NaN or infinite number in a YAML/JSON document.

    JSON Schema takes YAML's ``.nan`` and ``.inf`` for numbers (NaN compares false to every
    bound), so documents are searched for them before validation.

    >>> non_finite({"a": [1, {"b": float("inf")}]})
    (('a', 1, 'b'), inf)
    >>> non_finite({"a": 1.5}) is None
    True
    """
    if isinstance(value, float) and not math.isfinite(value):
        return path, value
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    for key, item in items:
        found = non_finite(item, (*path, key))
        if found is not None:
            return found
    return None
