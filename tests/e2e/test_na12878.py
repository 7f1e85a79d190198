"""End to end on real data: NA12878 reads over 12 kb of chr22 against GIAB truth.

The data are read from ../shared/data (never copied into the repository). Under CI=true a
missing data set is a failure, not a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genomflow.germline_evaluate import compare
from tests.conftest import REPO, SHARED_DATA, snakemake, write_config

pytestmark = pytest.mark.e2e

DATA = SHARED_DATA / "na12878-chr22-tiny"
SAMPLE = "NA12878"


@pytest.fixture(scope="module")
def data() -> Path:
    if not DATA.is_dir():
        message = f"real-data test set not found: {DATA}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return DATA


@pytest.fixture(scope="module")
def run(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("na12878")
    (workdir / "samples.tsv").write_text(
        f"sample\tpatient\tsex\ttype\tassay\tpanel\n{SAMPLE}\tGIAB-HG001\tfemale\tgermline\twgs\t\n"
    )
    reads = data / "reads"
    (workdir / "units.tsv").write_text(
        "sample\tunit\tfq1\tfq2\n"
        f"{SAMPLE}\tHiSeqX\t{reads}/NA12878.chr22.tiny_R1.fastq.gz"
        f"\t{reads}/NA12878.chr22.tiny_R2.fastq.gz\n"
    )
    config = write_config(
        workdir,
        {
            "samples": str(workdir / "samples.tsv"),
            "units": str(workdir / "units.tsv"),
            "reference": {"fasta": str(data / "ref" / "q.fa")},
        },
    )
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def test_all_giab_snvs_called_with_the_right_genotype(run: Path, data: Path) -> None:
    evaluation = compare(
        data / "truth" / "NA12878.chr22.tiny.giab.clean.vcf.gz",
        run / "results" / "samples" / SAMPLE / f"{SAMPLE}.germline.vcf.gz",
        data / "ref" / "q.fa",
        truth_sample=SAMPLE,
    )
    print(f"\n{evaluation.table()}")
    snv = evaluation.snv
    assert snv.tp + snv.fn == 14  # the truth set: 14 heterozygous SNVs
    assert snv.fn == 0, snv.false_negatives
    assert snv.gt_concordant == 14, snv.genotype_mismatches
