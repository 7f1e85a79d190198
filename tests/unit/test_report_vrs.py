"""GA4GH identifiers from our own reference: refget digests and normalised VRS Allele ids."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pysam
import pytest

from genomflow.errors import GenomflowError
from genomflow.report.vrs import (
    Contig,
    FastaDataProxy,
    allele_id,
    digest_fasta,
    read_refget_table,
    read_sequence_dict,
    refget_accession,
    write_refget_table,
)
from tests.conftest import TESTGENOME

FASTA = TESTGENOME / "genome.fa"


@pytest.fixture(scope="module")
def proxy() -> Iterator[FastaDataProxy]:
    dp = FastaDataProxy(FASTA)
    yield dp
    dp.close()


def test_refget_accession_is_the_published_test_vector() -> None:
    # The VRS documentation's example: sha512t24u("ACGT"); case does not matter.
    assert refget_accession("acgt") == "SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2"


def test_contig_md5s_agree_with_samtools_dict(tmp_path: Path) -> None:
    dictionary = tmp_path / "genome.dict"
    subprocess.run(["samtools", "dict", str(FASTA), "-o", str(dictionary)], check=True)
    expected = read_sequence_dict(dictionary)
    contigs = digest_fasta(FASTA)
    assert {c.name: (c.length, c.md5) for c in contigs} == expected
    table = tmp_path / "genome.refget.tsv"
    write_refget_table(contigs, table)
    assert read_refget_table(table) == contigs


def test_bad_refget_tables_are_named(tmp_path: Path) -> None:
    table = tmp_path / "genome.refget.tsv"
    write_refget_table([Contig("chr1", 1000, "0" * 32, "SQ." + "A" * 32)], table)
    header, row = table.read_text().splitlines()
    table.write_text(f"{header}\n{row.replace('1000', 'many')}\n")
    with pytest.raises(GenomflowError, match=r"refget\.tsv: contig 'chr1' has length 'many'"):
        read_refget_table(table)
    cut = row.rsplit("\t", 1)[0]  # the refget column lost
    table.write_text(f"{header}\n{cut}\n")
    with pytest.raises(
        GenomflowError, match=r"refget\.tsv: cannot read refget table \(line 2 has 3"
    ):
        read_refget_table(table)
    table.write_text("name\tlength\nchr1\t1000\n")
    with pytest.raises(GenomflowError, match=r"refget\.tsv: expected the columns name, length"):
        read_refget_table(table)
    table.write_bytes(f"{header}\n".encode() + b"chr\xff\t1\t0\tSQ.x\n")
    with pytest.raises(GenomflowError, match=r"refget\.tsv: cannot read refget table \(.*utf-8"):
        read_refget_table(table)
    with pytest.raises(GenomflowError, match=r"none\.tsv: cannot read refget table \(.*No such"):
        read_refget_table(tmp_path / "none.tsv")


def test_snv_id_is_stable(proxy: FastaDataProxy) -> None:
    # A regression value (ga4gh.vrs 2.3.3, VRS 2.0) of a site of the test genome.
    assert allele_id(proxy, "chr1", 515, "T", "G") == "ga4gh:VA.28YcY9IloZVGYY_y8HhDBr-4X9ULkgGw"


def _homopolymer() -> tuple[str, int, int]:
    for line in (TESTGENOME / "features.bed").read_text().splitlines():
        chrom, start, end, kind = line.split("\t")[:4]
        if kind == "homopolymer":
            return chrom, int(start), int(end)
    raise AssertionError("no homopolymer in features.bed")


def test_the_same_deletion_written_two_ways_gets_one_id(proxy: FastaDataProxy) -> None:
    chrom, start, end = _homopolymer()  # 0-based half-open run of one base
    with pysam.FastaFile(str(FASTA)) as fasta:
        seq = fasta.fetch(chrom, start - 1, end + 1).upper()
    # delete one base of the run: anchored at its left end, or at its right end
    left = allele_id(proxy, chrom, start, seq[0:2], seq[0])
    right = allele_id(proxy, chrom, end - 1, seq[-3:-1], seq[-3])
    assert left is not None and left == right
    # and an insertion is a different allele
    assert allele_id(proxy, chrom, start, seq[0], seq[0] + seq[1]) != left


def test_reference_mismatch_and_unknown_contig_are_errors(proxy: FastaDataProxy) -> None:
    with pytest.raises(GenomflowError, match=r"chr1:515: the reference has 'T' where the call"):
        allele_id(proxy, "chr1", 515, "A", "G")
    with pytest.raises(GenomflowError, match="contig 'chr9' is not in the reference"):
        allele_id(proxy, "chr9", 1, "A", "G")


def test_symbolic_and_star_alleles_have_no_id(proxy: FastaDataProxy) -> None:
    assert allele_id(proxy, "chr1", 515, "T", "<DEL>") is None
    assert allele_id(proxy, "chr1", 515, "T", "*") is None


def test_proxy_serves_sequences_by_name_and_refget_accession(proxy: FastaDataProxy) -> None:
    chr1 = proxy.contigs["chr1"]
    assert proxy.get_sequence(f"ga4gh:{chr1.refget}", 514, 515) == "T"
    assert proxy.get_metadata("chr1")["length"] == chr1.length
    with pytest.raises(KeyError):
        proxy.get_metadata("chr9")


def test_substitution_ids_need_no_reference(proxy: FastaDataProxy) -> None:
    """The loader recomputes the ids of plain substitutions without the reference (issue #14):
    they must be the ids the pipeline computes with it."""
    from genomflow.report.vrs import is_plain_substitution, substitution_id

    contig = next(iter(proxy.contigs.values()))
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    checked = 0
    for pos in range(1001, 1201, 7):
        ref = proxy.get_sequence(contig.name, pos - 1, pos + 1)
        if "N" in ref:
            continue
        alt = "".join(swap[base] for base in ref)
        for r, a in ((ref[0], alt[0]), (ref, alt)):
            assert is_plain_substitution(r, a)
            expected = allele_id(proxy, contig.name, pos, r, a)
            assert substitution_id(contig.refget, pos, r, a) == expected
            checked += 1
    assert checked > 40


def test_substitution_ids_are_ga4gh_identify_of_the_normalised_allele(
    proxy: FastaDataProxy,
) -> None:
    """The digests written out by hand (:func:`substitution_id`) are the library's: each
    single and multi-base substitution, built as ga4gh.vrs models, normalised and identified."""
    from ga4gh.core import ga4gh_identify
    from ga4gh.vrs import models, normalize

    from genomflow.report.vrs import substitution_id

    contig = next(iter(proxy.contigs.values()))
    swap = {"A": "C", "C": "G", "G": "T", "T": "A"}
    checked = 0
    for pos in range(2001, 2301, 11):
        ref = proxy.get_sequence(contig.name, pos - 1, pos + 2)
        if "N" in ref:
            continue
        for size in (1, 3):
            r, a = ref[:size], "".join(swap[base] for base in ref[:size])
            allele = models.Allele(
                location=models.SequenceLocation(
                    sequenceReference=models.SequenceReference(refgetAccession=contig.refget),
                    start=pos - 1,
                    end=pos - 1 + size,
                ),
                state=models.LiteralSequenceExpression(sequence=a),
            )
            expected = ga4gh_identify(normalize(allele, proxy))
            assert substitution_id(contig.refget, pos, r, a) == expected
            assert allele_id(proxy, contig.name, pos, r, a) == expected
            checked += 1
    assert checked > 40


def test_substitution_id_refuses_a_malformed_refget() -> None:
    from genomflow.report.vrs import substitution_id

    with pytest.raises(GenomflowError, match=r"not a refget accession: 'SQ\.short'"):
        substitution_id("SQ.short", 1, "A", "T")
