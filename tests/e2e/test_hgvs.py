"""HGVS on transcripts (issue 17): a hand-worked table against the pipeline's snpEff rules.

Nine variants on two coding genes of the shipped test genome (resources/testgenome), worked
by hand from genome.fa and genes.gff3 (the working is in the comments of :data:`TRUTH`), are
written to a germline VCF, annotated by the real rules (``snpeff_build`` then
``snpeff_ann_germline``, through Snakemake with only those rules and the reference's allowed),
and read back as the report reads them (:func:`genomflow.report.variants.read_calls`): the
report's consequence, gene, transcript, c., p., exon and intron must equal the table exactly.

The genes (genes.gff3):

* GFB2, transcript GFT000002, **plus** strand, chr1. CDS exons (genome): 97007-97253,
  98002-98145, 99734-99849, 100541-100837, 102499-102665, 103005-103210, 103840-103994;
  7 exons (the first starts at 96965 with a 42 bp 5' UTR). c.1 is chr1:97007 (the A of
  ATG), so in exon 1 c.N is chr1:97006+N; exon 1's CDS ends at c.247 = 97253. Exon 4's CDS
  starts at c.247+144+116+1 = c.508 = 100541, so there c.N is chr1:100033+N.
* GFC3, transcript GFT000003, **minus** strand, chr1. CDS exons (transcript order, genome
  coordinates): 61956-61852 (c.1-105), 61131-60890 (c.106-347), 59810-59542 (c.348-616),
  58658-58444 (c.617-831); 4 exons. c.1 is chr1:61956 (the plus strand reads CAT at
  61954-61956: ATG on the minus strand); in exon 2 c.N is chr1:61237-N, in exon 3 c.N is
  chr1:60158-N.

HGVS conventions used: a deletion in a repeat is named at its most 3' position on the
transcript (for the minus-strand gene that is the most 5' position on the genome, the
opposite of the VCF's left-aligned record); p. is predicted, so in parentheses; a
frameshift is given in the short form ``p.(Xaa#fs)`` that the report schema (1.2.0)
specifies, the first amino acid *changed* being named (the long form is in the comment);
a splice-site change has an unknown protein effect, ``p.?``; a start loss ``p.(Met1?)``.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pysam
import pytest
import yaml

from genomflow.report.variants import read_calls
from genomflow.report.vrs import FastaDataProxy
from tests.conftest import REPO, demo_qc_config, snakemake

pytestmark = pytest.mark.e2e

GENOME = REPO / "resources/testgenome/genome.fa"
GROUP = "HGVS01"

#: (chrom, pos, ref, alt) of the VCF record (left-aligned, as callers write it) ->
#: (consequence, gene, transcript, hgvs_c, hgvs_p, exon, intron), worked by hand.
TRUTH: dict[tuple[str, int, str, str], tuple[str, str, str, str, str | None, Any, Any]] = {
    # GFB2 (+) missense. CDS c.1-15 reads ATG ATC TCC AAT TTG: codon 5 (c.13-15) is TTG Leu.
    # c.14 = chr1:97020, a T. T>C makes TCG Ser.
    ("chr1", 97020, "T", "C"): (
        "missense_variant", "GFB2", "GFT000002", "c.14T>C", "p.(Leu5Ser)", "1/7", None,
    ),
    # GFB2 (+) in-frame deletion. c.4-12 = ATC TCC AAT (chr1:97010-97018). Deleting CTC at
    # c.6-8 (ATGAT|CAAT) and TCC at c.7-9 (ATGATC|AAT) give the same sequence; TCA at c.8-10
    # does not, so the most 3' name is c.7_9del, exactly codon 3 (TCC Ser): p.(Ser3del)
    # (codon 4 is Asn, no further shift). The left-aligned VCF record deletes c.6-8:
    # POS chr1:97011 (c.5, T), REF TCTC, ALT T. Whole codon removed: conservative.
    ("chr1", 97011, "TCTC", "T"): (
        "conservative_inframe_deletion", "GFB2", "GFT000002", "c.7_9del", "p.(Ser3del)", "1/7",
        None,
    ),
    # GFB2 (+) splice donor. Exon 1's CDS ends at c.247 = chr1:97253; the intron starts with
    # GT at 97254-97255. 97254 G>A is c.247+1G>A, intron 1 of 6.
    ("chr1", 97254, "G", "A"): (
        "splice_donor_variant", "GFB2", "GFT000002", "c.247+1G>A", "p.?", None, "1/6",
    ),
    # GFB2 (+) frameshift in a homopolymer. Exon 4, c.568-576 = TCT TTT TTC (codons 190-192,
    # Ser Phe Phe) at chr1:100601-100609; the run TTTTTT is c.570-575 (100603-100608). Losing
    # one T is named at the 3' end: c.575del. New codons from 190: TCT TTT TCA CTG ACG ...:
    # Ser190 and Phe191 unchanged, Phe192 -> Ser first; the new frame's stop is the 22nd
    # codon counting Ser192 as 1: long form p.(Phe192SerfsTer22), short p.(Phe192fs).
    # VCF (left-aligned): POS 100602 (C, c.569), REF CT, ALT C.
    ("chr1", 100602, "CT", "C"): (
        "frameshift_variant", "GFB2", "GFT000002", "c.575del", "p.(Phe192fs)", "4/7", None,
    ),
    # GFC3 (-) frameshift in a homopolymer, shifted the other way. Exon 3, c.562-570 = ACG
    # GGG CCA (codons 188-190, Thr Gly Pro); the run GGGG is c.564-567 = chr1:59594-59591
    # (the plus strand reads CCCC at 59591-59594, G at 59589-59590, G at 59595). One G lost:
    # 3' on the transcript is c.567 (the genome's 5' end, 59591): c.567del. New codons from
    # 188: ACG GGC CAG ...: Thr188 same, Gly189 still Gly (GGC), Pro190 -> Gln is the first
    # change; stop at the 12th new codon: long form p.(Pro190GlnfsTer12), short
    # p.(Pro190fs) (not Gly189fs). VCF (left-aligned on the genome): POS 59590 G, REF GC,
    # ALT G.
    ("chr1", 59590, "GC", "G"): (
        "frameshift_variant", "GFC3", "GFT000003", "c.567del", "p.(Pro190fs)", "3/4", None,
    ),
    # GFC3 (-) splice acceptor. Exon 2 starts (transcript order) at c.106 = chr1:61131; the
    # intron's last two bases on the transcript, AG, are c.106-2 = 61133 (plus strand T) and
    # c.106-1 = 61132 (plus strand C). c.106-1G>A is C>T on the plus strand at 61132.
    ("chr1", 61132, "C", "T"): (
        "splice_acceptor_variant", "GFC3", "GFT000003", "c.106-1G>A", "p.?", None, "1/3",
    ),
    # GFC3 (-) stop gain. Codon 48 (c.142-144) is TGG Trp at chr1:61095-61093; c.143G>A
    # gives TAG, a stop: p.(Trp48Ter). On the plus strand 61094 C>T.
    ("chr1", 61094, "C", "T"): (
        "stop_gained", "GFC3", "GFT000003", "c.143G>A", "p.(Trp48Ter)", "2/4", None,
    ),
    # GFC3 (-) missense. Codon 43 (c.127-129) is GAA Glu at chr1:61110-61108; c.128A>T gives
    # GTA Val: p.(Glu43Val). On the plus strand 61109 T>A.
    ("chr1", 61109, "T", "A"): (
        "missense_variant", "GFC3", "GFT000003", "c.128A>T", "p.(Glu43Val)", "2/4", None,
    ),
    # GFC3 (-) start loss. c.1 is the A of ATG = chr1:61956 (plus strand T). c.1A>G makes
    # GTG: the start codon is lost, the protein effect unknown: p.(Met1?). Plus strand T>C.
    ("chr1", 61956, "T", "C"): (
        "start_lost", "GFC3", "GFT000003", "c.1A>G", "p.(Met1?)", "1/4", None,
    ),
}  # fmt: skip

FIELDS = ("consequence", "gene", "transcript", "hgvs_c", "hgvs_p", "exon", "intron")


def write_vcf(path: Path) -> None:
    """The table's variants as a germline VCF of one heterozygous sample (bgzip + tabix)."""
    contigs = {name: length for name, length in zip(*_fasta_contigs(), strict=True)}
    header = pysam.VariantHeader()
    for name, length in contigs.items():
        header.contigs.add(name, length=length)
    header.add_line('##INFO=<ID=DP,Number=1,Type=Integer,Description="Depth">')
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_sample(GROUP)
    plain = path.with_suffix("")
    with pysam.VariantFile(str(plain), "w", header=header) as out:
        for chrom, pos, ref, alt in sorted(TRUTH):
            record = out.new_record(contig=chrom, start=pos - 1, alleles=(ref, alt), qual=50)
            record.info["DP"] = 30
            record.samples[GROUP]["GT"] = (0, 1)
            out.write(record)
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)


def _fasta_contigs() -> tuple[tuple[str, ...], tuple[int, ...]]:
    with pysam.FastaFile(str(GENOME)) as fasta:
        return tuple(fasta.references), tuple(fasta.lengths)


def test_the_vcf_reference_alleles_are_the_genomes() -> None:
    """The table's REF alleles are the genome's bases (a typo in the working fails here)."""
    with pysam.FastaFile(str(GENOME)) as fasta:
        for chrom, pos, ref, _ in TRUTH:
            assert fasta.fetch(chrom, pos - 1, pos - 1 + len(ref)).upper() == ref, (chrom, pos)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    """The table's VCF through snpeff_build and snpeff_ann_germline (and the reference rules
    they need); the germline VCF stands where germline_filter writes it."""
    workdir = tmp_path_factory.mktemp("hgvs")
    configfile = demo_qc_config(workdir, samples=("CA003N",), annotation={"clinvar_vcf": ""})
    config = yaml.safe_load(configfile.read_text())
    assert config["reference"]["gff3"] == str(REPO / "resources/testgenome/genes.gff3")
    calls = workdir / "results/germline/germline_filter" / f"{GROUP}.vcf.gz"
    calls.parent.mkdir(parents=True)
    write_vcf(calls)
    target = f"results/annotate/snpeff_ann_germline/{GROUP}.vcf.gz"
    started = time.monotonic()
    snakemake(
        workdir, configfile, "--cores", "1", target,
        "--allowed-rules", "reference_prepare", "samtools_faidx", "snpeff_build",
        "snpeff_ann_germline",
    )  # fmt: skip
    return workdir / target, time.monotonic() - started


def test_snpeff_gives_the_hand_worked_hgvs(annotated: tuple[Path, float]) -> None:
    vcf, seconds = annotated
    print(
        f"\nsnpeff_build + snpeff_ann_germline (and reference) through Snakemake: {seconds:.1f} s"
    )
    variants = read_calls(vcf, GROUP, "germline", FastaDataProxy(GENOME))
    got = {
        (v["chrom"], v["pos"], v["ref"], v["alt"]): tuple(v[f] for f in FIELDS) for v in variants
    }
    assert set(got) == set(TRUTH)
    wrong = {key: (got[key], TRUTH[key]) for key in TRUTH if got[key] != TRUTH[key]}
    assert not wrong, "\n".join(
        f"{k}: report {g} != hand-worked {t}" for k, (g, t) in wrong.items()
    )


def test_the_reporting_transcripts_and_their_basis(annotated: tuple[Path, float]) -> None:
    """Every gene of the test genome has one reporting transcript (none is tagged: the
    longest CDS), and snpEff annotated only those."""
    vcf, _ = annotated
    table = vcf.parents[2] / "reference/snpeff/transcripts.tsv"
    rows = [line.split("\t") for line in table.read_text().splitlines()[1:]]
    assert {(r[0], r[1], r[2]) for r in rows} >= {
        ("GFB2", "GFT000002", "longest CDS"),
        ("GFC3", "GFT000003", "longest CDS"),
    }
    assert len(rows) == 7
    chosen = {r[1] for r in rows}
    with pysam.VariantFile(str(vcf)) as reader:
        for record in reader:
            for entry in record.info["ANN"]:
                transcript = entry.split("|")[6]
                assert not transcript.startswith("GFT") or transcript in chosen, entry


def test_hand_worked_strings_parse_with_the_hgvs_parser() -> None:
    from hgvs.parser import Parser

    parser = Parser()
    for _, _, transcript, c, p, _, _ in TRUTH.values():
        assert str(parser.parse_hgvs_variant(f"{transcript}:{c}").posedit) == c[2:]
        if p is not None:
            parser.parse_hgvs_variant(f"{transcript.replace('GFT', 'GFP')}:{p}")


def test_java_is_there_for_snpeff() -> None:
    assert shutil.which("snpEff") and shutil.which("java")
