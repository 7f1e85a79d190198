"""The somatic classifier: each filter, the model's decisions, VCF in and out, the panel of
normals, and the settings (see test_somatic_model.py for the likelihoods themselves)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema
from genomflow.somatic.classify import (
    Counts,
    Evidence,
    classify,
    normal_excess_pvalue,
    strand_bias_pvalue,
)
from genomflow.somatic.settings import (
    EVIDENCE_SETTINGS,
    GERMLINE,
    GERMLINE_VAF,
    LOW_ALT_READS,
    LOW_BASE_QUALITY,
    LOW_DEPTH,
    LOW_MAPPING_QUALITY,
    LOW_VAF,
    NORMAL_LOD,
    NORMAL_SUPPORT,
    PANEL_OF_NORMALS,
    POPULATION_AF,
    READ_POSITION,
    STRAND_BIAS,
    WEAK_EVIDENCE,
    Thresholds,
    assay_settings,
    parse_settings,
    settings_args,
)
from genomflow.somatic.vcf import Run, build_pon, callable_bases, classify_vcf

T = Thresholds()
#: Whole-genome minimum evidence (the config's somatic.wgs defaults).
WGS = dataclasses.replace(T, min_depth=0, min_alt_reads=2, min_vaf=0.0)
CLEAN_NORMAL = Counts(100, 100, 0, 0, 200)
#: Somatic prior of a panel with a few variants, and of a quiet genome.
PANEL_PRIOR, QUIET_PRIOR = 1e-3, 1e-6


def tumour(ref: int, alt: int) -> Counts:
    """Balanced strands."""
    return Counts(ref - ref // 2, ref // 2, alt - alt // 2, alt // 2, ref + alt)


def filters(
    evidence: Evidence, thresholds: Thresholds = T, prior: float = PANEL_PRIOR
) -> tuple[str, ...]:
    return classify(evidence, thresholds, prior).filters


# --- settings --------------------------------------------------------------------------------


def test_thresholds_defaults_are_the_config_schema_defaults() -> None:
    schema = load_schema("config.schema.yaml")["properties"]["somatic"]["properties"]
    for field in dataclasses.fields(Thresholds):
        where = schema["panel"]["properties"] if field.name in EVIDENCE_SETTINGS else schema
        assert field.name in where, field.name
        assert getattr(T, field.name) == where[field.name]["default"], field.name
    for name in EVIDENCE_SETTINGS:
        assert getattr(WGS, name) == schema["wgs"]["properties"][name]["default"], name


def test_settings_round_trip_through_the_command_line_form() -> None:
    config = {"min_vaf": 0.05, "min_alt_reads": 3, "population_vcf": "", "max_depth": 10}
    args = settings_args(config)
    assert args == "--set min_vaf=0.05 --set min_alt_reads=3"
    parsed = parse_settings(args.replace("--set ", "").split())
    assert (parsed.min_vaf, parsed.min_alt_reads) == (0.05, 3)
    assert isinstance(parsed.min_alt_reads, int)


def test_each_assay_gets_its_own_minimum_evidence() -> None:
    config = {
        "min_posterior": 0.9,
        "panel": {"min_alt_reads": 5, "min_depth": 20},
        "wgs": {"min_alt_reads": 2, "min_depth": 0},
    }
    assert assay_settings(config, "wgs") == {
        "min_posterior": 0.9,
        "min_alt_reads": 2,
        "min_depth": 0,
    }
    assert "min_alt_reads=5" in settings_args(config, "panel")
    with pytest.raises(ValueError, match="unknown assay"):
        assay_settings(config, "exome")


@pytest.mark.parametrize(("pair", "message"), [("min_vafx=1", "unknown"), ("min_vaf=a", "number")])
def test_bad_settings_are_errors(pair: str, message: str) -> None:
    with pytest.raises(GenomflowError, match=message):
        parse_settings([pair])


# --- statistics of the artefact filters -------------------------------------------------------


def test_strand_bias_pvalue() -> None:
    assert strand_bias_pvalue(Counts(100, 100, 10, 10)) == pytest.approx(1.0)
    assert strand_bias_pvalue(Counts(100, 100, 20, 0)) < 1e-5


def test_normal_excess_allows_tumour_in_normal_contamination() -> None:
    # 4 alt reads of 200 in the normal of a tumour at VAF 0.4: 10% contamination explains it.
    normal = Counts(98, 98, 2, 2)
    assert normal_excess_pvalue(normal, 0.4, 0.1, 0.005) > 0.5
    # Without contamination tolerance the same reads are suspicious.
    assert normal_excess_pvalue(normal, 0.4, 0.0, 0.005) < 0.05
    assert normal_excess_pvalue(Counts(100, 100, 0, 0), 0.4, 0.0, 0.005) == 1.0


# --- classification: paired ---------------------------------------------------------------


def paired(t: Counts, n: Counts = CLEAN_NORMAL, **extra: object) -> Evidence:
    return Evidence(True, t, n, 37.0, 60.0, **extra)  # type: ignore[arg-type]


def test_clean_somatic_snv_passes_with_its_statistics() -> None:
    decision = classify(paired(tumour(450, 50)), T, PANEL_PRIOR)
    assert decision.passed
    assessment = decision.assessment
    assert assessment.tumour_lod > 50 and assessment.normal_lod is not None
    assert assessment.normal_lod > 30 and decision.posterior > 0.999
    assert assessment.germline_lod is None


def test_the_genome_depth_case_fisher_missed_is_called() -> None:
    # The site: tumour 33 ref / 8 alt, normal 14 ref / 0 alt (Fisher p > 0.01).
    evidence = Evidence(True, tumour(33, 8), Counts(7, 7, 0, 0, 14), 30.0, 60.0)
    assert filters(evidence, WGS, QUIET_PRIOR) == ()


def test_a_heterozygous_germline_variant_is_germline_even_with_a_shallow_normal() -> None:
    assert GERMLINE in filters(paired(tumour(20, 18), Counts(3, 2, 2, 2, 9)), WGS)
    assert GERMLINE in filters(paired(tumour(250, 250), tumour(100, 100)))


def test_a_normal_too_shallow_to_rule_out_germline_is_normal_lod() -> None:
    # 4 reference reads: NLOD about 1.2, below 2.2; 10 reference reads rule it out.
    assert NORMAL_LOD in filters(paired(tumour(20, 8), Counts(2, 2, 0, 0)), WGS)
    assert filters(paired(tumour(20, 8), Counts(5, 5, 0, 0)), WGS) == ()


def test_a_population_allele_needs_a_deeper_normal() -> None:
    normal = Counts(6, 6, 0, 0)
    assert filters(paired(tumour(20, 8), normal), WGS) == ()
    assert NORMAL_LOD in filters(paired(tumour(20, 8), normal, population_af=0.05), WGS)
    # A paired tumour is not filtered on the population frequency itself.
    assert POPULATION_AF not in filters(paired(tumour(450, 50), population_af=0.3))


def test_weak_evidence_depends_on_the_learned_prior() -> None:
    # Two good alt reads at 30x: enough where somatic variants are dense, not in a quiet genome.
    evidence = paired(tumour(28, 2), Counts(12, 12, 0, 0))
    assert filters(evidence, WGS, 1e-3) == ()
    assert filters(evidence, WGS, QUIET_PRIOR) == (WEAK_EVIDENCE,)
    # Four reads pass in a quiet genome too.
    assert filters(paired(tumour(26, 4), Counts(12, 12, 0, 0)), WGS, QUIET_PRIOR) == ()


def test_errors_at_low_quality_are_weak_evidence() -> None:
    evidence = Evidence(True, tumour(28, 2), Counts(12, 12, 0, 0), 12.0, 60.0)
    assert WEAK_EVIDENCE in filters(evidence, WGS, 1e-3)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (paired(tumour(12, 6)), LOW_DEPTH),
        (paired(tumour(496, 4)), LOW_ALT_READS),
        (paired(tumour(990, 10)), LOW_VAF),
        (paired(Counts(250, 250, 40, 0)), STRAND_BIAS),
        (Evidence(True, tumour(450, 50), CLEAN_NORMAL, 20.0, 60.0), LOW_BASE_QUALITY),
        (Evidence(True, tumour(450, 50), CLEAN_NORMAL, 37.0, 25.0), LOW_MAPPING_QUALITY),
        (paired(tumour(450, 50), mean_alt_read_position=2.0), READ_POSITION),
        (paired(tumour(450, 50), pon_normals=2), PANEL_OF_NORMALS),
        (paired(tumour(450, 50), Counts(3, 3, 0, 0)), NORMAL_LOD),
        (paired(tumour(475, 25), tumour(190, 10)), NORMAL_SUPPORT),
        (paired(tumour(300, 200), tumour(100, 100)), GERMLINE),
    ],
)
def test_each_filter_fires_on_its_case(evidence: Evidence, expected: str) -> None:
    assert expected in filters(evidence)


def test_artefact_in_tumour_and_normal_is_not_somatic() -> None:
    found = filters(paired(tumour(475, 25), tumour(190, 10)))
    assert NORMAL_SUPPORT in found and GERMLINE not in found


def test_contamination_tolerance_decides_normal_support() -> None:
    evidence = paired(tumour(300, 200), Counts(98, 98, 3, 3))
    assert NORMAL_SUPPORT not in filters(evidence)
    strict = dataclasses.replace(T, normal_contamination=0.0)
    assert NORMAL_SUPPORT in filters(evidence, strict)


def test_base_quality_filter_only_applies_to_snvs() -> None:
    indel = Evidence(False, tumour(450, 50), CLEAN_NORMAL, 20.0, 60.0)
    assert LOW_BASE_QUALITY not in filters(indel)


def test_a_few_alt_reads_on_one_strand_are_no_strand_bias() -> None:
    # 5 alt reads all forward: not significant at p < 0.001.
    assert STRAND_BIAS not in filters(paired(Counts(250, 250, 5, 0)))
    assert STRAND_BIAS not in filters(paired(Counts(14, 14, 3, 0), Counts(12, 12, 0, 0)), WGS)


def test_low_depth_calls_keep_clear_of_the_artefact_filters() -> None:
    # Two or three alt reads at 30x, at any read position but the very ends: no artefact filter.
    for alt_fwd, alt_rev, position in ((2, 0, 6.0), (1, 1, 25.0), (3, 0, 12.0)):
        evidence = Evidence(
            True, Counts(14, 14, alt_fwd, alt_rev), Counts(12, 12, 0, 0), 37.0, 60.0,
            mean_alt_read_position=position,
        )  # fmt: skip
        assert filters(evidence, WGS, 1e-3) == (), (alt_fwd, alt_rev, position)


def test_threshold_edges_are_inclusive_of_the_minimum() -> None:
    exact = paired(tumour(245, 5))  # 5 alt reads, VAF 0.02
    assert LOW_ALT_READS not in filters(exact)
    assert LOW_VAF not in filters(exact)


def test_indels_in_long_repeats_need_more_reads() -> None:
    plain = Evidence(False, tumour(25, 3), Counts(12, 12, 0, 0), 60.0, 60.0)
    in_repeat = dataclasses.replace(plain, repeat_length=20)
    assert filters(plain, WGS, 1e-3) == ()
    assert filters(in_repeat, WGS, 1e-3) == (WEAK_EVIDENCE,)


# --- classification: tumour-only -----------------------------------------------------------


def tumour_only(t: Counts, **extra: object) -> Evidence:
    return Evidence(True, t, None, 37.0, 60.0, **extra)  # type: ignore[arg-type]


def test_tumour_only_somatic_passes() -> None:
    decision = classify(tumour_only(tumour(350, 50)), T, PANEL_PRIOR)
    assert decision.passed
    assert decision.assessment.normal_lod is None and decision.assessment.germline_lod
    assert decision.assessment.germline_lod > 20


@pytest.mark.parametrize("counts", [tumour(200, 200), tumour(209, 191), tumour(10, 390)])
def test_tumour_only_germline_vaf(counts: Counts) -> None:
    assert GERMLINE_VAF in filters(tumour_only(counts))


def test_tumour_only_subclonal_at_depth_is_not_germline() -> None:
    assert GERMLINE_VAF not in filters(tumour_only(tumour(280, 120)))


def test_tumour_only_at_genome_depth_cannot_tell_a_40_percent_vaf_from_germline() -> None:
    assert GERMLINE_VAF in filters(tumour_only(tumour(18, 12)), WGS)
    assert GERMLINE_VAF not in filters(tumour_only(tumour(26, 4)), WGS)


def test_tumour_only_pon_and_population() -> None:
    assert PANEL_OF_NORMALS in filters(tumour_only(tumour(350, 50), pon_normals=3))
    assert POPULATION_AF in filters(tumour_only(tumour(350, 50), population_af=0.2))
    assert filters(tumour_only(tumour(350, 50), pon_normals=1, population_af=1e-5)) == ()


def test_tumour_only_population_prior_widens_the_germline_fit() -> None:
    counts = tumour(68, 32)  # VAF 0.32: 2.9 log-odds from a heterozygote (threshold 2.5)
    assert GERMLINE_VAF not in filters(tumour_only(counts))
    assert GERMLINE_VAF in filters(tumour_only(counts, population_af=0.0005))


# --- VCF in and out ---------------------------------------------------------------------------


def pileup_header(samples: list[str]) -> pysam.VariantHeader:
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=10_000)
    header.add_line('##INFO=<ID=I16,Number=16,Type=Float,Description="aux">')
    for tag in ("AD", "ADF", "ADR"):
        header.add_line(f'##FORMAT=<ID={tag},Number=R,Type=Integer,Description="{tag}">')
    header.add_line('##FORMAT=<ID=DP,Number=1,Type=Integer,Description="DP">')
    for sample in samples:
        header.add_sample(sample)
    return header


def write_pileup(
    path: Path, samples: list[str], rows: list[tuple[int, str, str, list[Counts]]]
) -> None:
    with pysam.VariantFile(str(path), "wb", header=pileup_header(samples)) as out:
        for pos, ref, alt, counts in rows:
            record = out.new_record(contig="chr1", start=pos - 1, alleles=(ref, alt))
            alt_reads = sum(c.alt for c in counts)
            i16 = [0.0] * 16
            i16[2], i16[3] = float(alt_reads), 0.0
            i16[6], i16[10], i16[14] = 37.0 * alt_reads, 60.0 * alt_reads, 25.0 * alt_reads
            record.info["I16"] = i16
            for sample, c in zip(samples, counts, strict=True):
                record.samples[sample]["AD"] = (c.ref, c.alt)
                record.samples[sample]["ADF"] = (c.ref_fwd, c.alt_fwd)
                record.samples[sample]["ADR"] = (c.ref_rev, c.alt_rev)
                record.samples[sample]["DP"] = c.total
            out.write(record)


def sites_vcf(path: Path, key: tuple[int, str, str], info: str, value: object) -> None:
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=10_000)
    header.add_line(f'##INFO=<ID={info},Number=A,Type=Float,Description="x">')
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        record = out.new_record(contig="chr1", start=key[0] - 1, alleles=(key[1], key[2]))
        record.info[info] = value
        out.write(record)
    pysam.tabix_index(str(path), preset="vcf", force=True)


def records(path: Path) -> dict[int, pysam.VariantRecord]:
    with pysam.VariantFile(str(path)) as vcf:
        return {r.pos: r for r in vcf}


def regions_bed(tmp_path: Path, *lines: str) -> Path:
    bed = tmp_path / "regions.bed"
    bed.write_text("".join(f"{line}\n" for line in lines or ("chr1\t0\t10000",)))
    return bed


def test_callable_bases_count_overlaps_once(tmp_path: Path) -> None:
    bed = regions_bed(tmp_path, "chr1\t0\t100", "chr1\t50\t150", "chr2\t10\t20\tGENE:exon1")
    assert callable_bases(bed) == 160
    bad = regions_bed(tmp_path, "chr1\tzero\t100")
    with pytest.raises(GenomflowError, match="line 1: not a BED line"):
        callable_bases(bad)


def test_classify_vcf_paired_writes_filters_format_and_purity(tmp_path: Path) -> None:
    candidates = tmp_path / "candidates.bcf"
    write_pileup(
        candidates,
        ["T1", "N1"],
        [
            (100, "A", "G", [tumour(450, 50), CLEAN_NORMAL]),  # somatic
            (200, "C", "T", [tumour(250, 250), tumour(100, 100)]),  # germline
            (300, "G", "GA", [tumour(450, 50), CLEAN_NORMAL]),  # somatic indel
            (400, "T", "C", [tumour(450, 50), Counts(8, 8, 0, 0)]),  # common SNP, shallow normal
            (500, "T", "C", [tumour(450, 50), CLEAN_NORMAL]),  # the same, deep normal
        ],
    )
    population = tmp_path / "population.vcf.gz"
    sites_vcf(population, (400, "T", "C"), "AF", 0.3)
    out = tmp_path / "T1.vcf.gz"
    run = Run("T1", "N1", purity=0.8, population=population, regions=regions_bed(tmp_path))
    summary = classify_vcf(candidates, run, T, out)
    assert (summary.candidates, summary.passed) == (5, 3)
    assert Path(f"{out}.tbi").is_file()
    written = records(out)
    assert list(written[100].filter) == ["PASS"] and written[100].info["SOMATIC"]
    assert written[100].info["TLOD"] > 50 and written[100].info["PSOM"] == pytest.approx(1.0)
    assert GERMLINE in written[200].filter and written[200].info["NLOD"] < 0
    assert list(written[300].filter) == ["PASS"]
    assert list(written[400].filter) == [NORMAL_LOD] and written[400].info["GSHIFT"] > 4
    assert written[400].info["POPAF"] == pytest.approx(0.3)
    assert list(written[500].filter) == ["PASS"]
    call = written[100].samples["T1"]
    assert call["AD"] == (450, 50) and call["AF"] == pytest.approx((0.1,)) and call["DP"] == 500
    assert written[100].samples["N1"]["GT"] == (0, 0)
    assert written[200].samples["N1"]["GT"] == (0, 1)
    with pysam.VariantFile(str(out)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        assert list(vcf.header.samples) == ["T1", "N1"]
    assert meta["tumour_purity"] == "0.8"
    assert meta["genomflow_somatic_mode"] == "paired"
    assert meta["normal_sample"] == "N1"
    # Three candidates informed the prior over 10,000 callable bases (0.0003).
    assert meta["genomflow_somatic_prior"].startswith("0.0003,learned from 3 candidates over 10000")


def test_a_fixed_prior_needs_no_regions_and_decides_weak_evidence(tmp_path: Path) -> None:
    candidates = tmp_path / "candidates.bcf"
    normal = Counts(12, 12, 0, 0)
    write_pileup(candidates, ["T1", "N1"], [(100, "A", "G", [tumour(28, 2), normal])])
    out = tmp_path / "T1.vcf.gz"
    for prior, expected in ((1e-3, ["PASS"]), (1e-6, [WEAK_EVIDENCE])):
        settings = dataclasses.replace(WGS, somatic_prior=prior)
        classify_vcf(candidates, Run("T1", "N1"), settings, out)
        assert list(records(out)[100].filter) == expected, prior


def test_learning_the_prior_needs_the_calling_regions(tmp_path: Path) -> None:
    candidates = tmp_path / "candidates.bcf"
    write_pileup(candidates, ["T1"], [(100, "A", "G", [tumour(450, 50)])])
    with pytest.raises(GenomflowError, match="--regions"):
        classify_vcf(candidates, Run("T1"), T, tmp_path / "o.vcf.gz")
    assert not list(tmp_path.glob("o.vcf.gz*"))


def test_indels_get_the_repeat_of_the_reference(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    sequence = "ACGT" * 24 + "G" + "T" * 12 + "ACGATCGATCCA" * 10
    fasta.write_text(f">chr1\n{sequence}\n")
    pysam.faidx(str(fasta))
    candidates = tmp_path / "candidates.bcf"
    evidence = [tumour(25, 3), Counts(12, 12, 0, 0)]
    write_pileup(
        candidates,
        ["T1", "N1"],
        [(97, "G", "GT", evidence), (110, "A", "AG", evidence)],  # in the homopolymer; not
    )
    out = tmp_path / "T1.vcf.gz"
    settings = dataclasses.replace(WGS, somatic_prior=1e-3)
    classify_vcf(candidates, Run("T1", "N1", reference=fasta), settings, out)
    written = records(out)
    assert written[97].info["RPT"] == 12 and written[110].info["RPT"] == 0
    assert written[97].info["ERR"] > 10 * written[110].info["ERR"]
    assert list(written[97].filter) == [WEAK_EVIDENCE] and list(written[110].filter) == ["PASS"]


def test_panel_of_normals_is_built_from_recurrent_alleles_and_filters(tmp_path: Path) -> None:
    pileup = tmp_path / "normals.bcf"
    artefact = [tumour(190, 10), tumour(140, 8), tumour(100, 0)]
    private_het = [tumour(100, 100), tumour(150, 0), tumour(100, 0)]
    write_pileup(
        pileup,
        ["N1", "N2", "N3"],
        [(100, "A", "G", artefact), (200, "C", "T", private_het)],
    )
    pon = tmp_path / "pon.vcf.gz"
    assert build_pon(pileup, T, pon) == 1
    sites = records(pon)
    assert list(sites) == [100] and sites[100].info["PON_COUNT"] == 2
    candidates = tmp_path / "t.bcf"
    write_pileup(
        candidates, ["T2"], [(100, "A", "G", [tumour(380, 20)]), (150, "A", "C", [tumour(380, 20)])]
    )
    out = tmp_path / "T2.vcf.gz"
    classify_vcf(candidates, Run("T2", pon=pon, regions=regions_bed(tmp_path)), T, out)
    written = records(out)
    assert PANEL_OF_NORMALS in written[100].filter and written[100].info["PON"] == 2
    assert list(written[150].filter) == ["PASS"]


def test_classify_cli_names_a_missing_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidates = tmp_path / "c.bcf"
    write_pileup(candidates, ["T1"], [(100, "A", "G", [tumour(450, 50)])])
    argv = ["somatic", "classify", "--candidates", str(candidates), "--tumour", "TX"]
    assert main([*argv, "--out", str(tmp_path / "o.vcf.gz")]) == 2
    assert "no sample 'TX'" in capsys.readouterr().err
