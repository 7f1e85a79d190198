"""Somatic calling on data our own simulator did not make: ART reads of real human sequence,
and real NA12878 reads.

* ART (art_illumina's empirical HiSeq profiles) on 225 kb of hg19 chr20
  (../shared/data/hg19-chr20-225kb), tumour of nested clones against its normal, in three
  scenarios (``genomflow.simulate.art.SCENARIOS``): genome depth with overlapping mates,
  a deeper and noisier genome without overlap, and panel depth down to VAF 1%;
* real reads (../shared/data/na12878-chr22-tiny, 38x over 12 kb): the pairs split into two
  halves, a "normal" and a "tumour" of the same person. Unchanged, every somatic call is false;
  with SNVs spiked into the tumour half's reads (real errors and qualities kept), recall is
  measured on real reads.

Each run goes through the whole pipeline (trim, align, duplicates, pileup, classifier).
"""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from genomflow.simulate.art import NORMAL, SCENARIOS, TUMOUR, generate_art_somatic
from genomflow.simulate.spike import SpikedPair, spiked_pair
from genomflow.somatic.evaluate import SomaticEvaluation, evaluate_files
from tests.conftest import SHARED_DATA, somatic_pair_run

pytestmark = pytest.mark.e2e

CHR20 = SHARED_DATA / "hg19-chr20-225kb" / "ref" / "chr20_59776001_60001000.fa"
NA12878 = SHARED_DATA / "na12878-chr22-tiny"


def pair_rows(tumour: tuple[Path, Path], normal: tuple[Path, Path]) -> list[dict[str, str]]:
    return [
        {"sample": TUMOUR, "patient": "PAT-A", "type": "tumour", "matched_normal": NORMAL,
         "purity": "0.8", "fq1": str(tumour[0]), "fq2": str(tumour[1])},
        {"sample": NORMAL, "patient": "PAT-A", "type": "normal", "fq1": str(normal[0]),
         "fq2": str(normal[1])},
    ]  # fmt: skip


def somatic_vcf(run: Path) -> Path:
    return run / "results" / "samples" / TUMOUR / f"{TUMOUR}.somatic.vcf.gz"


def report(name: str, result: SomaticEvaluation) -> None:
    print(f"\n{name}\n{result.table()}")
    for low, high in ((0.15, 1.01), (0.08, 0.15), (0.05, 0.08), (0.0, 0.05)):
        print(f"  SNV recall at VAF {low}-{high}: {result.recall(low, high, 'snv')}")


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def art(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, SomaticEvaluation]:
    name = str(request.param)
    data = generate_art_somatic(
        CHR20, SCENARIOS[name], tmp_path_factory.mktemp(f"art-{name}"), seed=3
    )
    out = data.reference.parent
    reads = {
        s: (out / f"reads/{s}_R1.fastq.gz", out / f"reads/{s}_R2.fastq.gz")
        for s in (TUMOUR, NORMAL)
    }
    run = somatic_pair_run(
        tmp_path_factory.mktemp(f"art-run-{name}"), data.reference,
        pair_rows(reads[TUMOUR], reads[NORMAL]), [TUMOUR],
    )  # fmt: skip
    result = evaluate_files(
        out / "truth/somatic.vcf.gz", somatic_vcf(run), TUMOUR, out / "truth/germline.vcf.gz"
    )
    report(f"ART {name}", result)
    return name, result


def test_art_recall_and_precision(art: tuple[str, SomaticEvaluation]) -> None:
    name, result = art
    details = result.to_dict()
    assert result.precision is not None and result.precision >= 0.95, details["false_positives"]
    high = result.recall(min_vaf=0.15, cls="snv")
    assert high is not None and high >= 0.95, details["false_negatives"]
    middle = result.recall(min_vaf=0.08, max_vaf=0.15, cls="snv")
    # 30x with overlapping mates counts each fragment once: about 25 fragments a base, so a
    # 8-12% variant has no more than one supporting fragment about a quarter of the time.
    assert middle is not None and middle >= (0.6 if name == "hsxt-30x-overlap" else 0.85), name
    assert len(result.false_positives_by("germline")) == 0
    if name == "hs25-1000x-deep":
        low = result.recall(max_vaf=0.05, cls="snv")
        assert low is not None and low >= 0.85


@pytest.fixture(scope="module")
def real_pair(tmp_path_factory: pytest.TempPathFactory) -> SpikedPair:
    return spiked_pair(
        NA12878 / "ref/q.fa",
        (
            NA12878 / "reads/NA12878.chr22.tiny_R1.fastq.gz",
            NA12878 / "reads/NA12878.chr22.tiny_R2.fastq.gz",
        ),
        NA12878 / "truth/NA12878.chr22.tiny.giab.clean.vcf.gz",
        tmp_path_factory.mktemp("na12878-spiked"),
        count=20,
        vafs=(0.5, 0.35, 0.25),
    )


def passed(vcf: Path) -> list[tuple[str, int, str, str]]:
    with pysam.VariantFile(str(vcf)) as reader:
        return [
            (r.chrom, r.pos, r.ref, (r.alts or ("",))[0])
            for r in reader
            if list(r.filter) == ["PASS"]
        ]


def test_real_reads_of_one_person_against_themselves_give_no_somatic_call(
    tmp_path_factory: pytest.TempPathFactory, real_pair: SpikedPair
) -> None:
    halves = real_pair.reference.parent
    unchanged = (halves / "half1_R1.fastq.gz", halves / "half1_R2.fastq.gz")
    run = somatic_pair_run(
        tmp_path_factory.mktemp("na12878-null"), real_pair.reference,
        pair_rows(unchanged, real_pair.normal), [TUMOUR],
    )  # fmt: skip
    assert passed(somatic_vcf(run)) == []
    # The person's own heterozygous SNVs (GIAB) were candidates and are called germline (one
    # with a single alt read in a shallow half is weak evidence and NormalLOD instead).
    with pysam.VariantFile(str(somatic_vcf(run))) as reader:
        filtered = {r.pos: set(r.filter) for r in reader}
    with pysam.VariantFile(str(NA12878 / "truth/NA12878.chr22.tiny.giab.clean.vcf.gz")) as truth:
        known = [r.pos for r in truth]
    germline = [pos for pos in known if "Germline" in filtered.get(pos, ())]
    assert len(germline) >= 12, filtered


def test_snvs_spiked_into_real_reads_are_found(
    tmp_path_factory: pytest.TempPathFactory, real_pair: SpikedPair
) -> None:
    run = somatic_pair_run(
        tmp_path_factory.mktemp("na12878-spiked-run"), real_pair.reference,
        pair_rows(real_pair.tumour, real_pair.normal), [TUMOUR],
    )  # fmt: skip
    result = evaluate_files(real_pair.truth, somatic_vcf(run), TUMOUR)
    report("NA12878 halves, SNVs spiked into one (about 19x each)", result)
    details = result.to_dict()
    # About 19x in each half, and a normal of 6-10 reads at some sites cannot rule out a
    # germline variant (NormalLOD): recall is bounded by depth, not by the data's errors.
    assert (result.recall(cls="snv") or 0) >= 0.6, details["false_negatives"]
    assert len(result.false_positives) <= 1, details["false_positives"]
