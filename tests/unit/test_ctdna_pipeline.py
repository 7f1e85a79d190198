"""How the pipeline plans UMI libraries and plasma monitoring (genomflow.ctdna.pipeline)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import pytest

from genomflow import paths
from genomflow.ctdna import pipeline
from genomflow.errors import GenomflowError
from genomflow.sheets import Cohort, load_sheets

SAMPLES_HEADER = "sample\tpatient\tsex\ttype\tassay\tpanel\tmatched_normal\ttumour_sample\tpurity\n"


def _cohort(tmp_path: Path, samples: list[str], units: list[tuple[str, str, str]]) -> Cohort:
    """Sheets from tab-free shorthand: samples as TSV rows, units as (sample, unit, umi)."""
    (tmp_path / "samples.tsv").write_text(SAMPLES_HEADER + "".join(row + "\n" for row in samples))
    lines = ["sample\tunit\tfq1\tfq2\tumi"]
    for sample, unit, umi in units:
        pair = []
        for read in (1, 2):
            path = tmp_path / f"{sample}_{unit}_R{read}.fastq.gz"
            path.write_bytes(gzip.compress(b"@r\nACGT\n+\nIIII\n"))
            pair.append(str(path))
        lines.append(f"{sample}\t{unit}\t{pair[0]}\t{pair[1]}\t{umi}")
    (tmp_path / "units.tsv").write_text("\n".join(lines) + "\n")
    return load_sheets(tmp_path / "samples.tsv", tmp_path / "units.tsv")


TUMOUR = "T1\tP1\tfemale\ttumour\tpanel\tgf\tN1\t\t0.7"
NORMAL = "N1\tP1\tfemale\tnormal\tpanel\tgf\t\t\t"


def _plasma(name: str, tumour: str) -> str:
    return f"{name}\tP1\tfemale\tplasma\tpanel\tgf\t\t{tumour}\t"


@pytest.mark.parametrize(
    ("structure", "expected"),
    [
        ("8M92T 8M92T", "--umi --umi_loc per_read --umi_len 8"),
        ("3M2S+T 3M2S+T", "--umi --umi_loc per_read --umi_len 3 --umi_skip 2"),
        ("+T 6M+T", "--umi --umi_loc read2 --umi_len 6"),
    ],
)
def test_fastp_moves_umis_at_the_start_of_reads(structure: str, expected: str) -> None:
    assert pipeline.fastp_umi_arguments(structure) == expected


@pytest.mark.parametrize(
    ("structure", "message"),
    [
        ("8M92T", "give one structure per read"),
        ("+T +T", "no UMI (M) segment"),
        ("10T8M+T 8M+T", "only at the start of a read"),
        ("8M+T 6M+T", "same UMI length and skip on both reads"),
        ("8X 8M+T", "not in fgbio notation"),
    ],
)
def test_structures_fastp_cannot_extract_are_rejected(structure: str, message: str) -> None:
    with pytest.raises(GenomflowError, match=re.escape(message)):
        pipeline.fastp_umi_arguments(structure)


def test_plasma_tracks_this_runs_tumour_with_its_normal_and_purity(tmp_path: Path) -> None:
    cohort = _cohort(
        tmp_path,
        [TUMOUR, NORMAL, _plasma("C1", "T1")],
        [("T1", "L1", ""), ("N1", "L1", ""), ("C1", "L1", "8M+T 8M+T"), ("C1", "L2", "8M+T 8M+T")],
    )
    setup = pipeline.setup(cohort, {}, "samples.tsv", "units.tsv")
    assert setup.structures == {"C1": "8M+T 8M+T"}
    assert setup.is_umi("C1") and not setup.is_umi("T1")
    assert setup.plasma == {
        "C1": pipeline.PlasmaPlan(
            sample="C1",
            tumour_sample="T1",
            variants="results/samples/T1/T1.somatic.vcf.gz",
            purity=0.7,
            normal_vcf="results/samples/N1/N1.germline.vcf.gz",
        )
    }


def test_a_tumour_of_an_earlier_batch_comes_from_the_config(tmp_path: Path) -> None:
    cohort = _cohort(tmp_path, [_plasma("C1", "OLD_T")], [("C1", "L1", "")])
    with pytest.raises(GenomflowError) as info:
        pipeline.setup(cohort, {}, "samples.tsv", "units.tsv")
    assert str(info.value) == (
        "samples.tsv: plasma sample 'C1': tumour_sample 'OLD_T' is neither a sample of this run "
        "nor given in the config's ctdna.tumour_variants"
    )
    missing = tmp_path / "old.vcf.gz"
    old = {"tumour_variants": [{"tumour": "OLD_T", "vcf": str(missing)}]}
    with pytest.raises(GenomflowError, match=f"'OLD_T': {re.escape(str(missing))} not found"):
        pipeline.setup(cohort, old, "s", "u")
    missing.write_bytes(b"")
    setup = pipeline.setup(cohort, old, "s", "u")
    assert setup.plasma["C1"] == pipeline.PlasmaPlan("C1", "OLD_T", str(missing), None, None)
    assert setup.structures == {}


def test_plasma_without_tumour_and_mixed_libraries_are_errors(tmp_path: Path) -> None:
    cohort = _cohort(tmp_path, [_plasma("C1", "")], [("C1", "L1", "")])
    with pytest.raises(GenomflowError, match="plasma sample 'C1' has no tumour_sample"):
        pipeline.setup(cohort, {}, "samples.tsv", "units.tsv")
    (tmp_path / "b").mkdir()
    cohort = _cohort(
        tmp_path / "b",
        [TUMOUR, NORMAL],
        [("T1", "L1", "8M+T 8M+T"), ("T1", "L2", ""), ("N1", "L1", "")],
    )
    with pytest.raises(GenomflowError, match="units of sample 'T1' have different umi read"):
        pipeline.setup(cohort, {}, "samples.tsv", "units.tsv")
    cohort = _cohort(tmp_path / "b", [TUMOUR, NORMAL], [("T1", "L1", "+T +T"), ("N1", "L1", "")])
    with pytest.raises(GenomflowError, match=re.escape("units.tsv: sample 'T1': read structure")):
        pipeline.setup(cohort, {}, "samples.tsv", "units.tsv")


def test_umi_samples_deliver_consensus_the_others_duplicate_marking() -> None:
    # One rule per output: the chooser of the deliverable's source (align.smk alignment_deliver).
    for sample, umi, fmt, source in (
        ("P1", True, "bam", "results/ctdna/genomflow_consensus/P1.bam"),
        ("P10", False, "bam", "results/align/samtools_markdup/P10.bam"),
        ("T", False, "cram", "results/align/samtools_markdup/T.cram"),
        ("P2", True, "cram", "results/ctdna/genomflow_consensus/P2.cram"),
    ):
        assert paths.deduplicated_alignment(sample, fmt, umi=umi) == source
        assert paths.index_of(source).startswith(source)
