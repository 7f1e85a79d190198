"""``genomflow ctdna monitor``: the result contract and bad input (never a silent zero)."""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.ctdna import counts, monitor, simulate
from genomflow.ctdna.counts import Locus
from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema

CONTRACT = (
    "sample",
    "tumour_fraction",
    "ci_low",
    "ci_high",
    "p_value",
    "detected",
    "status",
    "informative_molecules",
    "mutant_molecules",
    "loci_used",
    "loci_excluded",
    "lod95",
)
CONTIGS = {"chr1": 30_000, "chr2": 12_000}
FAST = ["--null-simulations", "300", "--lod-simulations", "100"]


class Data:
    """A genome, a tumour VCF (16 PASS loci on chr1, 3 PASS and 1 filtered on chr2) and a
    plasma BAM at T = 2% with reads on chr1 only."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.fasta = folder / "ref.fa"
        self.sequences = simulate.write_reference(self.fasta, CONTIGS, seed=3)
        chr1 = simulate.choose_loci({"chr1": self.sequences["chr1"]}, 16, seed=4)
        chr2 = simulate.choose_loci({"chr2": self.sequences["chr2"]}, 4, seed=5)
        self.loci = chr1 + chr2[1:]
        self.vcf = folder / "tumour.vcf.gz"
        simulate.write_tumour_vcf(self.vcf, self.loci, self.sequences, filtered=chr2[:1])
        self.bam = folder / "plasma.bam"
        spec = simulate.PlasmaSpec(0.02, molecules_per_locus=300, mean_family_size=1.0)
        self.stats = simulate.write_plasma_bam(self.bam, self.sequences, chr1, spec, sample="PL1")


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Data:
    return Data(tmp_path_factory.mktemp("ctdna"))


def run(data: Data, out: Path, *extra: str, bam: Path | None = None) -> dict[str, object]:
    args = ["ctdna", "monitor", "--variants", str(data.vcf), "--bam", str(bam or data.bam)]
    args += ["--reference", str(data.fasta), "--sample", "PL1", "--out", str(out), *FAST]
    assert main([*args, *extra]) == 0
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_result_has_the_contract_fields_and_detects(data: Data, tmp_path: Path) -> None:
    result = run(data, tmp_path / "PL1.ctdna.json")
    assert set(CONTRACT) <= set(result)
    assert set(CONTRACT) <= set(load_schema("ctdna")["required"])
    assert result["sample"] == "PL1" and result["tumour_sample"] == "TUMOUR"
    assert result["status"] == "detected" and result["detected"] is True
    assert result["reason"] is None
    t, low, high = result["tumour_fraction"], result["ci_low"], result["ci_high"]
    assert isinstance(t, float) and isinstance(low, float) and isinstance(high, float)
    assert low < 0.02 < high and low < t < high
    assert result["purity"] == 0.6 and result["purity_source"] == "vcf_header"
    # 16 loci on chr1 are used; chr2's 3 PASS loci have no reads; its 4th is not PASS.
    assert result["loci_used"] == 16
    assert result["vcf_records_not_pass"] == 1
    excluded = result["loci_excluded"]
    assert isinstance(excluded, list) and len(excluded) == 3
    assert all(x["locus"].startswith("chr2:") for x in excluded)
    assert all("no informative molecules" in x["reason"] for x in excluded)
    assert result["informative_molecules"] == sum(
        r["ref"] + r["alt"]
        for r in result["loci"]  # type: ignore[attr-defined]
    )
    assert result["background"]["source"] == "off_target"  # type: ignore[index]


def test_the_compiled_snv_count_changes_no_byte_of_the_result(
    data: Data, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The result with the compiled SNV count equals the one counted read by read in Python."""
    assert counts._snvcount is not None
    run(data, tmp_path / "compiled.json")
    monkeypatch.setattr(counts, "_snvcount", None)
    run(data, tmp_path / "python.json")
    assert (tmp_path / "compiled.json").read_bytes() == (tmp_path / "python.json").read_bytes()


def test_purity_argument_and_estimated_purity(data: Data, tmp_path: Path) -> None:
    given = run(data, tmp_path / "a.json", "--purity", "0.3")
    assert given["purity_source"] == "argument"
    assert given["loci"][0]["f"] == 1.0  # type: ignore[index]  # 0.3 / 0.3
    no_header = tmp_path / "nopurity.vcf.gz"
    simulate.write_tumour_vcf(no_header, data.loci, data.sequences, purity=None)
    result = monitor.monitor(
        monitor.MonitorInputs(no_header, data.bam, data.fasta, "PL1"),
        monitor.MonitorSettings(),
    )
    assert result["purity_source"] == "estimated" and result["purity"] == pytest.approx(0.6)


def test_vcf_without_somatic_variants_is_indeterminate(data: Data, tmp_path: Path) -> None:
    vcf = tmp_path / "none.vcf.gz"
    simulate.write_tumour_vcf(vcf, [], data.sequences, filtered=data.loci[:3])
    out = tmp_path / "none.json"
    args = ["ctdna", "monitor", "--variants", str(vcf), "--bam", str(data.bam)]
    assert main([*args, "--reference", str(data.fasta), "--sample", "PL1", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["status"] == "indeterminate" and result["detected"] is False
    assert result["reason"] == "no somatic variants in VCF (3 records, none PASS)"
    assert result["tumour_fraction"] is None and result["lod95"] is None
    assert result["loci_used"] == 0


def test_loci_outside_the_bam_are_indeterminate_not_zero(data: Data, tmp_path: Path) -> None:
    vcf = tmp_path / "chr2.vcf.gz"
    simulate.write_tumour_vcf(vcf, data.loci[16:], data.sequences)
    result = monitor.monitor(
        monitor.MonitorInputs(vcf, data.bam, data.fasta, "PL1"), monitor.MonitorSettings()
    )
    assert result["status"] == "indeterminate"
    assert result["reason"].startswith("no informative molecules at any of the 3 loci")
    assert result["tumour_fraction"] is None
    assert len(result["loci_excluded"]) == 3


def test_contig_missing_from_the_bam_header_is_excluded(data: Data, tmp_path: Path) -> None:
    chr1_only = tmp_path / "chr1only.bam"
    with pysam.AlignmentFile(str(data.bam)) as source:
        header = source.header.to_dict()
        header["SQ"] = [sq for sq in header["SQ"] if sq["SN"] == "chr1"]
        with pysam.AlignmentFile(str(chr1_only), "wb", header=header) as out:
            for read in source.fetch("chr1"):
                out.write(pysam.AlignedSegment.fromstring(read.to_string(), out.header))
    pysam.index(str(chr1_only))
    result = monitor.monitor(
        monitor.MonitorInputs(data.vcf, chr1_only, data.fasta, "PL1"),
        monitor.MonitorSettings(),
    )
    reasons = {x["reason"] for x in result["loci_excluded"]}
    assert reasons == {"contig chr2 is not in the BAM header"}
    assert result["status"] == "detected"


def test_bam_of_another_reference_is_an_error_naming_both(data: Data, tmp_path: Path) -> None:
    other = tmp_path / "other.fa"
    simulate.write_reference(other, {"chr1": 31_000, "chr2": 12_000}, seed=3)
    with pytest.raises(GenomflowError) as raised:
        monitor.monitor(
            monitor.MonitorInputs(data.vcf, data.bam, other, "PL1"), monitor.MonitorSettings()
        )
    message = str(raised.value)
    assert str(data.bam) in message and str(other) in message
    assert "contig chr1 is 30000 bp in the BAM and 31000 bp in the FASTA" in message


def test_md5_mismatch_is_an_error(data: Data, tmp_path: Path) -> None:
    tagged = tmp_path / "md5.bam"
    with pysam.AlignmentFile(str(data.bam)) as source:
        header = source.header.to_dict()
        for sq in header["SQ"]:
            sq["M5"] = "0" * 32
        with pysam.AlignmentFile(str(tagged), "wb", header=header) as out:
            for read in source.fetch("chr1", 0, 2000):
                out.write(pysam.AlignedSegment.fromstring(read.to_string(), out.header))
    pysam.index(str(tagged))
    with pytest.raises(GenomflowError, match=r"has MD5 0{32} in the BAM"):
        monitor.monitor(
            monitor.MonitorInputs(data.vcf, tagged, data.fasta, "PL1"), monitor.MonitorSettings()
        )


def test_matching_md5_from_the_sequence_dictionary_passes(data: Data, tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_bytes(data.fasta.read_bytes())
    pysam.faidx(str(fasta))
    pysam.dict("-o", str(tmp_path / "ref.dict"), str(fasta))
    md5 = monitor.dictionary_md5(fasta)
    assert set(md5) == {"chr1", "chr2"}
    tagged = tmp_path / "md5ok.bam"
    with pysam.AlignmentFile(str(data.bam)) as source:
        header = source.header.to_dict()
        for sq in header["SQ"]:
            sq["M5"] = md5[sq["SN"]]
        with pysam.AlignmentFile(str(tagged), "wb", header=header) as out:
            for read in source.fetch("chr1"):
                out.write(pysam.AlignedSegment.fromstring(read.to_string(), out.header))
    pysam.index(str(tagged))
    result = monitor.monitor(
        monitor.MonitorInputs(data.vcf, tagged, fasta, "PL1"), monitor.MonitorSettings()
    )
    assert result["status"] == "detected"


def test_unreadable_or_unindexed_bam_is_an_error(data: Data, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bam"
    garbage.write_bytes(b"this is not a BAM file at all")
    out = tmp_path / "x.json"
    args = ["ctdna", "monitor", "--variants", str(data.vcf), "--reference", str(data.fasta)]
    args += ["--sample", "PL1", "--out", str(out)]
    assert main([*args, "--bam", str(garbage)]) == 2
    assert not out.exists()
    with pytest.raises(GenomflowError, match="cannot read the BAM"):
        monitor.open_alignments(garbage, data.fasta)
    unindexed = tmp_path / "unindexed.bam"
    unindexed.write_bytes(data.bam.read_bytes())
    with pytest.raises(GenomflowError, match="has no index"):
        monitor.open_alignments(unindexed, data.fasta)
    with pytest.raises(GenomflowError, match="BAM not found"):
        monitor.open_alignments(tmp_path / "missing.bam", data.fasta)


def test_vcf_of_another_build_is_an_error(data: Data, tmp_path: Path) -> None:
    wrong = [
        Locus(x.chrom, x.pos, "A" if x.ref != "A" else "C", x.alt if x.alt != "A" else "G", 0.3)
        for x in data.loci[:16]
    ]
    wrong = [x if x.ref != x.alt else Locus(x.chrom, x.pos, x.ref, "T", 0.3) for x in wrong]
    vcf = tmp_path / "wrong.vcf.gz"
    simulate.write_tumour_vcf(vcf, wrong, data.sequences)
    with pytest.raises(GenomflowError, match="REF differs from the reference at 16 of 16 loci"):
        monitor.monitor(
            monitor.MonitorInputs(vcf, data.bam, data.fasta, "PL1"), monitor.MonitorSettings()
        )


def test_unreadable_vcf_is_an_error(data: Data, tmp_path: Path) -> None:
    bad = tmp_path / "bad.vcf.gz"
    bad.write_text("not a vcf\n")
    with pytest.raises(GenomflowError, match="cannot read the somatic VCF"):
        monitor.read_tumour_vcf(bad)
    with pytest.raises(GenomflowError, match="somatic VCF not found"):
        monitor.read_tumour_vcf(tmp_path / "missing.vcf.gz")
    with pytest.raises(GenomflowError, match="no sample 'X' in the VCF"):
        monitor.read_tumour_vcf(data.vcf, "X")


def test_panel_of_normals_and_normal_vcf(data: Data, tmp_path: Path) -> None:
    pon = tmp_path / "pon.tsv"
    rows = ["chrom\tpos\tref\talt\talt_count\tdepth\tnormal"]
    for i, locus in enumerate(data.loci[:16]):
        alt_count = 40 if i == 0 else 1
        rows.append(f"{locus.chrom}\t{locus.pos}\t{locus.ref}\t{locus.alt}\t{alt_count}\t3000\tN1")
    sequence = data.sequences["chr1"]
    for pos in range(200, 3000, 7):
        ref = sequence[pos - 1]
        alt = "A" if ref != "A" else "G"
        rows.append(f"chr1\t{pos}\t{ref}\t{alt}\t{pos % 3}\t3000\tN1")
    pon.write_text("\n".join(rows) + "\n")
    header = pysam.VariantHeader()
    for name, length in CONTIGS.items():
        header.contigs.add(name, length=length)
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_sample("NORMAL")
    normal = tmp_path / "normal.vcf"
    germline = data.loci[5]
    with pysam.VariantFile(str(normal), "w", header=header) as vcf:
        record = vcf.new_record(
            contig=germline.chrom, start=germline.start, alleles=(germline.ref, germline.alt)
        )
        record.samples["NORMAL"]["GT"] = (0, 1)
        vcf.write(record)
    result = run(data, tmp_path / "pon.json", "--background", str(pon), "--normal-vcf", str(normal))
    assert result["background"]["source"] == "panel_of_normals"  # type: ignore[index]
    reasons = {x["locus"]: x["reason"] for x in result["loci_excluded"]}  # type: ignore[attr-defined]
    assert reasons[data.loci[0].key].startswith("noisy in the panel of normals")
    assert reasons[germline.key] == "germline in the matched normal (normal.vcf)"
    assert result["loci_used"] == 14
    sources = {row["background_source"] for row in result["loci"]}  # type: ignore[attr-defined]
    assert sources == {"pon_locus"}
    assert result["status"] == "detected"


def test_results_are_validated_before_writing(tmp_path: Path) -> None:
    with pytest.raises(GenomflowError, match="invalid ctDNA result"):
        monitor.write_result(tmp_path / "x.json", {"sample": "PL1"})
    assert not (tmp_path / "x.json").exists()


def test_sample_that_is_not_the_bams_read_group_is_refused(
    data: Data, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "PL2.ctdna.json"
    args = ["ctdna", "monitor", "--variants", str(data.vcf), "--bam", str(data.bam)]
    args += ["--reference", str(data.fasta), "--sample", "PL2", "--out", str(out), *FAST]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert "sample PL1 (@RG SM), not of --sample PL2" in error and "--force-sample" in error
    assert not out.exists()
    assert main([*args, "--force-sample"]) == 0
    assert json.loads(out.read_text())["sample"] == "PL2"


@pytest.mark.parametrize("which", ["variants", "bam", "reference"])
def test_out_equal_to_an_input_is_refused(
    data: Data, tmp_path: Path, which: str, capsys: pytest.CaptureFixture[str]
) -> None:
    copies = {}
    for name, path in (("variants", data.vcf), ("bam", data.bam), ("reference", data.fasta)):
        copies[name] = tmp_path / path.name
        copies[name].write_bytes(path.read_bytes())
    for suffix in (".tbi", ".bai", ".fai"):
        for path in (data.vcf, data.bam, data.fasta):
            index = path.with_name(path.name + suffix)
            if index.exists():
                (tmp_path / index.name).write_bytes(index.read_bytes())
    before = copies[which].read_bytes()
    args = ["ctdna", "monitor", "--variants", str(copies["variants"]), "--bam"]
    args += [str(copies["bam"]), "--reference", str(copies["reference"]), "--sample", "PL1"]
    assert main([*args, "--out", str(copies[which]), *FAST]) == 2
    assert f"is the input {copies[which]}" in capsys.readouterr().err
    assert copies[which].read_bytes() == before


def corrupt_in_the_middle(bam: Path, folder: Path) -> Path:
    """A copy of ``bam`` (and its index) with 300 bytes scrambled half-way through."""
    data = bytearray(bam.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 300] = bytes((b * 7 + 13) % 256 for b in data[middle : middle + 300])
    bad = folder / "corrupt.bam"
    bad.write_bytes(bytes(data))
    (folder / "corrupt.bam.bai").write_bytes(bam.with_name(bam.name + ".bai").read_bytes())
    return bad


def test_a_bam_corrupt_in_the_middle_is_a_clear_error_in_every_command(
    data: Data, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = corrupt_in_the_middle(data.bam, tmp_path)
    targets = tmp_path / "targets.bed"
    targets.write_text("chr1\t0\t30000\n")
    monitor_args = ["--variants", str(data.vcf), "--bam", str(bad), "--reference"]
    monitor_args += [str(data.fasta), "--sample", "PL1", "--out", str(tmp_path / "m.json")]
    consensus_args = ["--in", str(bad), "--out", str(tmp_path / "c.bam")]
    consensus_args += ["--metrics", str(tmp_path / "c.json")]
    pon_args = ["--bams", str(bad), "--targets", str(targets), "--reference", str(data.fasta)]
    pon_args += ["--out", str(tmp_path / "pon.tsv")]
    commands = {
        "monitor": [*monitor_args, *FAST],
        "consensus": consensus_args,
        "pon": pon_args,
    }
    for command, args in commands.items():
        assert main(["ctdna", command, *args]) == 2, command
        error = capsys.readouterr().err
        assert f"{bad}: cannot read the alignments" in error, command
        assert "Traceback" not in error
    leftovers = {p.name for p in tmp_path.iterdir()} - {"corrupt.bam", "corrupt.bam.bai"}
    assert leftovers == {"targets.bed"}
