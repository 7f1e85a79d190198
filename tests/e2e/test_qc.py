"""End to end: QC status that catches wrong sex, sample swaps and low coverage by itself.

Two runs on the test data: the clean demo trio (``demo_qc_run``: every sample PASS) and a
faulty batch built from the demo's reads:

* the cancer panel samples ``CA001T``/``CA001N`` (tumour and normal of patient PAT-0101) and
  ``CA003N`` (normal of patient PAT-0103), with the FASTQs of the tumour ``CA001T`` and the
  other patient's normal ``CA003N`` swapped in the units sheet;
* ``SEX1``: the proband's reads (RD001, a male) declared female;
* ``LOW1``: a tenth of one lane of the proband (about 1.5x).
"""

from __future__ import annotations

import csv
import gzip
import json
import re
from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_qc_config, snakemake

pytestmark = pytest.mark.e2e

TRIO = ("RD001", "RD002", "RD003")


def read_status(run: Path) -> dict[str, dict[str, dict[str, str]]]:
    """qc_status.tsv as sample -> check -> row."""
    table: dict[str, dict[str, dict[str, str]]] = {}
    with (run / "results" / "qc" / "qc_status.tsv").open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            table.setdefault(row["sample"], {})[row["check"]] = row
    return table


def read_pairs(run: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (run / "results" / "qc" / "qc_identity" / "pairs.tsv").open(newline="") as handle:
        return {(r["sample_a"], r["sample_b"]): r for r in csv.DictReader(handle, delimiter="\t")}


# --- the clean demo batch ---------------------------------------------------------------------


def test_clean_demo_samples_pass_every_check(demo_qc_run: Path) -> None:
    status = read_status(demo_qc_run)
    assert list(status) == list(TRIO)  # sheet order
    for sample, checks in status.items():
        assert next(iter(checks)) == "overall"
        not_passing = {
            name: row["reason"] for name, row in checks.items() if row["status"] != "PASS"
        }
        assert not not_passing, (sample, not_passing)
        assert {"mean_coverage", "bases_20x", "sex", "identity"} <= set(checks)
    assert status["RD003"]["sex"]["value"].startswith("female (XX")
    assert status["RD002"]["sex"]["value"].startswith("male (XY")


def test_trio_relatedness_matches_the_pedigree(demo_qc_run: Path) -> None:
    pairs = read_pairs(demo_qc_run)
    print({k: (v["kinship"], v["observed"]) for k, v in pairs.items()})
    for child_parent in (("RD001", "RD002"), ("RD001", "RD003")):
        pair = pairs[child_parent]
        assert (pair["expected"], pair["observed"], pair["status"]) == (
            "first_degree",
            "first_degree",
            "PASS",
        )
        assert 0.177 <= float(pair["kinship"]) < 0.354
        assert float(pair["ibs0"]) == 0.0
    parents = pairs[("RD002", "RD003")]
    assert (parents["observed"], parents["status"]) == ("unrelated", "PASS")
    assert int(parents["sites"]) >= 150


def test_batch_summary_is_printed_at_the_end(demo_qc_run: Path) -> None:
    out = (demo_qc_run / "snakemake.out").read_text()
    assert "QC of batch 'e2e QC batch': 3 samples: 3 PASS, 0 WARN, 0 FAIL" in out
    summary = demo_qc_run / "results" / "qc" / "qc_status" / "summary.txt"
    assert summary.read_text().splitlines()[0] in out


def test_sample_report_carries_the_qc_status(demo_qc_run: Path) -> None:
    report = json.loads((demo_qc_run / "results/samples/RD001/RD001.report.json").read_text())
    assert report["qc"]["status"] == "pass"
    assert report["qc"]["status_source"].endswith("qc/qc_status.tsv")


def test_multiqc_has_qc_status_first_identity_and_sheet_order(demo_qc_run: Path) -> None:
    qc = demo_qc_run / "results" / "qc"
    html = (qc / "multiqc_report.html").read_text()
    assert "e2e QC batch" in html  # the title names the batch
    data = json.loads((qc / "multiqc_report_data" / "multiqc_data.json").read_text())
    ours = next(
        rows
        for rows in data["report_general_stats_data"].values()
        if any("qc_status" in row for row in rows.values())
    )
    assert list(ours) == list(TRIO)  # sheet order
    assert {s: row["qc_status"] for s, row in ours.items()} == dict.fromkeys(TRIO, "PASS")
    general = html.split('id="general_stats_table"', 1)[1].split("</table>", 1)[0]
    rows = [general.index(f'data-original-sn="{s}"') for s in TRIO]
    assert rows == sorted(rows)
    # The module sections, in report order: genomflow's QC status first, then identity.
    modules = [m.split('"')[0] for m in html.split('<div id="mqc-module-section-')[1:]]
    assert modules[:2] == ["genomflow_qc", "genomflow_identity"], modules
    assert {"fastp", "samtools", "mosdepth", "bcftools"} <= set(modules)
    for anchor in ("genomflow_qc_status_table", "genomflow_identity_heatmap"):
        assert f'id="{anchor}' in html
    table = html.split('id="genomflow_qc_status_table_table"', 1)[1].split("</table>", 1)[0]
    rows = [table.index(f'data-original-sn="{s}"') for s in TRIO]
    assert rows == sorted(rows)  # sheet order
    assert "fail &lt; 15.0x, warn &lt; 20.0x" in html  # the thresholds are shown
    # Issue #15: General Statistics has one row per sample, none per unit (RD001.L001, ...;
    # RD001 has two units), and the QC summary is shown once, not again as the module intro.
    assert sorted(set(re.findall(r'data-original-sn="([^"]+)"', general))) == sorted(TRIO)
    for rows in data["report_general_stats_data"].values():
        assert set(rows) <= set(TRIO), sorted(rows)
    assert html.count("Every metric is checked against the thresholds") == 1


# --- the minimal config: no identity sites, clinical defaults ---------------------------------


def test_minimal_config_warns_that_identity_was_not_checked(demo_run: Path) -> None:
    status = read_status(demo_run)
    for sample in TRIO:
        identity = status[sample]["identity"]
        assert identity["status"] == "WARN"
        assert "no identity SNP sites configured (reference.identity_sites)" in identity["reason"]
    # Clinical defaults: the 25x parents are below the 30x a real genome should have.
    assert status["RD002"]["mean_coverage"]["status"] == "WARN"
    assert not (demo_run / "results" / "qc" / "qc_identity").exists()


# --- the faulty batch ---------------------------------------------------------------------------

FAULTY_SAMPLES = """\
sample\tpatient\tsex\ttype\tassay\tpanel\tmatched_normal
CA001T\tPAT-0101\tfemale\ttumour\tpanel\tgf-onco-v1\tCA001N
CA001N\tPAT-0101\tfemale\tnormal\tpanel\tgf-onco-v1\t
CA003N\tPAT-0103\tfemale\tnormal\tpanel\tgf-onco-v1\t
SEX1\tPAT-C\tfemale\tgermline\twgs\t\t
LOW1\tPAT-D\tmale\tgermline\twgs\t\t
"""


def demo_fastq(units_tsv: Path) -> dict[str, list[tuple[str, str, str]]]:
    """(unit, fq1, fq2) of every sample of a units sheet."""
    units: dict[str, list[tuple[str, str, str]]] = {}
    with units_tsv.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            units.setdefault(row["sample"], []).append((row["unit"], row["fq1"], row["fq2"]))
    return units


def subsample(fq1: Path, fq2: Path, every: int, out: Path) -> tuple[Path, Path]:
    """Every ``every``-th read pair of a FASTQ pair."""
    r1, r2 = Path(f"{out}_R1.fastq.gz"), Path(f"{out}_R2.fastq.gz")
    with (
        pysam.FastxFile(str(fq1)) as in1,
        pysam.FastxFile(str(fq2)) as in2,
        gzip.open(r1, "wt", compresslevel=1) as out1,
        gzip.open(r2, "wt", compresslevel=1) as out2,
    ):
        for number, (first, second) in enumerate(zip(in1, in2, strict=True)):
            if number % every == 0:
                out1.write(f"{first}\n")
                out2.write(f"{second}\n")
    return r1, r2


@pytest.fixture(scope="module")
def faulty_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("qc-faulty")
    config = demo_qc_config(workdir, batch="faulty batch")
    demo = demo_fastq(workdir / "units.tsv")
    (unit, fq1, _), *_ = demo["RD001"]
    low = subsample(Path(fq1), Path(fq1.replace("_R1.", "_R2.")), 10, workdir / "low")
    units = {
        "CA001T": demo["CA003N"],  # swapped with CA003N
        "CA001N": demo["CA001N"],
        "CA003N": demo["CA001T"],  # swapped with CA001T
        "SEX1": demo["RD001"],
        "LOW1": [(unit, str(low[0]), str(low[1]))],
    }
    (workdir / "samples.tsv").write_text(FAULTY_SAMPLES)
    (workdir / "units.tsv").write_text(
        "sample\tunit\tfq1\tfq2\n"
        + "".join(f"{s}\t{u}\t{r1}\t{r2}\n" for s, rows in units.items() for u, r1, r2 in rows)
    )
    done = snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    (workdir / "snakemake.out").write_text(done.stdout)
    return workdir


def test_wrong_declared_sex_is_fail(faulty_run: Path) -> None:
    checks = read_status(faulty_run)["SEX1"]
    assert checks["sex"]["status"] == "FAIL"
    assert checks["sex"]["reason"].startswith("sex: declared female, coverage shows male (XY")
    assert checks["overall"]["status"] == "FAIL"
    assert checks["sex"]["reason"] in checks["overall"]["reason"]
    others = {name: row["status"] for name, row in checks.items() if name not in ("overall", "sex")}
    assert set(others.values()) == {"PASS"}, others  # it is the sex that fails


def test_swapped_tumour_and_other_patients_normal_both_fail_on_identity(faulty_run: Path) -> None:
    status = read_status(faulty_run)
    tumour, other_normal = status["CA001T"], status["CA003N"]
    assert tumour["identity"]["status"] == other_normal["identity"]["status"] == "FAIL"
    assert tumour["identity"]["reason"].startswith(
        "identity: CA001T and CA001N (both of patient PAT-0101) should be the same person but "
        "are different people (sample swap?): kinship "
    )
    assert other_normal["identity"]["reason"].startswith(
        "identity: CA001N and CA003N (of patients PAT-0101 and PAT-0103) should be unrelated "
        "but are the same person (sample swap?): kinship "
    )
    for checks in (tumour, other_normal):
        assert checks["overall"]["status"] == "FAIL"
        assert checks["identity"]["reason"] in checks["overall"]["reason"]
        assert checks["sex"]["status"] == "PASS"  # both female: only identity can tell
    assert status["CA001N"]["identity"]["status"] == "FAIL"  # the pair of both


def test_swap_shows_in_the_pairs_table(faulty_run: Path) -> None:
    pairs = read_pairs(faulty_run)
    print({k: (v["sites"], v["kinship"], v["observed"], v["status"]) for k, v in pairs.items()})
    assert pairs[("CA001T", "CA001N")]["status"] == "FAIL"
    assert pairs[("CA001N", "CA003N")]["observed"] == "identical"
    assert pairs[("CA001T", "CA003N")]["status"] == "PASS"  # the two swapped: different people
    assert pairs[("SEX1", "LOW1")]["status"] == "NA"  # too few sites at 1.5x


def test_low_coverage_sample_is_fail_on_coverage(faulty_run: Path) -> None:
    checks = read_status(faulty_run)["LOW1"]
    coverage = checks["mean_coverage"]
    assert coverage["status"] == "FAIL"
    assert float(coverage["value"]) < 3
    assert coverage["reason"].startswith("mean_coverage ")
    assert coverage["reason"].endswith("x is below the FAIL threshold 15.0x")
    assert checks["overall"]["status"] == "FAIL"
    assert checks["identity"]["status"] == "WARN"  # too few sites genotyped at 1.5x


def test_faulty_batch_summary_lists_each_fail(faulty_run: Path) -> None:
    out = (faulty_run / "snakemake.out").read_text()
    assert "QC of batch 'faulty batch': 5 samples: 0 PASS, 0 WARN, 5 FAIL" in out
    fail_lines = [line for line in out.splitlines() if line.startswith("  FAIL ")]
    assert [line.split()[1] for line in fail_lines] == [
        "CA001T:",
        "CA001N:",
        "CA003N:",
        "SEX1:",
        "LOW1:",
    ]
    assert any(line.startswith("  FAIL  SEX1: sex: declared female") for line in fail_lines)
