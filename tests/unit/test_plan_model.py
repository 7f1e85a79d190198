"""Planning inputs: the read model, the instruments YAML and the pending-samples sheet,
with the error messages that name the file, the line and the key or column."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from genomflow.errors import GenomflowError
from genomflow.plan.model import (
    Park,
    load_instruments,
    load_pending,
    required_read_pairs,
    schedule_dates,
)
from genomflow.schemas import load_schema

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_INSTRUMENTS = REPO / "config" / "instruments.example.yaml"
EXAMPLE_PENDING = REPO / "config" / "pending.example.tsv"

MINIMAL = """\
flowcell_types:
  fc1:
    lanes: 2
    read_pairs_per_lane: 1000000000
    cost: 5000
    run_days: 2
instruments:
  - name: seq1
    centre: north
    flowcell_types: [fc1]
    slots: [2025-03-03]
panels:
  solid: {target_size_bp: 1000000, on_target_rate: 0.5, duplication_rate: 0.0}
"""

PENDING_HEADER = "sample\tassay\tpanel\tcentre\tpriority\treceived\tdeadline\ttarget_size_bp"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def park_from(tmp_path: Path, text: str = MINIMAL) -> Park:
    return load_instruments(write(tmp_path, "instruments.yaml", text))


# --- the read model -----------------------------------------------------------------------------


def test_required_read_pairs_formula() -> None:
    # 1 Mb at 500x, 2 x 150 bp, half on target, no duplicates: 1e6 * 500 / 150
    assert required_read_pairs(1_000_000, 500, 150, 0.5, 0.0) == 3_333_334
    # duplicates cost reads: 20 % duplicates need 25 % more pairs
    assert required_read_pairs(1_000_000, 300, 150, 1.0, 0.2) == 1_250_000
    # an exact product is not rounded up by binary noise
    assert required_read_pairs(3_000_000, 100, 100, 1.0, 0.0) == 1_500_000
    with pytest.raises(ValueError, match="on_target_rate"):
        required_read_pairs(1000, 30, 150, 0.0, 0.1)
    with pytest.raises(ValueError, match="positive"):
        required_read_pairs(1000, 0, 150, 0.5, 0.1)


def test_schedule_dates_skip_exceptions() -> None:
    first, last = datetime.date(2025, 3, 3), datetime.date(2025, 3, 14)
    dates = schedule_dates(first, last, ("monday", "friday"), frozenset({first}))
    assert dates == (
        datetime.date(2025, 3, 7),
        datetime.date(2025, 3, 10),
        datetime.date(2025, 3, 14),
    )


# --- the instruments file -------------------------------------------------------------------------


def test_example_instruments_load_with_defaults() -> None:
    park = load_instruments(EXAMPLE_INSTRUMENTS)
    assert park.centres == ("north", "south")
    assert park.group_of("solid_tumour_v3") == "solid_tumour_v3+haem_myeloid_v2"
    assert park.group_of("lung_small_v1") == "lung_small_v1"
    nsx = park.instruments[0]
    assert nsx.flowcells_per_run == 2
    assert nsx.slots[:3] == (
        datetime.date(2025, 3, 3),
        datetime.date(2025, 3, 6),
        datetime.date(2025, 3, 10),
    )
    assert datetime.date(2025, 3, 18) not in park.instruments[1].slots
    assert park.flowcell_types["NovaSeqX-25B"].max_samples_per_lane == 384  # schema default


def test_minimal_instruments_get_schema_defaults(tmp_path: Path) -> None:
    park = park_from(tmp_path)
    assert (park.read_length, park.genome_size_bp, park.cross_centre) == (150, 3_100_000_000, False)
    assert park.assay_models["wgs"].depth == 30
    assert park.flowcell_types["fc1"].assays == ("wgs", "panel")
    assert park.currency == "EUR"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    lanes: 2\n", "    lanes: 0\n", "line 3, key 'flowcell_types.fc1.lanes': 0 is less"),
        ("    cost: 5000\n", "    cost: 5000\n    price: 3\n", "unknown key 'price'"),
        ("    run_days: 2\n", "", "line 2, key 'flowcell_types.fc1': 'run_days' is a required"),
        (
            "    flowcell_types: [fc1]\n",
            "    flowcell_types: [fc2]\n",
            "line 10, key 'instruments[0].flowcell_types[0]': 'fc2' is not a flowcell type",
        ),
        (
            "    slots: [2025-03-03]\n",
            "    slots: [2025-02-30]\n",
            "key 'instruments[0].slots[0]': '2025-02-30' is not a 'date'",
        ),
        ("    slots: [2025-03-03]\n", "", "key 'instruments[0]': instrument 'seq1' has no run"),
        (
            "  - name: seq1\n",
            "  - name: seq 1\n",
            "key 'instruments[0].name': 'seq 1' is not valid",
        ),
    ],
)
def test_instrument_errors_name_file_line_and_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in MINIMAL
    path = write(tmp_path, "instruments.yaml", MINIMAL.replace(old, new))
    with pytest.raises(GenomflowError) as caught:
        load_instruments(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert expected in message


def test_instrument_cross_checks(tmp_path: Path) -> None:
    twice = MINIMAL.replace(
        "instruments:\n",
        "instruments:\n"
        "  - {name: seq1, centre: south, flowcell_types: [fc1], slots: [2025-03-04]}\n",
    )
    with pytest.raises(GenomflowError, match=r"'seq1' is already the name of instruments\[0\]"):
        park_from(tmp_path, twice)
    sharing = MINIMAL + "lane_sharing:\n  - [wgs, solid]\n  - [solid]\n"
    with pytest.raises(GenomflowError, match=r"line 16, key 'lane_sharing\[1\]\[0\]'.*already"):
        park_from(tmp_path, sharing)
    unknown = MINIMAL + "lane_sharing:\n  - [wgs, lung]\n"
    with pytest.raises(GenomflowError, match="'lung' is not 'wgs' or a panel"):
        park_from(tmp_path, unknown)
    backwards = MINIMAL.replace(
        "    slots: [2025-03-03]\n",
        "    schedule: {first: 2025-03-10, last: 2025-03-03, weekdays: [monday]}\n",
    )
    with pytest.raises(GenomflowError, match=r"schedule\.last'.*before schedule\.first"):
        park_from(tmp_path, backwards)


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "instruments.yaml", "flowcell_types:\n  fc1: [\n")
    with pytest.raises(GenomflowError, match=r"instruments.yaml line \d+: not valid YAML"):
        load_instruments(path)
    with pytest.raises(GenomflowError, match="file not found"):
        load_instruments(tmp_path / "missing.yaml")


def test_schemas_have_descriptions_and_defaults() -> None:
    for name in ("instruments", "pending", "volumes"):
        schema = load_schema(name)
        assert schema["additionalProperties"] is False
        for key, prop in schema["properties"].items():
            assert "description" in prop, (name, key)


# --- the pending sheet ----------------------------------------------------------------------------


def test_example_pending_loads() -> None:
    park = load_instruments(EXAMPLE_INSTRUMENTS)
    samples = load_pending(EXAMPLE_PENDING, park)
    assert len(samples) == 36
    by_name = {s.sample: s for s in samples}
    assert by_name["S001"].read_pairs == required_read_pairs(3_100_000_000, 30, 150, 0.95, 0.08)
    assert by_name["S011"].depth == 90  # required_depth column
    haem = next(s for s in samples if s.panel == "haem_myeloid_v2")
    assert haem.read_pairs == required_read_pairs(800_000, 1000, 150, 0.65, 0.35)
    assert by_name["S036"].read_pairs == required_read_pairs(250_000, 800, 150, 0.6, 0.3)


def test_pending_defaults_and_panel_table(tmp_path: Path) -> None:
    park = park_from(tmp_path)
    path = write(tmp_path, "p.tsv", "sample\tassay\tpanel\nA\tpanel\tsolid\nB\twgs\t\n")
    a, b = load_pending(path, park)
    assert a.read_pairs == required_read_pairs(1_000_000, 500, 150, 0.5, 0.0)
    assert (a.priority, a.deadline, a.received, a.centre, a.line) == (
        "routine",
        None,
        None,
        None,
        2,
    )
    assert b.pool_key == "wgs" and a.pool_key == "solid"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("A\twgs\tsolid\t\t\t\t\t", "line 2, column 'panel': must be empty for a wgs sample"),
        ("A\tpanel\t\t\t\t\t\t", "line 2, column 'panel': missing (required for a panel"),
        ("A\texome\t\t\t\t\t\t", "line 2, column 'assay': 'exome' is not one of wgs, panel"),
        ("A\tpanel\tsolid\t\tASAP\t\t\t", "column 'priority': 'ASAP' is not one of urgent"),
        ("A\tpanel\tsolid\t\t\t\t2025-02-30\t", "column 'deadline': '2025-02-30' is not a real"),
        ("A\tpanel\tsolid\t\t\t\t\t1.5e6", "column 'target_size_bp': '1.5e6' is not a integer"),
        ("A\tpanel\tsolid\t\t\t\t\t0", "column 'target_size_bp': 0 is less than the minimum"),
        ("A\twgs\t\t\t\t\t\t5000", "column 'target_size_bp': must be empty for a wgs"),
        ("A\tpanel\tlung\t\t\t\t\t", "column 'panel': panel 'lung' is not in the panels"),
        (
            "A\tpanel\tsolid\t\t\t2025-03-05\t2025-03-01\t",
            "column 'deadline': 2025-03-01 is before the received date 2025-03-05",
        ),
        ("A B\tpanel\tsolid\t\t\t\t\t", "column 'sample': 'A B' is not valid"),
        ("A\tpanel\tsolid", "line 2: 3 tab-separated fields, but the header has 8"),
    ],
)
def test_pending_errors_name_file_line_and_column(tmp_path: Path, row: str, expected: str) -> None:
    park = park_from(tmp_path)
    path = write(tmp_path, "pending.tsv", f"{PENDING_HEADER}\n{row}\n")
    with pytest.raises(GenomflowError) as caught:
        load_pending(path, park)
    assert str(caught.value).startswith(f"{path} line")
    assert expected in str(caught.value)


def test_pending_sheet_layout_errors(tmp_path: Path) -> None:
    park = park_from(tmp_path)
    cases = {
        "sample\tassay\tcolour\nA\twgs\tred\n": "line 1: unknown column 'colour'",
        "sample\tpanel\nA\tx\n": "line 1: missing column 'assay'",
        "# only a comment\n": "empty file",
        "sample\tassay\n": "a header but no rows",
        "sample\tassay\nA\twgs\nA\twgs\n": "line 3, column 'sample': duplicate sample 'A' (first",
    }
    for text, expected in cases.items():
        path = write(tmp_path, "pending.tsv", text)
        with pytest.raises(GenomflowError, match=expected.replace("(", r"\(")):
            load_pending(path, park)


def test_example_files_are_valid_yaml_documents() -> None:
    data = yaml.safe_load(EXAMPLE_INSTRUMENTS.read_text())
    assert set(data) <= set(load_schema("instruments")["properties"])
