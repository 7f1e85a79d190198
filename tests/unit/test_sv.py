"""genomflow.sv: the SV plan and a sample's deliverable from its group's delly calls."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.germline import calling_groups
from genomflow.sheets import load_sheets
from genomflow.sv.deliver import deliver
from genomflow.sv.setup import setup
from tests.conftest import REPO


def group_calls(path: Path) -> Path:
    """A delly-like joint call of two samples: a DEL both carry, a 30 bp DEL, a DUP only B
    carries, and a breakend."""
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=100_000)
    for line in (
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="t">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="e">',
        '##INFO=<ID=PE,Number=1,Type=Integer,Description="p">',
        '##INFO=<ID=CIPOS,Number=2,Type=Integer,Description="c">',
        '##INFO=<ID=INSLEN,Number=1,Type=Integer,Description="i">',
        '##FILTER=<ID=LowQual,Description="l">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="g">',
        '##FORMAT=<ID=DV,Number=1,Type=Integer,Description="d">',
    ):
        header.add_line(line)
    header.add_sample("A")
    header.add_sample("B")
    rows = [
        (1000, 3200, "<DEL>", "DEL", ((0, 1), (0, 1)), "PASS"),
        (5000, 5030, "<DEL>", "DEL", ((0, 1), (0, 0)), "PASS"),
        (8000, 9000, "<DUP>", "DUP", ((0, 0), (0, 1)), "LowQual"),
        (20000, 20000, "N]chr1:500]", "BND", ((0, 1), (0, 0)), "PASS"),
    ]
    with pysam.VariantFile(str(path), "w", header=header) as out:
        for pos, end, alt, svtype, (ga, gb), filt in rows:
            record = out.new_record(
                contig="chr1", start=pos - 1, stop=end, alleles=("N", alt), filter=filt
            )
            record.info["SVTYPE"] = svtype
            record.info["PE"] = 7
            record.info["CIPOS"] = (-3, 3)
            record.samples["A"]["GT"], record.samples["B"]["GT"] = ga, gb
            record.samples["A"]["DV"] = 5
            out.write(record)
    return path


def test_sample_keeps_its_carried_svs_of_50_bp_with_svlen(tmp_path: Path) -> None:
    calls = group_calls(tmp_path / "group.vcf")
    done = deliver(calls, "A", tmp_path / "A.sv.vcf.gz")
    assert (done.kept, done.passed, done.skipped_short, done.skipped_reference) == (2, 2, 1, 1)
    with pysam.VariantFile(str(tmp_path / "A.sv.vcf.gz")) as vcf:
        assert list(vcf.header.samples) == ["A"]
        records = list(vcf)
    assert [(r.pos, r.info["SVTYPE"], r.info.get("SVLEN")) for r in records] == [
        (1000, "DEL", -2200),
        (20000, "BND", None),
    ]
    assert records[0].samples["A"]["GT"] == (0, 1) and records[0].info["PE"] == 7
    assert Path(tmp_path / "A.sv.vcf.gz.tbi").is_file()
    done = deliver(calls, "B", tmp_path / "B.sv.vcf.gz")
    with pysam.VariantFile(str(tmp_path / "B.sv.vcf.gz")) as vcf:
        assert [(r.info["SVTYPE"], list(r.filter)) for r in vcf] == [
            ("DEL", ["PASS"]),
            ("DUP", ["LowQual"]),
        ]


def test_a_sample_missing_from_the_calls_is_named(tmp_path: Path) -> None:
    calls = group_calls(tmp_path / "group.vcf")
    with pytest.raises(GenomflowError, match=f"{calls}: no sample 'C'"):
        deliver(calls, "C", tmp_path / "C.sv.vcf.gz")
    assert not (tmp_path / "C.sv.vcf.gz").exists()


def deliver_with_depth(tmp_path: Path, contig: str, mean: float) -> tuple[int, Path, Path]:
    """``sv deliver`` of sample A with a mosdepth summary of one 100 kb contig at ``mean``x:
    its exit status, the VCF it was asked to write and the summary."""
    calls = group_calls(tmp_path / "group.vcf")
    summary = tmp_path / "A.mosdepth.summary.txt"
    bases = int(100_000 * mean)
    summary.write_text(
        f"chrom\tlength\tbases\tmean\tmin\tmax\n{contig}\t100000\t{bases}\t{mean}\t0\t9\n"
        f"total\t100000\t{bases}\t{mean}\t0\t9\n"
    )
    out = tmp_path / "A.sv.vcf.gz"
    status = main(["sv", "deliver", "--calls", str(calls), "--sample", "A", "--out", str(out),
                   "--mosdepth-summary", str(summary), "--min-coverage", "10"])  # fmt: skip
    return status, out, summary


def test_a_too_shallow_sample_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = deliver_with_depth(tmp_path, "chr1", 4.0)
    assert status == 0
    assert "WARNING: A: too shallow for SV calling: mean autosomal depth 4.0x < 10x" in (
        capsys.readouterr().err
    )
    with pysam.VariantFile(str(out)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
    assert meta["sv_warning"].startswith("too shallow for SV calling")


def test_a_depth_summary_without_autosomes_is_named_not_read_as_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, summary = deliver_with_depth(tmp_path, "chrX", 30.0)
    assert status != 0
    assert f"{summary}: no autosomes among the contigs" in capsys.readouterr().err
    assert not out.exists()


def test_only_wgs_germline_samples_get_svs() -> None:
    cohort = load_sheets(REPO / "config" / "samples.tsv", REPO / "config" / "units.tsv")
    plan = setup(cohort, calling_groups(cohort))
    assert plan.groups == {"FAM001": ("RD001", "RD002", "RD003")}
    assert plan.deliverables("RD001") == [
        "results/samples/RD001/RD001.sv.vcf.gz",
        "results/samples/RD001/RD001.sv.vcf.gz.tbi",
    ]
    assert plan.deliverables("CA001N") == []


def test_svs_are_annotated_with_genes_exons_and_coding_disruption(tmp_path: Path) -> None:
    from genomflow.sv.genes import Gene, read_genes

    calls = group_calls(tmp_path / "group.vcf")
    exons = ((2000, 2500), (3000, 3500))
    gene = Gene("chr1", 2000, 9000, "G1", exons, ((2100, 2500), (3000, 3400)), "-")
    deliver(calls, "B", tmp_path / "B.sv.vcf.gz", genes=[gene])
    with pysam.VariantFile(str(tmp_path / "B.sv.vcf.gz")) as vcf:
        rows = [(r.info.get("GENES"), r.info.get("EXONS"), "CODING" in r.info) for r in vcf]
    # the DEL removes both exons (numbered 5' to 3': the gene is on the minus strand) and
    # coding bases; the DUP lies past the coding span (not disrupted)
    assert rows == [(("G1",), ("G1:exon1", "G1:exon2"), True), (("G1",), None, False)]
    models = read_genes(REPO / "resources" / "testgenome" / "genes.gff3")
    assert [g.name for g in models][:3] == ["GFC3", "GFB2", "GFA1"]
    bad = tmp_path / "bad.gff3"
    bad.write_text("not a gff\n")
    with pytest.raises(GenomflowError, match=str(bad)):
        read_genes(bad)


def test_wgs_tumours_take_their_matched_normal_and_tumour_only_is_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from genomflow.sv.setup import SvSetup

    plan = SvSetup(tumours={"T1": "N1", "T2": None})
    assert plan.calls("T1") == "results/sv/delly_call_somatic/T1.bcf"
    assert plan.somatic_alignments("T1", "bam") == [
        "results/samples/T1/T1.bam",
        "results/samples/N1/N1.bam",
    ]
    assert plan.somatic_alignments("T2", "cram") == ["results/samples/T2/T2.cram"]
    assert plan.deliverables("T2") == [
        "results/samples/T2/T2.sv.vcf.gz",
        "results/samples/T2/T2.sv.vcf.gz.tbi",
    ]
    calls = group_calls(tmp_path / "group.vcf")
    out = tmp_path / "A.sv.vcf.gz"
    assert main(["sv", "deliver", "--calls", str(calls), "--sample", "A", "--out", str(out),
                 "--somatic"]) == 0  # fmt: skip
    assert "WARNING: A: tumour-only: no matched normal" in capsys.readouterr().err
    with pysam.VariantFile(str(out)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        filters = [list(r.filter) for r in vcf]
    assert meta["sv_origin"].startswith("somatic")
    assert meta["sv_warning"].startswith("tumour-only")
    # delly's PASS calls are not somatic without a normal: FILTER Unfiltered, none PASS
    assert filters == [["Unfiltered"], ["Unfiltered"]]


def test_tumour_only_calls_filtered_against_a_panel_of_normals_keep_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = group_calls(tmp_path / "group.vcf")
    out = tmp_path / "B.sv.vcf.gz"
    assert main(["sv", "deliver", "--calls", str(calls), "--sample", "B", "--out", str(out),
                 "--somatic", "--pon", "N1,N2,N3"]) == 0  # fmt: skip
    assert "WARNING" not in capsys.readouterr().err
    with pysam.VariantFile(str(out)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        filters = [list(r.filter) for r in vcf]
    assert meta["sv_panel_of_normals"].startswith("N1,N2,N3 ")
    assert "sv_warning" not in meta
    assert filters == [["PASS"], ["LowQual"]]


def _cohort_with_wgs_normals(tmp_path: Path, normals: int) -> tuple[Path, Path]:
    """The demo sheets with RD001 a tumour-only WGS tumour and ``normals`` WGS normals."""
    samples = (REPO / "config" / "samples.tsv").read_text().splitlines()
    header = samples[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=False)) for line in samples[1:]]
    kept = [r for r in rows if r["sample"] in ("RD001", "RD002", "RD003")]
    for row in kept:
        row.update(family="", father="", mother="", hpo="")
        row["type"] = "tumour" if row["sample"] == "RD001" else "normal"
        row["purity"] = "0.9" if row["sample"] == "RD001" else ""
    kept = kept[: 1 + normals]
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("\n".join(["\t".join(header)] + [
        "\t".join(r.get(c, "") for c in header) for r in kept]) + "\n")  # fmt: skip
    units = (REPO / "config" / "units.tsv").read_text().splitlines()
    names = {r["sample"] for r in kept}
    (tmp_path / "units.tsv").write_text("\n".join(
        [units[0]] + [u for u in units[1:] if u.split("\t")[0] in names]) + "\n")  # fmt: skip
    return sheet, tmp_path / "units.tsv"


def test_a_tumour_only_wgs_tumour_gets_the_panel_of_normals_when_there_are_enough(
    tmp_path: Path,
) -> None:
    cohort = load_sheets(*_cohort_with_wgs_normals(tmp_path, 2))
    plan = setup(cohort, calling_groups(cohort), pon_min_normals=2)
    assert plan.pon == ("RD002", "RD003")
    assert plan.somatic_filter("RD001") == "RD001 RD002 RD003"
    assert plan.somatic_alignments("RD001", "bam")[1:] == [
        "results/samples/RD002/RD002.bam",
        "results/samples/RD003/RD003.bam",
    ]
    assert plan.somatic_options("RD001") == "--somatic --pon RD002,RD003"
    # the default (3) asks for more normals than the batch has: unfiltered
    plan = setup(cohort, calling_groups(cohort))
    assert plan.pon == () and plan.somatic_filter("RD001") == ""
    assert plan.somatic_options("RD001") == "--somatic"
