"""Reading the planning inputs (YAML checked against a schema, tab-separated sheets) and
writing the outputs atomically.

Faults raise :class:`~genomflow.errors.GenomflowError` with the file, the line and the key
or column::

    instruments.yaml line 12, key 'flowcell_types.NovaSeqX-25B.lanes': 0 is less than the
    minimum of 1
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from genomflow.errors import GenomflowError
from genomflow.schemas import DefaultFillingValidator, load_schema, non_finite

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")


def read_text(path: Path) -> str:
    """The UTF-8 text of ``path``; a missing or unreadable file is a :class:`GenomflowError`."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise GenomflowError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise GenomflowError(f"{path}: is a directory, not a file") from None
    except OSError as err:
        raise GenomflowError(f"{path}: cannot read file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise GenomflowError(f"{path}: not UTF-8 text") from None


# --- YAML with a schema -----------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A safe loader that leaves dates as text, so that the schema checks them (a date such
    as 2025-02-30 is then a schema fault with its key, not a crash of the YAML parser)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _plain(value: Any) -> Any:
    """YAML data as JSON data: dates become ISO strings, mapping keys become strings."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def key_text(path: Sequence[str | int]) -> str:
    """``('flowcell_types', 'X', 'lanes')`` -> ``flowcell_types.X.lanes``; ``[0]`` for items.

    >>> key_text(["instruments", 2, "name"])
    'instruments[2].name'
    """
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _line_of(node: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    """1-based line of the deepest node of ``path`` in the composed YAML tree."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in path:
        child: yaml.Node | None = None
        key_line = line
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if str(key_node.value) == str(part):
                    child, key_line = value_node, key_node.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            key_line = child.start_mark.line + 1
        if child is None:
            break
        node = child
        line = key_line
    return line


def _problem(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        if allowed and unknown:
            return f"unknown key {unknown[0]!r} (allowed keys are: {', '.join(allowed)})"
    if error.validator == "oneOf" and error.schema.get("description"):
        return f"{error.instance!r} is not valid: expected {error.schema['description']}"
    if error.validator == "pattern" and error.schema.get("description"):
        return f"{error.instance!r} is not valid: {error.schema['description']}"
    return str(error.message)


@dataclass(frozen=True)
class YamlDocument:
    """A validated YAML document: its data (defaults filled in) and where its keys are."""

    path: Path
    data: dict[str, Any]
    tree: yaml.Node | None

    def fault(self, key: Sequence[str | int], problem: str) -> GenomflowError:
        """An error naming the file, the line of ``key`` and the key."""
        line = _line_of(self.tree, key)
        where = f" line {line}" if line is not None else ""
        return GenomflowError(f"{self.path}{where}, key '{key_text(key)}': {problem}")


def load_yaml(path: Path, schema_name: str) -> YamlDocument:
    """Load ``path``, validate it against schema ``schema_name`` and fill in its defaults."""
    text = read_text(path)
    try:
        tree = yaml.compose(text, Loader=_Loader)
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader without timestamps
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err)
        raise GenomflowError(f"{path}{where}: not valid YAML ({problem})") from None
    if not isinstance(raw, dict):
        raise GenomflowError(f"{path}: expected a mapping of keys at the top level")
    data: dict[str, Any] = _plain(raw)
    found = non_finite(data)
    if found is not None:
        key, value = found
        raise YamlDocument(path, data, tree).fault(list(key), f"{value} is not a finite number")
    validator = DefaultFillingValidator(load_schema(schema_name), format_checker=FormatChecker())
    errors = list(validator.iter_errors(data))
    if errors:
        document = YamlDocument(path, data, tree)
        first = min(
            errors,
            key=lambda e: (_line_of(tree, list(e.absolute_path)) or 0, len(e.absolute_path)),
        )
        raise document.fault(list(first.absolute_path), _problem(first))
    return YamlDocument(path, data, tree)


# --- tab-separated sheets ---------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRow:
    """One data row: its line number in the file and its non-empty cells."""

    line: int
    cells: dict[str, str]


def read_sheet(path: Path, allowed: Sequence[str], required: Sequence[str]) -> list[SheetRow]:
    """Rows of a tab-separated sheet with a header; ``#`` lines and blank lines are skipped.

    Unknown and missing columns and rows with the wrong number of fields are errors.
    """
    text = read_text(path)
    lines = [(number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), start=1)]
    kept = [(n, line) for n, line in lines if line.strip() and not line.startswith("#")]
    if not kept:
        raise GenomflowError(f"{path}: empty file (expected a header: {', '.join(required)})")
    header_line, header_text = kept[0]
    header = header_text.split("\t")
    for name in header:
        if name not in allowed:
            raise GenomflowError(
                f"{path} line {header_line}: unknown column {name!r} (allowed columns are: "
                f"{', '.join(allowed)})"
            )
        if header.count(name) > 1:
            raise GenomflowError(f"{path} line {header_line}: column {name!r} appears twice")
    for name in required:
        if name not in header:
            raise GenomflowError(f"{path} line {header_line}: missing column {name!r}")
    rows: list[SheetRow] = []
    for number, line in kept[1:]:
        fields = line.split("\t")
        if len(fields) != len(header):
            raise GenomflowError(
                f"{path} line {number}: {len(fields)} tab-separated fields, but the header "
                f"has {len(header)}"
            )
        cells = {name: value.strip() for name, value in zip(header, fields, strict=True)}
        rows.append(SheetRow(number, {k: v for k, v in cells.items() if v}))
    if not rows:
        raise GenomflowError(f"{path}: the sheet has a header but no rows")
    return rows


def typed_cells(cells: Mapping[str, str], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Cells with numbers for the columns the schema types as integer or number.

    A cell that does not look like a number is left as text, so that the schema reports it.
    """
    typed: dict[str, Any] = dict(cells)
    for column, text in cells.items():
        kind = schema.get("properties", {}).get(column, {}).get("type")
        if kind == "integer" and _INTEGER.fullmatch(text.replace("_", "")):
            typed[column] = int(text.replace("_", ""))
        elif kind == "number" and _NUMBER.fullmatch(text):
            typed[column] = float(text)
    return typed


def validate_row(
    path: Path, row: SheetRow, header_order: Sequence[str], schema_name: str
) -> dict[str, Any]:
    """Validate one sheet row; the fault names the file, the line and the leftmost column."""
    schema = load_schema(schema_name)
    instance = typed_cells(row.cells, schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    errors = list(validator.iter_errors(instance))
    if not errors:
        return instance

    def column_of(error: jsonschema.ValidationError) -> str | None:
        if error.path:
            return str(error.path[0])
        if error.validator == "required":
            match = re.match(r"'([^']+)'", error.message)
            return match.group(1) if match else None
        if error.validator == "not":
            required = error.validator_value.get("required", [])
            return str(required[0]) if required else None
        return None

    def order(error: jsonschema.ValidationError) -> int:
        column = column_of(error)
        return header_order.index(column) if column in header_order else len(header_order)

    first = min(errors, key=order)
    column = column_of(first)
    raw = row.cells.get(column or "", "")
    if first.validator == "required":
        problem = f"missing (required for a {row.cells.get('assay', '')} sample)"
    elif first.validator == "not":
        problem = f"must be empty for a {row.cells.get('assay', '')} sample (found {raw!r})"
    elif first.validator == "format":
        problem = f"{raw!r} is not a real date in the form YYYY-MM-DD"
    elif first.validator == "enum":
        problem = f"{raw!r} is not one of {', '.join(map(str, first.validator_value))}"
    elif first.validator == "type":
        problem = f"{raw!r} is not a {first.validator_value}"
    elif first.validator == "pattern":
        problem = f"{raw!r} is not valid: {first.schema.get('description', 'bad value')}"
    else:
        problem = first.message
    where = f", column {column!r}" if column else ""
    raise GenomflowError(f"{path} line {row.line}{where}: {problem}")
