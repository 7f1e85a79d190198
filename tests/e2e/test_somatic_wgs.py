"""Somatic calling at genome depth, end to end on generated whole genomes.

``genomflow simulate wgs-somatic`` writes two truth sets on the test genome: a tumour/normal
pair at 30x/25x with somatic SNVs and indels at VAF 5-40% (WGS001T/WGS001N), and the bcbio
design, an in-silico mixture of two people (MIX001T: person A with 24% of person B's DNA,
against A's normal MIX001N: B's alleles absent from A are "somatic" at 12% and 24%). The
pipeline runs both to their somatic VCFs; recall by VAF band and precision are printed and
checked against the targets of issue #13.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pysam
import pytest

from genomflow.simulate.wgs_somatic import WgsSomaticSpec, generate_wgs_somatic
from genomflow.somatic.evaluate import SomaticEvaluation, evaluate_files
from genomflow.somatic.settings import (
    LOW_BASE_QUALITY,
    LOW_MAPPING_QUALITY,
    PANEL_OF_NORMALS,
    READ_POSITION,
    STRAND_BIAS,
)
from tests.conftest import TESTGENOME, somatic_pair_run

pytestmark = pytest.mark.e2e

TUMOURS = ("WGS001T", "MIX001T")
ARTEFACT_FILTERS = {
    STRAND_BIAS,
    LOW_BASE_QUALITY,
    LOW_MAPPING_QUALITY,
    READ_POSITION,
    PANEL_OF_NORMALS,
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wgs-somatic-data")
    generate_wgs_somatic(WgsSomaticSpec(), out)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    with (data / "cohort.tsv").open() as handle:
        cohort = list(csv.DictReader(handle, delimiter="\t"))
    rows = [
        {
            "sample": row["sample"],
            "patient": row["patient"],
            "type": row["type"],
            "matched_normal": row["matched_normal"],
            "purity": row["purity"],
            "fq1": str(data / row["fastq_1"]),
            "fq2": str(data / row["fastq_2"]),
        }
        for row in cohort
    ]
    workdir = tmp_path_factory.mktemp("wgs-somatic-run")
    return somatic_pair_run(workdir, TESTGENOME / "genome.fa", rows, TUMOURS)


def calls(run: Path, tumour: str) -> Path:
    return run / "results" / "samples" / tumour / f"{tumour}.somatic.vcf.gz"


@pytest.fixture(scope="module")
def evaluations(run: Path, data: Path) -> dict[str, SomaticEvaluation]:
    results = {
        tumour: evaluate_files(
            data / "truth/somatic.vcf.gz",
            calls(run, tumour),
            tumour,
            data / "truth/germline.vcf.gz",
        )
        for tumour in TUMOURS
    }
    for tumour, result in results.items():
        print(f"\n{tumour}\n{result.table()}")
        for low, high in ((0.15, 1.01), (0.08, 0.15), (0.05, 0.08)):
            print(f"  SNV recall at VAF {low}-{high}: {result.recall(low, high, 'snv')}")
    return results


@pytest.mark.parametrize("tumour", TUMOURS)
def test_snv_recall_by_vaf_band_and_precision_meet_the_targets(
    evaluations: dict[str, SomaticEvaluation], tumour: str
) -> None:
    result = evaluations[tumour]
    details = result.to_dict()
    high = result.recall(min_vaf=0.15, cls="snv")
    assert high is not None and high >= 0.90, details["false_negatives"]
    middle = result.recall(min_vaf=0.08, max_vaf=0.15, cls="snv")
    assert middle is not None and middle >= 0.70, details["false_negatives"]
    assert result.precision is not None and result.precision >= 0.95, details["false_positives"]


def test_indels_are_found_at_genome_depth(evaluations: dict[str, SomaticEvaluation]) -> None:
    # Indels in long repeats need more reads (their error rate grows with the repeat).
    for tumour in TUMOURS:
        recall = evaluations[tumour].recall(cls="indel")
        assert recall is not None and recall >= 0.65, tumour


def test_no_germline_variant_of_the_patient_is_called_somatic(
    evaluations: dict[str, SomaticEvaluation],
) -> None:
    # Tens of thousands of germline alleles at 25x normals: at most one slips through.
    for tumour in TUMOURS:
        assert len(evaluations[tumour].false_positives_by("germline")) <= 1, tumour


def test_artefact_filters_do_not_remove_true_low_depth_calls(
    run: Path, evaluations: dict[str, SomaticEvaluation]
) -> None:
    for tumour in TUMOURS:
        planted = {p.key for p in evaluations[tumour].false_negatives}
        planted |= {p.key for p in evaluations[tumour].true_positives}
        removed = []
        with pysam.VariantFile(str(calls(run, tumour))) as vcf:
            for record in vcf:
                key = (record.chrom, record.pos, record.ref, (record.alts or ("",))[0])
                if key in planted and ARTEFACT_FILTERS & set(record.filter):
                    removed.append((key, list(record.filter)))
        # 2% of the true variants at most (a planted variant can sit in a real artefact).
        assert len(removed) <= 0.02 * len(planted), removed


def test_the_learned_prior_is_the_density_of_the_planted_variants(run: Path, data: Path) -> None:
    with pysam.VariantFile(str(data / "truth/somatic.vcf.gz")) as truth:
        planted = {t: 0 for t in TUMOURS}
        for record in truth:
            for tumour in TUMOURS:
                planted[tumour] += record.samples[tumour]["GT"] == (0, 1)
    index = (run / "results/reference/genome.fa.fai").read_text().splitlines()
    genome = sum(int(line.split("\t")[1]) for line in index)
    for tumour in TUMOURS:
        with pysam.VariantFile(str(calls(run, tumour))) as vcf:
            meta = {r.key: r.value for r in vcf.header.records if r.value}
        prior = float(meta["genomflow_somatic_prior"].split(",")[0])
        density = planted[tumour] / genome
        assert 0.5 * density < prior < 1.5 * density, (tumour, prior, density)
