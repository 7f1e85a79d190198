"""The simulated reference: contigs, isochores, repeats, duplication, gap and genes."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import numpy as np
import pysam
import pytest

from genomflow import snpeff
from genomflow.simulate import DEFAULT_SEED, make_testgenome_spec
from genomflow.simulate.common import gc_fraction, reverse_complement, rng_for, to_str
from genomflow.simulate.genes import (
    EXON_LENGTH,
    INTRON_LENGTH,
    cds_sequence,
    check_gene,
    find_coding_snv,
    gff3_lines,
    translate,
    write_gff3,
)
from genomflow.simulate.genome import (
    FASTA_WIDTH,
    Reference,
    build_reference,
    read_fasta,
    write_fasta,
)


@functools.cache
def reference() -> Reference:
    return build_reference(make_testgenome_spec().genome, DEFAULT_SEED)


def test_contigs_have_the_requested_names_and_lengths() -> None:
    assert reference().lengths == {
        "chr1": 150_000,
        "chr2": 110_000,
        "chrX": 45_000,
        "chrY": 25_000,
    }


def test_same_seed_same_genome_and_other_seed_differs() -> None:
    spec = make_testgenome_spec().genome
    again = build_reference(spec, DEFAULT_SEED)
    other = build_reference(spec, DEFAULT_SEED + 1)
    for name, seq in reference().sequences.items():
        assert np.array_equal(seq, again.sequences[name])
        assert not np.array_equal(seq, other.sequences[name])


def test_fasta_is_upper_case_with_60_column_lines(tmp_path: Path) -> None:
    path = tmp_path / "genome.fa"
    write_fasta(path, reference().sequences)
    lines = path.read_text().splitlines()
    body = [line for line in lines if not line.startswith(">")]
    assert all(len(line) <= FASTA_WIDTH for line in body)
    assert set("".join(body)) <= set("ACGTN")
    assert read_fasta(path) == {n: to_str(s) for n, s in reference().sequences.items()}


def test_n_gap_is_a_single_run_in_chr1() -> None:
    (gap,) = reference().features_named("n_gap")
    assert gap.contig == "chr1" and 1000 <= gap.length <= 2000
    for name, seq in reference().sequences.items():
        n_positions = np.flatnonzero(seq == ord("N"))
        if name == gap.contig:
            assert n_positions.tolist() == list(range(gap.start, gap.end))
        else:
            assert n_positions.size == 0


def test_gc_content_varies_between_isochores() -> None:
    segments = reference().features_named("gc_low", "gc_mid", "gc_high")
    gcs = [gc_fraction(reference().sequences[f.contig][f.start : f.end]) for f in segments]
    assert min(gcs) < 0.40 and max(gcs) > 0.55
    assert all(0.28 < gc < 0.66 for gc in gcs)
    assert {f.name for f in segments} == {"gc_low", "gc_mid", "gc_high"}


def test_tandem_repeats_are_real_repeats() -> None:
    ref = reference()
    for feature in ref.features_named("homopolymer", "str", "minisatellite"):
        seq = ref.sequences[feature.contig][feature.start : feature.end]
        if feature.name == "homopolymer":
            assert seq.size >= 10 and np.all(seq == seq[0])
        elif feature.name == "str":
            period = next(p for p in (2, 3) if np.array_equal(seq[p:], seq[:-p]))
            assert 10 <= seq.size // period <= 40
    counts = {name: len(ref.features_named(name)) for name in ("homopolymer", "str")}
    assert counts["homopolymer"] > 50 and counts["str"] > 50
    assert len(ref.features_named("minisatellite")) >= 3


def test_segmental_duplication_copy_is_about_98_percent_identical() -> None:
    ref = reference()
    (source,) = ref.features_named("segdup_source")
    (copy,) = ref.features_named("segdup_copy")
    a = ref.sequences[source.contig][source.start : source.end]
    b = ref.sequences[copy.contig][copy.start : copy.end]
    identity = max(np.mean(a == b), np.mean(reverse_complement(a) == b))
    assert source.length == copy.length == 5000
    assert 0.975 < identity < 0.995


def test_every_gene_encodes_a_valid_protein() -> None:
    ref = reference()
    for gene in ref.genes:
        assert check_gene(ref.sequences[gene.contig], gene) == []


def test_gene_structures_are_within_the_design_ranges() -> None:
    ref = reference()
    assert 6 <= len(ref.genes) <= 8
    assert {g.strand for g in ref.genes} == {"+", "-"}
    assert {g.contig for g in ref.genes} == {"chr1", "chr2", "chrX"}
    for gene in ref.genes:
        assert 3 <= len(gene.exons) <= 8
        assert all(EXON_LENGTH[0] <= e - s <= EXON_LENGTH[1] for s, e in gene.exons)
        assert all(INTRON_LENGTH[0] <= e - s <= INTRON_LENGTH[1] for s, e in gene.introns())


def test_genes_avoid_the_gap_and_the_duplication() -> None:
    ref = reference()
    blocked = ref.features_named("n_gap", "segdup_source", "segdup_copy")
    for gene in ref.genes:
        assert not any(
            f.contig == gene.contig and f.overlaps(gene.start, gene.end) for f in blocked
        )


def test_gff3_has_ensembl_style_records() -> None:
    lines = gff3_lines(reference().genes, reference().lengths)
    assert lines[0] == "##gff-version 3"
    assert "##sequence-region chr1 1 150000" in lines
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    kinds = {row[2] for row in rows}
    assert {"gene", "mRNA", "exon", "CDS", "five_prime_UTR", "three_prime_UTR"} <= kinds
    genes = [row for row in rows if row[2] == "gene"]
    assert all(r[8].startswith("ID=gene:") and "biotype=protein_coding" in r[8] for r in genes)
    mrnas = [row for row in rows if row[2] == "mRNA"]
    assert all("Parent=gene:" in r[8] and "-201;" in r[8] for r in mrnas)
    children = [row for row in rows if row[2] not in ("gene", "mRNA")]
    assert all("Parent=transcript:" in r[8] for r in children)
    assert all(r[7] in "012" for r in rows if r[2] == "CDS")


def test_cds_phases_follow_the_reading_frame() -> None:
    for gene in reference().genes:
        done = 0
        for start, end in gene.cds_segments():
            rows = [
                line.split("\t")
                for line in gff3_lines([gene], reference().lengths)
                if "\tCDS\t" in line and line.split("\t")[3] == str(start + 1)
            ]
            assert int(rows[0][7]) == (3 - done % 3) % 3
            done += end - start


@pytest.mark.parametrize("effect", ["missense", "synonymous", "stop_gained"])
def test_find_coding_snv_has_the_asked_effect(effect: str) -> None:
    ref = reference()
    for gene in ref.genes:
        seq = ref.sequences[gene.contig].copy()
        snv = find_coding_snv(seq, gene, effect, rng_for(1, gene.symbol))
        assert chr(seq[snv.pos]) == snv.ref
        before = translate(cds_sequence(seq, gene))
        seq[snv.pos] = ord(snv.alt)
        after = translate(cds_sequence(seq, gene))
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        if effect == "synonymous":
            assert changed == []
        else:
            assert changed == [snv.codon_index]
            assert (after[snv.codon_index] == "*") == (effect == "stop_gained")


def test_snpeff_annotates_a_missense_variant(tmp_path: Path) -> None:
    ref = reference()
    fasta, gff, vcf = tmp_path / "genome.fa", tmp_path / "genes.gff3", tmp_path / "in.vcf"
    write_fasta(fasta, ref.sequences)
    write_gff3(gff, ref.genes, ref.lengths)
    header = pysam.VariantHeader()
    for name, length in ref.lengths.items():
        header.contigs.add(name, length=length)
    header.add_sample("S1")
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    expected = {}
    with pysam.VariantFile(str(vcf), "w", header=header) as out:
        for gene in sorted(ref.genes, key=lambda g: (list(ref.lengths).index(g.contig), g.start)):
            snv = find_coding_snv(ref.sequences[gene.contig], gene, "missense", rng_for(2))
            record = out.new_record(contig=snv.contig, start=snv.pos, alleles=(snv.ref, snv.alt))
            record.samples["S1"]["GT"] = (0, 1)
            out.write(record)
            expected[(snv.contig, snv.pos + 1)] = gene.symbol
    # The options of the rules snpeff_build and snpeff_ann_* (workflow/rules/annotate.smk).
    snpeff.prepare(gff, fasta, tmp_path / "db")
    config = str(tmp_path / "db" / "snpEff.config")
    java = ["snpEff", "-Xmx1g"]
    build = [*java, "build", "-c", config, *snpeff.BUILD_OPTIONS.split(), snpeff.GENOME]
    subprocess.run(build, capture_output=True, check=True)
    ann = [*java, "ann", "-c", config, *snpeff.ANN_OPTIONS.split(), snpeff.GENOME, str(vcf)]
    result = subprocess.run(ann, capture_output=True, text=True, check=True)
    annotated = {}
    for line in result.stdout.splitlines():
        if line.startswith("#") or "\t" not in line:
            continue  # headers, and the arguments Debian's wrapper echoes
        fields = line.split("\t")
        found = snpeff.first_for(fields[7].split(";")[0].removeprefix("ANN="))
        assert found is not None, line
        annotated[(fields[0], int(fields[1]))] = [found.consequence, found.gene]
    assert annotated == {key: ["missense_variant", symbol] for key, symbol in expected.items()}
