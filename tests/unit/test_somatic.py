"""The somatic classifier: each filter, its statistics, VCF in and out, the panel of normals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema
from genomflow.somatic import (
    GERMLINE,
    GERMLINE_VAF,
    LOW_ALT_READS,
    LOW_BASE_QUALITY,
    LOW_DEPTH,
    LOW_MAPPING_QUALITY,
    LOW_NORMAL_DEPTH,
    LOW_VAF,
    NORMAL_SUPPORT,
    NOT_SIGNIFICANT,
    PANEL_OF_NORMALS,
    POPULATION_AF,
    STRAND_BIAS,
    Counts,
    Evidence,
    Run,
    Thresholds,
    build_pon,
    classify,
    classify_vcf,
    germline_vaf_pvalue,
    normal_excess_pvalue,
    parse_settings,
    settings_args,
    somatic_pvalue,
    strand_bias_pvalue,
)

T = Thresholds()
CLEAN_NORMAL = Counts(100, 100, 0, 0, 200)


def tumour(ref: int, alt: int) -> Counts:
    """Balanced strands."""
    return Counts(ref - ref // 2, ref // 2, alt - alt // 2, alt // 2, ref + alt)


def filters(evidence: Evidence, thresholds: Thresholds = T) -> tuple[str, ...]:
    return classify(evidence, thresholds).filters


# --- settings --------------------------------------------------------------------------------


def test_thresholds_defaults_are_the_config_schema_defaults() -> None:
    schema = load_schema("config.schema.yaml")["properties"]["somatic"]["properties"]
    for field in dataclasses.fields(Thresholds):
        assert field.name in schema, field.name
        assert getattr(T, field.name) == schema[field.name]["default"], field.name


def test_settings_round_trip_through_the_command_line_form() -> None:
    config = {"min_vaf": 0.05, "min_alt_reads": 3, "population_vcf": "", "max_depth": 10}
    args = settings_args(config)
    assert args == "--set min_vaf=0.05 --set min_alt_reads=3"
    parsed = parse_settings(args.replace("--set ", "").split())
    assert (parsed.min_vaf, parsed.min_alt_reads) == (0.05, 3)
    assert isinstance(parsed.min_alt_reads, int)


@pytest.mark.parametrize(("pair", "message"), [("min_vafx=1", "unknown"), ("min_vaf=a", "number")])
def test_bad_settings_are_errors(pair: str, message: str) -> None:
    with pytest.raises(GenomflowError, match=message):
        parse_settings([pair])


# --- statistics ------------------------------------------------------------------------------


def test_fisher_somatic_pvalue_is_one_sided() -> None:
    assert somatic_pvalue(tumour(450, 50), CLEAN_NORMAL) < 1e-7
    # The same fraction in tumour and normal is not somatic; more in the normal even less so.
    assert somatic_pvalue(tumour(475, 25), tumour(190, 10)) > 0.3
    assert somatic_pvalue(tumour(490, 10), tumour(180, 20)) > 0.99


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


def test_germline_vaf_pvalue() -> None:
    assert germline_vaf_pvalue(tumour(200, 200)) > 0.5
    assert germline_vaf_pvalue(tumour(280, 120)) < 1e-3
    assert germline_vaf_pvalue(Counts(0, 0, 0, 0)) == 1.0


# --- classification: paired ---------------------------------------------------------------


def paired(t: Counts, n: Counts = CLEAN_NORMAL, **extra: object) -> Evidence:
    return Evidence(True, t, n, 37.0, 60.0, **extra)  # type: ignore[arg-type]


def test_clean_somatic_snv_passes_with_its_statistics() -> None:
    decision = classify(paired(tumour(450, 50)), T)
    assert decision.passed
    assert decision.somatic_p is not None and decision.somatic_p < 1e-7
    assert decision.normal_p == 1.0
    assert decision.germline_p is None


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        (paired(tumour(12, 6)), LOW_DEPTH),
        (paired(tumour(496, 4)), LOW_ALT_READS),
        (paired(tumour(990, 10)), LOW_VAF),
        (paired(Counts(250, 250, 40, 0)), STRAND_BIAS),
        (Evidence(True, tumour(450, 50), CLEAN_NORMAL, 20.0, 60.0), LOW_BASE_QUALITY),
        (Evidence(True, tumour(450, 50), CLEAN_NORMAL, 37.0, 25.0), LOW_MAPPING_QUALITY),
        (paired(tumour(450, 50), pon_normals=2), PANEL_OF_NORMALS),
        (paired(tumour(450, 50), population_af=0.01), POPULATION_AF),
        (paired(tumour(450, 50), Counts(3, 3, 0, 0)), LOW_NORMAL_DEPTH),
        (paired(tumour(475, 25), tumour(190, 10)), NOT_SIGNIFICANT),
        (paired(tumour(300, 200), tumour(100, 100)), GERMLINE),
    ],
)
def test_each_filter_fires_on_its_case(evidence: Evidence, expected: str) -> None:
    assert expected in filters(evidence)


def test_artefact_in_tumour_and_normal_is_not_somatic() -> None:
    found = filters(paired(tumour(475, 25), tumour(190, 10)))
    assert NOT_SIGNIFICANT in found and NORMAL_SUPPORT in found
    assert GERMLINE not in found


def test_germline_het_is_germline_and_not_significant() -> None:
    found = filters(paired(tumour(250, 250), tumour(100, 100)))
    assert {GERMLINE, NORMAL_SUPPORT, NOT_SIGNIFICANT} <= set(found)


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


def test_threshold_edges_are_inclusive_of_the_minimum() -> None:
    exact = paired(tumour(245, 5))  # 5 alt reads, VAF 0.02
    assert LOW_ALT_READS not in filters(exact)
    assert LOW_VAF not in filters(exact)


# --- classification: tumour-only -----------------------------------------------------------


def tumour_only(t: Counts, **extra: object) -> Evidence:
    return Evidence(True, t, None, 37.0, 60.0, **extra)  # type: ignore[arg-type]


def test_tumour_only_somatic_passes() -> None:
    decision = classify(tumour_only(tumour(350, 50)), T)
    assert decision.passed
    assert decision.somatic_p is None and decision.germline_p is not None


@pytest.mark.parametrize("counts", [tumour(200, 200), tumour(209, 191), tumour(10, 390)])
def test_tumour_only_germline_vaf(counts: Counts) -> None:
    assert GERMLINE_VAF in filters(tumour_only(counts))


def test_tumour_only_subclonal_at_depth_is_not_germline() -> None:
    assert GERMLINE_VAF not in filters(tumour_only(tumour(280, 120)))


def test_tumour_only_pon_and_population() -> None:
    assert PANEL_OF_NORMALS in filters(tumour_only(tumour(350, 50), pon_normals=3))
    assert POPULATION_AF in filters(tumour_only(tumour(350, 50), population_af=0.2))
    assert filters(tumour_only(tumour(350, 50), pon_normals=1, population_af=1e-5)) == ()


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
            i16[6], i16[10] = 37.0 * alt_reads, 60.0 * alt_reads
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


def test_classify_vcf_paired_writes_filters_format_and_purity(tmp_path: Path) -> None:
    candidates = tmp_path / "candidates.bcf"
    write_pileup(
        candidates,
        ["T1", "N1"],
        [
            (100, "A", "G", [tumour(450, 50), CLEAN_NORMAL]),  # somatic
            (200, "C", "T", [tumour(250, 250), tumour(100, 100)]),  # germline
            (300, "G", "GA", [tumour(450, 50), CLEAN_NORMAL]),  # somatic indel
            (400, "T", "C", [tumour(450, 50), CLEAN_NORMAL]),  # common SNP
        ],
    )
    population = tmp_path / "population.vcf.gz"
    sites_vcf(population, (400, "T", "C"), "AF", 0.3)
    out = tmp_path / "T1.vcf.gz"
    run = Run("T1", "N1", purity=0.8, population=population)
    summary = classify_vcf(candidates, run, T, out)
    assert (summary.candidates, summary.passed) == (4, 2)
    assert Path(f"{out}.tbi").is_file()
    written = records(out)
    assert list(written[100].filter) == ["PASS"] and written[100].info["SOMATIC"]
    assert GERMLINE in written[200].filter
    assert list(written[300].filter) == ["PASS"]
    assert list(written[400].filter) == [POPULATION_AF]
    assert written[400].info["POPAF"] == pytest.approx(0.3)
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
    classify_vcf(candidates, Run("T2", pon=pon), T, out)
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
