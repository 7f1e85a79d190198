"""samples.tsv / units.tsv: schemas, the loader, its error messages and the CLI."""

from __future__ import annotations

import argparse
import datetime
import gzip
from collections.abc import Callable
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from genomflow import sheets
from genomflow.errors import GenomflowError
from genomflow.schemas import SCHEMA_DIR, load_schema
from genomflow.sheets import Sample, SheetError, Unit, load_sheets

Rows = list[dict[str, str]]
Mutation = Callable[[Rows, Rows, Path], None]

SAMPLES = "config/samples.tsv"
UNITS = "config/units.tsv"

# Line numbers: header = 1, KID = 2, DAD = 3, MUM = 4, TUM = 5, NORM = 6, CFDNA = 7.
VALID_SAMPLES: tuple[dict[str, str], ...] = (
    {"sample": "KID", "patient": "P1", "sex": "female", "type": "germline", "assay": "wgs",
     "family": "FAM1", "father": "DAD", "mother": "MUM", "collection_date": "2024-01-15"},
    {"sample": "DAD", "patient": "P2", "sex": "male", "type": "germline", "assay": "wgs",
     "family": "FAM1"},
    {"sample": "MUM", "patient": "P3", "sex": "female", "type": "germline", "assay": "wgs",
     "family": "FAM1"},
    {"sample": "TUM", "patient": "P4", "sex": "male", "type": "tumour", "assay": "panel",
     "panel": "TSO500", "matched_normal": "NORM", "collection_date": "2024-02-29",
     "purity": "0.6"},
    {"sample": "NORM", "patient": "P4", "sex": "male", "type": "normal", "assay": "panel",
     "panel": "TSO500"},
    {"sample": "CFDNA", "patient": "P4", "sex": "male", "type": "plasma", "assay": "panel",
     "panel": "TSO500", "tumour_sample": "TUM", "purity": "1"},
)  # fmt: skip

# Line numbers: header = 1, KID L001 = 2, KID L002 = 3, DAD = 4, MUM = 5, TUM = 6, NORM = 7,
# CFDNA = 8.
VALID_UNITS: tuple[dict[str, str], ...] = tuple(
    {"sample": s, "unit": u, "fq1": f"reads/{s}_{u}_R1.fastq.gz",
     "fq2": f"reads/{s}_{u}_R2.fastq.gz", "umi": umi}
    for s, u, umi in (
        ("KID", "L001", ""),
        ("KID", "L002", ""),
        ("DAD", "L001", ""),
        ("MUM", "L001", ""),
        ("TUM", "L001", "8M142T 8M142T"),
        ("NORM", "L001", "8M+T 8M+T"),
        ("CFDNA", "L001", "+T +T"),
    )
)  # fmt: skip

FASTQ_RECORD = b"@r1\nACGT\n+\nIIII\n"


def _write_tsv(path: Path, columns: tuple[str, ...], rows: Rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["\t".join(columns)] + ["\t".join(row.get(c, "") for c in columns) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_fastqs(root: Path, units: Rows) -> None:
    for row in units:
        for column in ("fq1", "fq2"):
            path = root / row[column]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.compress(FASTQ_RECORD))


def _setup(
    root: Path,
    mutate: Mutation | None = None,
    samples_columns: tuple[str, ...] = sheets.SAMPLES_COLUMNS,
    units_columns: tuple[str, ...] = sheets.UNITS_COLUMNS,
) -> None:
    """Write the valid sheets (after ``mutate``) and their FASTQs below ``root``."""
    samples = [dict(row) for row in VALID_SAMPLES]
    units = [dict(row) for row in VALID_UNITS]
    _write_fastqs(root, units)
    if mutate is not None:
        mutate(samples, units, root)
    _write_tsv(root / SAMPLES, samples_columns, samples)
    _write_tsv(root / UNITS, units_columns, units)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path`` as the working directory, as when Snakemake runs there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _load_error(**kwargs: object) -> str:
    with pytest.raises(SheetError) as info:
        load_sheets(SAMPLES, UNITS, **kwargs)  # type: ignore[arg-type]
    assert isinstance(info.value, GenomflowError)
    return str(info.value)


# --- mutations ------------------------------------------------------------------------------


def cell(sheet: str, line: int, column: str, value: str) -> Mutation:
    """Set ``column`` of the row on ``line`` (header = line 1) of ``sheet`` to ``value``."""

    def mutate(samples: Rows, units: Rows, root: Path) -> None:
        rows = samples if sheet == "samples" else units
        rows[line - 2][column] = value

    return mutate


def cells(*mutations: Mutation) -> Mutation:
    def mutate(samples: Rows, units: Rows, root: Path) -> None:
        for mutation in mutations:
            mutation(samples, units, root)

    return mutate


def drop_unit(line: int) -> Mutation:
    def mutate(samples: Rows, units: Rows, root: Path) -> None:
        del units[line - 2]

    return mutate


def fastq_file(name: str, content: bytes | None) -> Mutation:
    """Create ``reads/name`` (a directory when ``content`` is None)."""

    def mutate(samples: Rows, units: Rows, root: Path) -> None:
        path = root / "reads" / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content)

    return mutate


IDENTIFIER_HINT = (
    "is not a valid identifier (letters, digits, '_' and '-', starting with a letter or "
    "digit; no dots or spaces)"
)
UMI_HINT = (
    "is not a valid read structure (one fgbio read structure for R1 and one for R2, "
    "separated by one space, e.g. '8M142T 8M142T', '8M+T 8M+T' or '+T +T'; each segment is "
    "a length or '+' followed by M, T, S or B, and only the last segment of a read may be '+')"
)
PURITY_RANGE = "is out of range (must be > 0 and <= 1)"

# (id, mutation, expected message; "{base}" stands for the working directory)
FAULTS: list[tuple[str, Mutation, str]] = [
    # samples.tsv, one row against the schema
    ("sex-case", cell("samples", 4, "sex", "Male"),
     "config/samples.tsv line 4, column 'sex': 'Male' is not one of female, male, unknown"),
    ("sex-empty", cell("samples", 3, "sex", ""),
     "config/samples.tsv line 3, column 'sex': empty, but a value is required"),
    ("type", cell("samples", 5, "type", "tumor"),
     "config/samples.tsv line 5, column 'type': 'tumor' is not one of germline, tumour, "
     "normal, plasma"),
    ("assay", cell("samples", 2, "assay", "WGS"),
     "config/samples.tsv line 2, column 'assay': 'WGS' is not one of wgs, panel"),
    ("sample-dot", cell("samples", 2, "sample", "KID.1"),
     f"config/samples.tsv line 2, column 'sample': 'KID.1' {IDENTIFIER_HINT}"),
    ("sample-space", cell("samples", 2, "sample", "KID 1"),
     f"config/samples.tsv line 2, column 'sample': 'KID 1' {IDENTIFIER_HINT}"),
    ("sample-leading-dash", cell("samples", 2, "sample", "-KID"),
     f"config/samples.tsv line 2, column 'sample': '-KID' {IDENTIFIER_HINT}"),
    ("sample-empty", cell("samples", 6, "sample", ""),
     "config/samples.tsv line 6, column 'sample': empty, but a value is required"),
    ("patient-slash", cell("samples", 3, "patient", "P/2"),
     f"config/samples.tsv line 3, column 'patient': 'P/2' {IDENTIFIER_HINT}"),
    ("family-space", cell("samples", 2, "family", "FAM 1"),
     f"config/samples.tsv line 2, column 'family': 'FAM 1' {IDENTIFIER_HINT}"),
    ("leftmost-column-first", cells(cell("samples", 2, "sex", "M"), cell("samples", 2, "purity",
                                                                         "2")),
     "config/samples.tsv line 2, column 'sex': 'M' is not one of female, male, unknown"),
    ("panel-missing", cell("samples", 6, "panel", ""),
     "config/samples.tsv line 6, column 'panel': empty, but a value is required when assay "
     "is panel"),
    ("panel-on-wgs", cell("samples", 3, "panel", "TSO500"),
     "config/samples.tsv line 3, column 'panel': must be empty when assay is wgs "
     "(found 'TSO500')"),
    ("panel-space", cell("samples", 5, "panel", "TSO 500"),
     "config/samples.tsv line 5, column 'panel': 'TSO 500' is not a valid panel name "
     "(a name without spaces)"),
    ("date-not-real", cell("samples", 2, "collection_date", "2023-02-29"),
     "config/samples.tsv line 2, column 'collection_date': '2023-02-29' is not a real date "
     "in the form YYYY-MM-DD"),
    ("date-month-13", cell("samples", 2, "collection_date", "2024-13-01"),
     "config/samples.tsv line 2, column 'collection_date': '2024-13-01' is not a real date "
     "in the form YYYY-MM-DD"),
    ("date-short", cell("samples", 2, "collection_date", "2024-1-5"),
     "config/samples.tsv line 2, column 'collection_date': '2024-1-5' is not a real date "
     "in the form YYYY-MM-DD"),
    ("date-european", cell("samples", 2, "collection_date", "15/01/2024"),
     "config/samples.tsv line 2, column 'collection_date': '15/01/2024' is not a real date "
     "in the form YYYY-MM-DD"),
    ("purity-zero", cell("samples", 5, "purity", "0"),
     f"config/samples.tsv line 5, column 'purity': 0 {PURITY_RANGE}"),
    ("purity-percent", cell("samples", 5, "purity", "60"),
     f"config/samples.tsv line 5, column 'purity': 60 {PURITY_RANGE}"),
    ("purity-negative", cell("samples", 5, "purity", "-0.1"),
     f"config/samples.tsv line 5, column 'purity': -0.1 {PURITY_RANGE}"),
    ("purity-text", cell("samples", 5, "purity", "high"),
     "config/samples.tsv line 5, column 'purity': 'high' is not a number"),
    ("purity-comma", cell("samples", 5, "purity", "0,5"),
     "config/samples.tsv line 5, column 'purity': '0,5' is not a number"),
    ("purity-nan", cell("samples", 5, "purity", "nan"),
     "config/samples.tsv line 5, column 'purity': 'nan' is not a number"),
    ("purity-percent-sign", cell("samples", 5, "purity", "60%"),
     "config/samples.tsv line 5, column 'purity': '60%' is not a number"),
    # samples.tsv, across rows
    ("duplicate-sample", cell("samples", 4, "sample", "DAD"),
     "config/samples.tsv line 4, column 'sample': duplicate sample 'DAD' (first on line 3)"),
    ("father-unknown", cell("samples", 2, "father", "DADDY"),
     "config/samples.tsv line 2, column 'father': 'DADDY' is not a sample in "
     "config/samples.tsv"),
    ("mother-unknown", cell("samples", 2, "mother", "MUMMY"),
     "config/samples.tsv line 2, column 'mother': 'MUMMY' is not a sample in "
     "config/samples.tsv"),
    ("father-female", cell("samples", 3, "sex", "female"),
     "config/samples.tsv line 2, column 'father': 'DAD' has sex female (line 3), but a father "
     "must be male or unknown"),
    ("mother-male", cell("samples", 4, "sex", "male"),
     "config/samples.tsv line 2, column 'mother': 'MUM' has sex male (line 4), but a mother "
     "must be female or unknown"),
    ("parent-other-family", cell("samples", 3, "family", "FAM2"),
     "config/samples.tsv line 2, column 'father': 'DAD' is in family 'FAM2' (line 3), "
     "but 'KID' is in family 'FAM1'"),
    ("parent-no-family", cell("samples", 4, "family", ""),
     "config/samples.tsv line 2, column 'mother': 'MUM' is in no family (line 4), "
     "but 'KID' is in family 'FAM1'"),
    ("own-father", cell("samples", 3, "father", "DAD"),
     "config/samples.tsv line 3, column 'father': sample 'DAD' is its own father"),
    ("own-mother", cell("samples", 4, "mother", "MUM"),
     "config/samples.tsv line 4, column 'mother': sample 'MUM' is its own mother"),
    ("normal-unknown", cell("samples", 5, "matched_normal", "NORM2"),
     "config/samples.tsv line 5, column 'matched_normal': 'NORM2' is not a sample in "
     "config/samples.tsv"),
    ("normal-not-normal", cell("samples", 5, "matched_normal", "CFDNA"),
     "config/samples.tsv line 5, column 'matched_normal': 'CFDNA' is of type plasma "
     "(line 7), not normal"),
    ("normal-other-patient", cell("samples", 6, "patient", "P5"),
     "config/samples.tsv line 5, column 'matched_normal': 'NORM' is of patient 'P5' "
     "(line 6), not 'P4'"),
    ("normal-on-plasma", cell("samples", 7, "matched_normal", "NORM"),
     "config/samples.tsv line 7, column 'matched_normal': set on a sample of type plasma; "
     "only tumour samples have a matched normal (found 'NORM')"),
    ("normal-on-germline", cell("samples", 3, "matched_normal", "NORM"),
     "config/samples.tsv line 3, column 'matched_normal': set on a sample of type germline; "
     "only tumour samples have a matched normal (found 'NORM')"),
    ("tumour-not-tumour", cell("samples", 7, "tumour_sample", "NORM"),
     "config/samples.tsv line 7, column 'tumour_sample': 'NORM' is of type normal (line 6), "
     "not tumour"),
    ("tumour-other-patient", cell("samples", 7, "patient", "P9"),
     "config/samples.tsv line 7, column 'tumour_sample': 'TUM' is of patient 'P4' (line 5), "
     "not 'P9'"),
    ("tumour-on-normal", cell("samples", 6, "tumour_sample", "TUM"),
     "config/samples.tsv line 6, column 'tumour_sample': set on a sample of type normal; "
     "only plasma samples have a tumour sample (found 'TUM')"),
    # units.tsv, one row against the schema
    ("unit-dot", cell("units", 3, "unit", "L.2"),
     f"config/units.tsv line 3, column 'unit': 'L.2' {IDENTIFIER_HINT}"),
    ("unit-empty", cell("units", 3, "unit", ""),
     "config/units.tsv line 3, column 'unit': empty, but a value is required"),
    ("fq1-empty", cell("units", 4, "fq1", ""),
     "config/units.tsv line 4, column 'fq1': empty, but a value is required"),
    ("umi-one-read", cell("units", 6, "umi", "8M142T"),
     f"config/units.tsv line 6, column 'umi': '8M142T' {UMI_HINT}"),
    ("umi-bad-op", cell("units", 6, "umi", "8X142T 8X142T"),
     f"config/units.tsv line 6, column 'umi': '8X142T 8X142T' {UMI_HINT}"),
    ("umi-plus-not-last", cell("units", 6, "umi", "+T8M +T"),
     f"config/units.tsv line 6, column 'umi': '+T8M +T' {UMI_HINT}"),
    ("umi-zero-length", cell("units", 6, "umi", "0M+T 0M+T"),
     f"config/units.tsv line 6, column 'umi': '0M+T 0M+T' {UMI_HINT}"),
    ("umi-comma", cell("units", 6, "umi", "8M142T,8M142T"),
     f"config/units.tsv line 6, column 'umi': '8M142T,8M142T' {UMI_HINT}"),
    ("umi-lowercase", cell("units", 6, "umi", "8m+t 8m+t"),
     f"config/units.tsv line 6, column 'umi': '8m+t 8m+t' {UMI_HINT}"),
    # units.tsv, across rows and against samples.tsv
    ("duplicate-unit", cell("units", 3, "unit", "L001"),
     "config/units.tsv line 3, column 'unit': duplicate unit 'L001' of sample 'KID' "
     "(first on line 2)"),
    ("unit-of-unknown-sample", cell("units", 5, "sample", "NOBODY"),
     "config/units.tsv line 5, column 'sample': 'NOBODY' is not a sample in "
     "config/samples.tsv"),
    ("sample-without-units", drop_unit(5),
     "config/samples.tsv line 4, column 'sample': sample 'MUM' has no units in "
     "config/units.tsv"),
    # FASTQ files
    ("fq1-is-fq2", cell("units", 4, "fq2", "reads/DAD_L001_R1.fastq.gz"),
     "config/units.tsv line 4, column 'fq2': same file as fq1: reads/DAD_L001_R1.fastq.gz"),
    ("fq1-is-fq2-other-spelling", cell("units", 4, "fq2", "./reads/../reads/DAD_L001_R1.fastq.gz"),
     "config/units.tsv line 4, column 'fq2': same file as fq1: "
     "./reads/../reads/DAD_L001_R1.fastq.gz"),
    ("fastq-used-twice", cell("units", 5, "fq1", "reads/KID_L001_R1.fastq.gz"),
     "config/units.tsv line 5, column 'fq1': reads/KID_L001_R1.fastq.gz is already used on "
     "line 2, column 'fq1'"),
    ("fastq-used-twice-other-column", cell("units", 3, "fq2", "reads/KID_L001_R2.fastq.gz"),
     "config/units.tsv line 3, column 'fq2': reads/KID_L001_R2.fastq.gz is already used on "
     "line 2, column 'fq2'"),
    ("fastq-missing", cell("units", 3, "fq1", "reads/x_R1.fastq.gz"),
     "config/units.tsv line 3, column 'fq1': file not found: reads/x_R1.fastq.gz "
     "(relative to {base})"),
    ("fastq-missing-absolute", cell("units", 3, "fq2", "/nonexistent/x_R2.fastq.gz"),
     "config/units.tsv line 3, column 'fq2': file not found: /nonexistent/x_R2.fastq.gz"),
    ("fastq-empty", cells(fastq_file("empty.fastq.gz", b""),
                          cell("units", 7, "fq2", "reads/empty.fastq.gz")),
     "config/units.tsv line 7, column 'fq2': empty file: reads/empty.fastq.gz "
     "(relative to {base})"),
    ("fastq-empty-plain", cells(fastq_file("empty.fastq", b""),
                                cell("units", 7, "fq2", "reads/empty.fastq")),
     "config/units.tsv line 7, column 'fq2': empty file: reads/empty.fastq "
     "(relative to {base})"),
    ("fastq-gz-not-gzip", cells(fastq_file("plain.fastq.gz", FASTQ_RECORD),
                                cell("units", 2, "fq1", "reads/plain.fastq.gz")),
     "config/units.tsv line 2, column 'fq1': not gzip-compressed, although the name ends "
     "in .gz: reads/plain.fastq.gz (relative to {base})"),
    ("fastq-directory", cells(fastq_file("dir.fastq.gz", None),
                              cell("units", 2, "fq1", "reads/dir.fastq.gz")),
     "config/units.tsv line 2, column 'fq1': a directory, not a file: reads/dir.fastq.gz "
     "(relative to {base})"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [pytest.param(mutation, expected, id=name) for name, mutation, expected in FAULTS],
)
def test_fault_names_file_line_column_and_problem(
    workdir: Path, mutation: Mutation, expected: str
) -> None:
    _setup(workdir, mutation)
    assert _load_error() == expected.format(base=workdir)


def test_fastq_unreadable(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _setup(workdir)
    target = workdir / "reads" / "MUM_L001_R2.fastq.gz"
    real_open = Path.open

    def fake_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == target:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", fake_open)
    assert _load_error() == (
        "config/units.tsv line 5, column 'fq2': cannot read file (Permission denied): "
        f"reads/MUM_L001_R2.fastq.gz (relative to {workdir})"
    )


def test_file_checks_can_be_skipped(workdir: Path) -> None:
    _setup(workdir, cell("units", 3, "fq1", "reads/x_R1.fastq.gz"))
    cohort = load_sheets(SAMPLES, UNITS, check_files=False)
    assert cohort.units[1].fq1 == workdir / "reads" / "x_R1.fastq.gz"
    # The same file named twice is a sheet fault: it is found without looking at the disk.
    _setup(workdir, cell("units", 5, "fq1", "reads/KID_L001_R1.fastq.gz"))
    assert "line 5, column 'fq1'" in _load_error(check_files=False)


# --- whole-file faults ----------------------------------------------------------------------


def _write(root: Path, samples_text: str | None = None, units_text: str | None = None) -> None:
    _setup(root)
    if samples_text is not None:
        (root / SAMPLES).write_text(samples_text, encoding="utf-8")
    if units_text is not None:
        (root / UNITS).write_text(units_text, encoding="utf-8")


def _valid_text(sheet: str) -> str:
    return Path(SAMPLES if sheet == "samples" else UNITS).read_text(encoding="utf-8")


def test_missing_column(workdir: Path) -> None:
    _setup(workdir, units_columns=("sample", "unit", "fq1"))
    assert _load_error() == (
        "config/units.tsv: missing column 'fq2' (columns are: sample, unit, fq1)"
    )


def test_missing_panel_column(workdir: Path) -> None:
    columns = tuple(c for c in sheets.SAMPLES_COLUMNS if c != "panel")
    _setup(workdir, samples_columns=columns)
    assert _load_error() == (
        f"config/samples.tsv: missing column 'panel' (columns are: {', '.join(columns)})"
    )


def test_unknown_column_suggests_the_right_one(workdir: Path) -> None:
    _setup(workdir)
    text = _valid_text("samples").replace("\tsex\t", "\tsexx\t", 1)
    (workdir / SAMPLES).write_text(text)
    assert _load_error() == (
        "config/samples.tsv: unknown column 'sexx' (allowed columns are: "
        f"{', '.join(sheets.SAMPLES_COLUMNS)}); did you mean 'sex'?"
    )


def test_unknown_column(workdir: Path) -> None:
    _setup(workdir, units_columns=(*sheets.UNITS_COLUMNS, "notes"))
    assert _load_error() == (
        "config/units.tsv: unknown column 'notes' (allowed columns are: sample, unit, fq1, "
        "fq2, umi)"
    )


def test_unknown_column_is_found_before_a_missing_one(workdir: Path) -> None:
    _setup(workdir)
    text = _valid_text("units").replace("\tumi", "").replace("fq2", "fq_2", 1)
    (workdir / UNITS).write_text(text)
    assert _load_error().startswith("config/units.tsv: unknown column 'fq_2'")


def test_duplicate_and_unnamed_columns(workdir: Path) -> None:
    _setup(workdir, units_columns=("sample", "unit", "fq1", "fq2", "fq1"))
    assert _load_error() == "config/units.tsv line 1: column 'fq1' appears twice in the header"
    _setup(workdir, units_columns=("sample", "unit", "fq1", "fq2", ""))
    assert _load_error() == "config/units.tsv line 1: column 5 of the header has no name"


@pytest.mark.parametrize("sheet", ["samples", "units"])
def test_header_only_is_an_error(workdir: Path, sheet: str) -> None:
    _setup(workdir)
    path = workdir / (SAMPLES if sheet == "samples" else UNITS)
    path.write_text(path.read_text().splitlines()[0] + "\n# no rows yet\n\n")
    expected = f"config/{sheet}.tsv: no {sheet}: the sheet has a header but no rows"
    assert _load_error() == expected


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(workdir: Path, text: str) -> None:
    _write(workdir, units_text=text)
    assert _load_error() == (
        "config/units.tsv: empty file (expected a tab-separated header with the columns "
        "sample, unit, fq1, fq2)"
    )


def test_sheet_not_found(workdir: Path) -> None:
    _setup(workdir)
    (workdir / SAMPLES).unlink()
    assert _load_error() == "config/samples.tsv: file not found"


def test_wrong_number_of_fields(workdir: Path) -> None:
    _setup(workdir)
    lines = _valid_text("samples").splitlines()
    lines[2] = lines[2] + "\textra"
    (workdir / SAMPLES).write_text("\n".join(lines) + "\n")
    columns = len(sheets.SAMPLES_COLUMNS)  # the test writes every column
    assert _load_error() == (
        f"config/samples.tsv line 3: {columns + 1} tab-separated fields, but the header has "
        f"{columns}"
    )


def test_spaces_instead_of_tabs(workdir: Path) -> None:
    _setup(workdir)
    (workdir / UNITS).write_text(_valid_text("units").replace("\t", "  "))
    assert _load_error().startswith("config/units.tsv: unknown column 'sample  unit  fq1")


def test_not_utf8(workdir: Path) -> None:
    _setup(workdir)
    data = _valid_text("samples").encode() + "X\tP\tmale\tgermline\twgs".encode("latin-1")
    data += "\t\tM\xfcller\t\t\t\t\t\t\t\n".encode("latin-1")
    (workdir / SAMPLES).write_bytes(data)
    assert _load_error() == "config/samples.tsv line 8: not UTF-8 text"


def test_layout_of_both_sheets_is_checked_before_rows(workdir: Path) -> None:
    _setup(workdir, cell("samples", 2, "sex", "M"), units_columns=("sample", "unit", "fq1"))
    assert _load_error().startswith("config/units.tsv: missing column 'fq2'")


# --- valid sheets ---------------------------------------------------------------------------


def test_valid_sheets_load_into_records(workdir: Path) -> None:
    _setup(workdir)
    cohort = load_sheets(SAMPLES, UNITS)
    assert list(cohort.samples) == ["KID", "DAD", "MUM", "TUM", "NORM", "CFDNA"]
    assert cohort.samples["KID"] == Sample(
        sample="KID",
        patient="P1",
        sex="female",
        type="germline",
        assay="wgs",
        panel=None,
        family="FAM1",
        father="DAD",
        mother="MUM",
        matched_normal=None,
        tumour_sample=None,
        collection_date=datetime.date(2024, 1, 15),
        purity=None,
    )
    assert cohort.samples["TUM"] == Sample(
        sample="TUM",
        patient="P4",
        sex="male",
        type="tumour",
        assay="panel",
        panel="TSO500",
        matched_normal="NORM",
        collection_date=datetime.date(2024, 2, 29),
        purity=0.6,
    )
    assert cohort.samples["CFDNA"].purity == 1.0
    assert cohort.samples["CFDNA"].tumour_sample == "TUM"
    assert len(cohort.units) == 7
    assert cohort.units[0] == Unit(
        sample="KID",
        unit="L001",
        fq1=workdir / "reads" / "KID_L001_R1.fastq.gz",
        fq2=workdir / "reads" / "KID_L001_R2.fastq.gz",
        umi=None,
    )
    assert cohort.units[4].umi == "8M142T 8M142T"
    assert all(unit.fq1.is_absolute() and unit.fq2.is_absolute() for unit in cohort.units)


def test_cohort_methods(workdir: Path) -> None:
    _setup(workdir)
    cohort = load_sheets(SAMPLES, UNITS)
    assert [u.unit for u in cohort.units_of("KID")] == ["L001", "L002"]
    assert cohort.units_of("TUM") == (cohort.units[4],)
    with pytest.raises(KeyError):
        cohort.units_of("NOBODY")
    assert cohort.families() == {"FAM1": ("KID", "DAD", "MUM")}
    assert [s.sample for s in cohort.by_type("germline")] == ["KID", "DAD", "MUM"]
    assert [s.sample for s in cohort.by_type("plasma")] == ["CFDNA"]
    with pytest.raises(ValueError, match="tumor"):
        cohort.by_type("tumor")
    assert sheets.summary(cohort) == (
        "6 samples (3 germline, 1 tumour, 1 normal, 1 plasma), 7 units"
    )


def test_records_are_frozen(workdir: Path) -> None:
    _setup(workdir)
    cohort = load_sheets(SAMPLES, UNITS)
    with pytest.raises(AttributeError):
        cohort.samples["KID"].sex = "male"  # type: ignore[misc]


@pytest.mark.parametrize("umi", ["8M142T 8M142T", "8M+T 8M+T", "+T +T", "8M2S+T 8B+T", "150T 150T"])
def test_valid_umi_read_structures(workdir: Path, umi: str) -> None:
    _setup(workdir, cell("units", 6, "umi", umi))
    assert load_sheets(SAMPLES, UNITS).units[4].umi == umi


def test_optional_columns_absent_or_empty_are_the_same(workdir: Path) -> None:
    def plain(samples: Rows, units: Rows, root: Path) -> None:
        for row in samples:
            for column in sheets.SAMPLES_OPTIONAL_COLUMNS:
                row.pop(column, None)
        for row in units:
            row.pop("umi")

    _setup(workdir, plain)
    assert "\tpurity" in _valid_text("samples")
    with_empty_cells = load_sheets(SAMPLES, UNITS)
    _setup(
        workdir,
        plain,
        samples_columns=sheets.SAMPLES_REQUIRED_COLUMNS,
        units_columns=sheets.UNITS_REQUIRED_COLUMNS,
    )
    assert "\tpurity" not in _valid_text("samples")
    assert "\tumi" not in _valid_text("units")
    without_columns = load_sheets(SAMPLES, UNITS)
    assert with_empty_cells == without_columns
    assert all(s.family is None and s.purity is None for s in without_columns.samples.values())
    assert all(u.umi is None for u in without_columns.units)


def test_some_optional_columns_in_any_order(workdir: Path) -> None:
    columns = ("purity", "sample", "assay", "panel", "type", "sex", "patient", "matched_normal")

    def strip(samples: Rows, units: Rows, root: Path) -> None:
        del samples[:3]
        del units[:4]
        samples[2].pop("tumour_sample")

    _setup(workdir, strip, samples_columns=columns)
    cohort = load_sheets(SAMPLES, UNITS)
    assert list(cohort.samples) == ["TUM", "NORM", "CFDNA"]
    assert cohort.samples["TUM"].purity == 0.6
    assert cohort.families() == {}


def test_comments_blank_lines_keep_file_line_numbers(workdir: Path) -> None:
    _setup(workdir, cell("samples", 4, "sex", "Male"))
    lines = _valid_text("samples").splitlines()
    lines[2:2] = ["# the parents", "", "\t\t"]
    text = "# samples of run 42\n\n" + "\n".join(lines) + "\n\n"
    (workdir / SAMPLES).write_text(text)
    # The MUM row was line 4; two lines above the header and three above it make it line 9.
    assert _load_error() == (
        "config/samples.tsv line 9, column 'sex': 'Male' is not one of female, male, unknown"
    )


def test_hash_inside_a_cell_is_a_value(workdir: Path) -> None:
    def hash_path(samples: Rows, units: Rows, root: Path) -> None:
        (root / "reads" / "run#2").mkdir()
        target = root / "reads" / "run#2" / "x_R1.fastq.gz"
        target.write_bytes(gzip.compress(FASTQ_RECORD))
        units[0]["fq1"] = "reads/run#2/x_R1.fastq.gz"

    _setup(workdir, hash_path)
    assert load_sheets(SAMPLES, UNITS).units[0].fq1.parent.name == "run#2"


def test_crlf_and_byte_order_mark(workdir: Path) -> None:
    _setup(workdir)
    for name in (SAMPLES, UNITS):
        text = Path(name).read_text()
        Path(name).write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    cohort = load_sheets(SAMPLES, UNITS)
    assert cohort.units[0].fq2.name == "KID_L001_R2.fastq.gz"
    assert next(iter(cohort.samples)) == "KID"


def test_cells_are_text(workdir: Path) -> None:
    """No number or NA guessing: '007' stays '007', 'NA' stays 'NA'."""
    _setup(
        workdir, cells(cell("samples", 3, "patient", "007"), cell("samples", 4, "patient", "NA"))
    )
    cohort = load_sheets(SAMPLES, UNITS)
    assert cohort.samples["DAD"].patient == "007"
    assert cohort.samples["MUM"].patient == "NA"


@pytest.mark.parametrize("path", ["reads/x.fastq.gz ", "reads/a\rb.fastq.gz"])
def test_invisible_characters_in_paths_are_shown(workdir: Path, path: str) -> None:
    _setup(workdir, cell("units", 2, "fq1", path))
    assert _load_error() == (
        f"config/units.tsv line 2, column 'fq1': file not found: {path!r} (relative to {workdir})"
    )


def test_quotes_are_not_special(workdir: Path) -> None:
    _setup(workdir, cell("samples", 2, "sample", '"KID"'))
    assert _load_error().startswith(
        "config/samples.tsv line 2, column 'sample': '\"KID\"' is not a valid identifier"
    )


# --- FASTQ path resolution ------------------------------------------------------------------


def test_relative_fastq_paths_resolve_against_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    samples, units = tmp_path / SAMPLES, tmp_path / UNITS
    # Relative to the working directory, not to the sheet's directory.
    with pytest.raises(SheetError, match=r"file not found: reads/KID_L001_R1\.fastq\.gz"):
        load_sheets(samples, units)
    assert str(elsewhere) in _error_of(samples, units)
    monkeypatch.chdir(tmp_path)
    assert load_sheets(samples, units).units[0].fq1 == tmp_path / "reads/KID_L001_R1.fastq.gz"


def _error_of(samples: Path, units: Path) -> str:
    with pytest.raises(SheetError) as info:
        load_sheets(samples, units)
    return str(info.value)


def test_base_dir_overrides_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _setup(tmp_path)
    monkeypatch.chdir(tmp_path / "config")
    cohort = load_sheets("samples.tsv", "units.tsv", base_dir=tmp_path)
    assert cohort.units[0].fq1 == tmp_path / "reads" / "KID_L001_R1.fastq.gz"
    # A relative base_dir is taken relative to the working directory.
    cohort = load_sheets("samples.tsv", "units.tsv", base_dir=Path(".."))
    assert cohort.units[0].fq1.is_absolute()
    assert cohort.units[0].fq1.resolve() == tmp_path / "reads" / "KID_L001_R1.fastq.gz"


def test_absolute_fastq_paths_are_kept(workdir: Path) -> None:
    absolute = str(workdir / "reads" / "KID_L001_R1.fastq.gz")
    _setup(workdir, cell("units", 2, "fq1", absolute))
    cohort = load_sheets(SAMPLES, UNITS, base_dir=Path("/somewhere/else"), check_files=False)
    assert cohort.units[0].fq1 == Path(absolute)
    assert cohort.units[0].fq2 == Path("/somewhere/else/reads/KID_L001_R2.fastq.gz")


# --- schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "required", "optional"),
    [
        ("samples", sheets.SAMPLES_REQUIRED_COLUMNS, sheets.SAMPLES_OPTIONAL_COLUMNS),
        ("units", sheets.UNITS_REQUIRED_COLUMNS, sheets.UNITS_OPTIONAL_COLUMNS),
    ],
)
def test_schema_matches_column_constants(
    name: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert tuple(schema["properties"]) == required + optional
    assert set(schema["required"]) <= set(required)
    assert schema["additionalProperties"] is False
    assert all("description" in prop for prop in schema["properties"].values())


def test_schema_enums_match_constants() -> None:
    properties = load_schema("samples")["properties"]
    assert tuple(properties["sex"]["enum"]) == sheets.SEXES
    assert tuple(properties["type"]["enum"]) == sheets.SAMPLE_TYPES
    assert tuple(properties["assay"]["enum"]) == sheets.ASSAYS


def test_load_schema_finds_files_and_returns_copies() -> None:
    assert Path(sheets.__file__).resolve().parents[1] / "schemas" == SCHEMA_DIR
    assert (SCHEMA_DIR / "samples.schema.yaml").is_file()
    first = load_schema("units")
    first["properties"].clear()
    assert load_schema("units.schema.yaml")["properties"]
    with pytest.raises(FileNotFoundError):
        load_schema("no-such")


# --- command line ---------------------------------------------------------------------------


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="genomflow")
    sheets.add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_check_prints_summary(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _setup(workdir)
    assert _cli(["sheets", "check", "--samples", SAMPLES, "--units", UNITS]) == 0
    assert capsys.readouterr().out == (
        "config/samples.tsv, config/units.tsv: 6 samples (3 germline, 1 tumour, 1 normal, "
        "1 plasma), 7 units\n"
    )


def test_cli_check_lets_sheet_errors_through(workdir: Path) -> None:
    _setup(workdir, cell("samples", 4, "sex", "Male"))
    with pytest.raises(SheetError, match=r"line 4, column 'sex'"):
        _cli(["sheets", "check", "--samples", SAMPLES, "--units", UNITS])
    # The FASTQ files can be left unchecked, or looked up elsewhere.
    _setup(workdir, cell("units", 3, "fq1", "reads/x_R1.fastq.gz"))
    argv = ["sheets", "check", "--samples", SAMPLES, "--units", UNITS]
    assert _cli([*argv, "--no-check-files"]) == 0
    with pytest.raises(SheetError, match="relative to /nowhere"):
        _cli([*argv, "--base-dir", "/nowhere"])


def test_genomflow_main_reports_sheet_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from genomflow import cli

    # Only this module's sub-command, so that the test does not depend on the others.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("genomflow.sheets",))
    _setup(workdir, cell("samples", 4, "sex", "Male"))
    argv = ["sheets", "check", "--samples", SAMPLES, "--units", UNITS]
    assert cli.main(argv) == 2
    assert capsys.readouterr().err == (
        "genomflow: error: config/samples.tsv line 4, column 'sex': 'Male' is not one of "
        "female, male, unknown\n"
    )
    _setup(workdir)
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.endswith(
        ": 6 samples (3 germline, 1 tumour, 1 normal, 1 plasma), 7 units\n"
    )


# --- issue #14: impossible families and values, names too long, unpaired reads --------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            cells(cell("samples", 2, "sex", "male"), cell("samples", 3, "father", "KID")),
            "config/samples.tsv line 3, column 'father': circular pedigree: KID's father is "
            "DAD, DAD's father is KID; a sample cannot be its own ancestor",
        ),
        (
            cells(cell("samples", 3, "mother", "MUM"), cell("samples", 4, "sex", "unknown"),
                  cell("samples", 4, "father", "DAD"), cell("samples", 3, "sex", "unknown")),
            "circular pedigree",
        ),
        (
            cell("samples", 2, "purity", "0.5"),
            "config/samples.tsv line 2, column 'purity': set on a sample of type germline "
            "(found 0.5)",
        ),
        (
            cell("samples", 6, "purity", "0.5"),
            "config/samples.tsv line 6, column 'purity': set on a sample of type normal",
        ),
        (
            cell("samples", 5, "collection_date", "2099-01-01"),
            "config/samples.tsv line 5, column 'collection_date': 2099-01-01 is in the future",
        ),
    ],
    ids=["father-cycle", "longer-cycle", "purity-germline", "purity-normal", "future-date"],
)  # fmt: skip
def test_impossible_families_and_values(workdir: Path, mutate: Mutation, message: str) -> None:
    _setup(workdir, mutate)
    assert message in _load_error()


def _rename_sample(old: str, new: str) -> Mutation:
    def mutate(samples: Rows, units: Rows, root: Path) -> None:
        for row in (*samples, *units):
            for column, value in row.items():
                if value == old and column in ("sample", "father", "mother", "matched_normal"):
                    row[column] = new

    return mutate


def test_sample_id_too_long_for_file_names(workdir: Path) -> None:
    long_name = "D" * (sheets.MAX_NAME_LENGTH + 1)
    _setup(workdir, _rename_sample("DAD", long_name))
    assert _load_error() == (
        f"config/samples.tsv line 3, column 'sample': {len(long_name)} characters, too long "
        f"for the file names the pipeline writes (at most {sheets.MAX_NAME_LENGTH})"
    )


def test_sample_and_unit_ids_too_long_together(workdir: Path) -> None:
    _setup(workdir, cell("units", 4, "unit", "U" * (sheets.MAX_NAME_LENGTH - 2)))
    assert "config/units.tsv line 4, column 'unit': sample and unit ids have" in _load_error()


def test_longest_accepted_name_fits_every_output_file_name(workdir: Path) -> None:
    """The longest accepted id, in every file name the rules write, fits the file system."""
    import re

    from tests.conftest import REPO

    names = set()
    for rules in (REPO / "workflow" / "rules").glob("*.smk"):
        for literal in re.findall(
            r'"([^"\n]*\{(?:sample|unit|group)\}[^"\n]*)"', rules.read_text()
        ):
            names.update(part for part in literal.split("/") if "{" in part)
    assert names, "no output names found in workflow/rules"
    longest = "x" * sheets.MAX_NAME_LENGTH
    for name in names:
        filled = re.sub(r"\{(sample|group)\}", longest, name).replace("{unit}", "")
        filled = re.sub(r"\{[^}]*\}", "", filled)
        temporary = f".{filled}.4194304.tmp"  # genomflow.atomic's temporary name
        assert len(temporary.encode()) <= sheets.FILE_NAME_MAX, name


def test_reads_check_finds_unpaired_fastq(workdir: Path) -> None:
    def unpaired(samples: Rows, units: Rows, root: Path) -> None:
        (root / units[2]["fq2"]).write_bytes(gzip.compress(FASTQ_RECORD * 2))

    _setup(workdir, unpaired)
    assert load_sheets(SAMPLES, UNITS) is not None  # the layout alone is fine
    message = _load_error(check_reads=True)
    assert message.startswith("config/units.tsv line 4, column 'fq2': ")
    assert "reads/DAD_L001_R1.fastq.gz has 1 reads but " in message


# --- rare disease: hpo and affected ----------------------------------------------------------


def test_hpo_terms_and_affected_default(workdir: Path) -> None:
    _setup(workdir, cell("samples", 2, "hpo", "HP:0001250; HP:0001263"))
    cohort = load_sheets(SAMPLES, UNITS)
    assert cohort.samples["KID"].hpo == ("HP:0001250", "HP:0001263")
    assert cohort.samples["KID"].affected == "yes"  # HPO terms: affected unless stated
    assert cohort.samples["DAD"].hpo == ()
    assert cohort.samples["DAD"].affected == "unknown"


def test_affected_stated(workdir: Path) -> None:
    _setup(
        workdir,
        cells(
            cell("samples", 2, "hpo", "HP:0001250"),
            cell("samples", 2, "affected", "unknown"),
            cell("samples", 3, "affected", "no"),
            cell("samples", 4, "affected", "yes"),
        ),
    )
    cohort = load_sheets(SAMPLES, UNITS)
    assert cohort.samples["KID"].affected == "unknown"
    assert cohort.samples["DAD"].affected == "no"
    assert cohort.samples["MUM"].affected == "yes"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (
            "HP:0001250;HP:9999999",
            "column 'hpo': HP:9999999 is not a term of the HPO (release hp/releases/",
        ),
        (
            "HP:0000057",
            "column 'hpo': HP:0000057 (obsolete Clitoromegaly) is obsolete; replaced by "
            "HP:0008665 (Clitoral hypertrophy)",
        ),
        ("HP:0001250;HP:0001250", "column 'hpo': HP:0001250 is listed twice"),
        ("HP:12345", "column 'hpo': 'HP:12345' is not a valid list of HPO term ids"),
        ("seizures", "column 'hpo': 'seizures' is not a valid list of HPO term ids"),
    ],
)
def test_bad_hpo_terms_name_the_row(workdir: Path, value: str, problem: str) -> None:
    _setup(workdir, cell("samples", 3, "hpo", value))
    message = _load_error()
    assert message.startswith(f"{SAMPLES} line 3, ")
    assert problem in message


def test_bad_affected(workdir: Path) -> None:
    _setup(workdir, cell("samples", 2, "affected", "Yes"))
    assert _load_error() == (
        f"{SAMPLES} line 2, column 'affected': 'Yes' is not one of yes, no, unknown"
    )


def test_hpo_only_on_germline_samples(workdir: Path) -> None:
    _setup(workdir, cell("samples", 5, "hpo", "HP:0001250"))
    assert _load_error() == (
        f"{SAMPLES} line 5, column 'hpo': must be empty when type is not germline "
        "(found 'HP:0001250')"
    )


def test_family_with_phenotype_data_but_no_affected_member(workdir: Path) -> None:
    _setup(
        workdir, cells(cell("samples", 3, "affected", "no"), cell("samples", 4, "affected", "no"))
    )
    assert _load_error() == (
        f"{SAMPLES} line 3, column 'affected': family FAM1 has phenotype data but no affected "
        "member (affected is 'no' here); rare-disease ranking needs a proband with affected yes "
        "(or hpo terms)"
    )


# --- diagnosis (trial matching, #20) --------------------------------------------------------


@pytest.mark.parametrize("code", ["LUAD", "C34.1", "ORPHA:558", "Lung adenocarcinoma"])
def test_a_diagnosis_code_or_term_is_carried_into_the_record(workdir: Path, code: str) -> None:
    _setup(workdir, cell("samples", 5, "diagnosis", code))
    cohort = load_sheets(SAMPLES, UNITS)
    assert cohort.samples["TUM"].diagnosis == code
    assert cohort.samples["KID"].diagnosis is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("lung cancer, seen by Dr Svensson", "is not a valid diagnosis code or term"),
        ("C34.1 19121212-1212", "holds what looks like a personal identity number"),
        ("C" * 101, "is too long"),
    ],
)
def test_a_diagnosis_that_is_a_note_or_identifies_someone_is_refused(
    workdir: Path, value: str, problem: str
) -> None:
    _setup(workdir, cell("samples", 5, "diagnosis", value))
    message = _load_error()
    assert message.startswith("config/samples.tsv line 5, column 'diagnosis': "), message
    assert problem in message, message
