"""The cancer test data: panel design, planted somatic truth, fragments, determinism."""

from __future__ import annotations

import functools
import gzip
import hashlib
from pathlib import Path

import pysam

from genomflow.simulate.cancer import (
    COHORT_TSV,
    CancerData,
    SomaticVariant,
    build_cancer,
    fragment_template,
    generate_cancer,
    make_cancer_spec,
    scale_depth,
)
from genomflow.simulate.common import to_seq, to_str
from genomflow.simulate.variants import Variant, normalize_indel

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "resources" / "testcancer"
TRUTH_FILES = (
    "truth/somatic.vcf.gz",
    "truth/germline.vcf.gz",
    "truth/artefacts.vcf.gz",
    "population.vcf.gz",
    "clinvar.vcf.gz",
)


@functools.cache
def data() -> CancerData:
    return build_cancer(make_cancer_spec())


def inside(data: CancerData, variant: Variant) -> str | None:
    for target in data.targets:
        if target.contig == variant.contig and target.start <= variant.pos < target.end:
            return target.name
    return None


def test_fragment_template_applies_variants_from_the_fragment_start() -> None:
    seq = to_seq("AAAACCCCGGGGTTTT")
    snv = Variant("c", 4, "C", "T")
    assert to_str(fragment_template(seq, 2, 6, [snv])) == "AATCCC"
    assert to_str(fragment_template(seq, 4, 4, [snv])) == "TCCC"  # SNV on the first base
    deletion = Variant("c", 3, "ACCCC", "A")  # deletes 4..7
    assert to_str(fragment_template(seq, 0, 8, [deletion])) == "AAAAGGGG"
    assert to_str(fragment_template(seq, 5, 4, [deletion])) == "GGGG"  # starts inside it
    insertion = Variant("c", 7, "C", "CAT")
    assert to_str(fragment_template(seq, 6, 5, [insertion])) == "CCATG"


def test_panel_targets_exons_and_intronic_repeats_without_overlap() -> None:
    targets = data().targets
    names = [t.name for t in targets]
    assert len(names) == len(set(names)) == 32
    assert {t.gene for t in targets} == {"GFC3", "GFB2", "GFA1", "GFE5", "GFD4"}
    assert sum(t.exon.startswith("intron") for t in targets) == 4
    genes = {g.symbol: g for g in data().reference.genes}
    for target in targets:
        if target.exon.startswith("exon"):
            gene = genes[target.gene]
            exon = gene.exons_in_transcript_order()[int(target.exon[4:]) - 1]
            assert (target.start, target.end) == (exon[0] - 10, exon[1] + 10)


def test_somatic_truth_is_in_targets_by_band_and_hard_places() -> None:
    cancer = data()
    somatic = cancer.somatic
    assert {s.tumour for s in somatic} == {"CA001T", "CA002T", "CA004T", "CA005T"}
    for planted in somatic:
        target = inside(cancer, planted.variant)
        assert target is not None and target != cancer.spec.low_target, planted
        assert 0.02 <= planted.vaf <= 0.45
    first = [s for s in somatic if s.tumour == "CA001T"]
    labels = [s.variant.label for s in first]
    for context in ("missense", "synonymous", "stop_gained", "frameshift", "splice_donor"):
        assert labels.count(context) == 1, context
    assert labels.count("homopolymer") == 2 and labels.count("near_indel") == 2
    snvs = [s for s in first if s.variant.is_snv]
    assert sum(1 for s in snvs if s.vaf >= 0.1) >= 20
    assert sum(1 for s in snvs if 0.05 <= s.vaf < 0.1) >= 10


def test_planted_alleles_avoid_the_catalogue_and_germline() -> None:
    cancer = data()
    catalogue = {
        (v.contig, v.pos, v.ref, v.alt)
        for variants in cancer.base.truth.variants.values()
        for v in variants
    }
    planted = [s.variant for s in cancer.somatic] + [a for a, _ in cancer.artefacts]
    keys = [(v.contig, v.pos, v.ref, v.alt) for v in planted]
    assert len(keys) == len(set(keys))
    assert not set(keys) & catalogue
    for variant in planted:
        seq = cancer.reference.sequences[variant.contig]
        assert to_str(seq[variant.pos : variant.end]) == variant.ref
        if not variant.is_snv:  # left-normalised
            assert normalize_indel(seq, variant.pos, variant.ref, variant.alt)[:3] == (
                variant.pos,
                variant.ref,
                variant.alt,
            )


def test_msi_high_and_hypermutated_tumours() -> None:
    """CA004T: one-unit deletions at microsatellites of the panel (MSI-high); CA005T: 108
    variants, about four times CA001T's burden (issue 17)."""
    from genomflow.biomarkers.msi import MsiSettings, find_repeats

    cancer = data()
    by_tumour: dict[str, list[SomaticVariant]] = {}
    for planted in cancer.somatic:
        by_tumour.setdefault(planted.tumour, []).append(planted)
    microsatellites = [s for s in by_tumour["CA004T"] if s.variant.label == "microsatellite"]
    assert len(microsatellites) == 11
    for planted in microsatellites:
        variant = planted.variant
        seq = to_str(
            cancer.reference.sequences[variant.contig][variant.pos - 10 : variant.pos + 40]
        )
        repeats = find_repeats(seq.upper(), MsiSettings())
        # the deleted unit lies in a repeat that starts right after the anchor base
        assert any(start <= 11 < end for start, end, _ in repeats), variant
        assert len(variant.ref) - len(variant.alt) in (1, 2)
        assert 0.25 <= planted.vaf <= 0.45
    assert len(by_tumour["CA005T"]) == 108
    assert len(by_tumour["CA005T"]) >= 1.5 * len(by_tumour["CA001T"])
    assert not any(s.variant.label == "microsatellite" for s in by_tumour["CA005T"])


def test_near_indel_snvs_are_next_to_a_germline_indel_of_the_patient() -> None:
    cancer = data()
    indels = [
        g.variant
        for variants in cancer.germline["PAT-0101"].values()
        for g in variants
        if g.variant.origin == "private" and not g.variant.is_snv
    ]
    near = [s.variant for s in cancer.somatic if s.variant.label == "near_indel"]
    assert len(near) == 2
    for snv in near:
        distances = [
            min(abs(snv.pos - i.pos), abs(snv.pos - i.end))
            for i in indels
            if i.contig == snv.contig
        ]
        assert distances and min(distances) <= 15


def test_artefacts_and_private_germline() -> None:
    cancer = data()
    assert len(cancer.artefacts) == 5
    assert all(0.04 <= rate <= 0.08 for _, rate in cancer.artefacts)
    for patient in ("PAT-0101", "PAT-0102", "PAT-0103"):
        private = [
            g
            for gs in cancer.germline[patient].values()
            for g in gs
            if g.variant.origin == "private"
        ]
        assert len(private) == 5
        assert all(inside(cancer, g.variant) for g in private)


def digests(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_generation_is_deterministic_and_matches_the_committed_truth(tmp_path: Path) -> None:
    spec = scale_depth(make_cancer_spec(), 0.02)
    for name in ("a", "b"):
        generate_cancer(spec, tmp_path / name, tmp_path / name / "panels")
    first, again = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert first == again
    committed = digests(COMMITTED)
    for name in TRUTH_FILES:  # the truth does not depend on depth
        assert first[name] == committed[name], name
    shipped = (REPO / "resources/panels/gf-onco-v1.bed").read_bytes()
    assert (tmp_path / "a" / "panels" / "gf-onco-v1.bed").read_bytes() == shipped


def test_committed_reads_match_the_cohort_sheet_and_stay_small() -> None:
    rows = (COMMITTED / COHORT_TSV).read_text().splitlines()
    header = rows[0].split("\t")
    for line in rows[1:]:
        row = dict(zip(header, line.split("\t"), strict=True))
        with gzip.open(COMMITTED / row["fastq_1"], "rt") as reads:
            first = reads.readline()
            count = 1 + sum(1 for _ in reads) // 4
        assert first.startswith(f"@{row['sample']}.{row['unit']}.")
        assert count == int(row["pairs"])
    with pysam.VariantFile(str(COMMITTED / "truth/somatic.vcf.gz")) as vcf:
        assert list(vcf.header.samples) == ["CA001T", "CA002T", "CA004T", "CA005T"]
    # The budget of the shipped cancer data: 10.5 MiB with the copy-number events of #16 (the
    # amplified gene's extra reads) and the MSI-high and hypermutated tumours of #17.
    total = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert total < 11 * 1024 * 1024
