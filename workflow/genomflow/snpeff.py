"""snpEff, the pipeline's one consequence annotator: its database inputs and its ANN field.

The database is built offline from the reference's GFF3 and FASTA (rule ``snpeff_build``).
:func:`prepare` writes what ``snpEff build`` reads into one directory:

* ``snpEff.config``: the data directory (``./``: beside it) and the one genome, ``genomflow``;
* ``genomflow/genes.gff``: the GFF3 with the Ensembl-style ``gene:``/``transcript:``/``CDS:``
  prefixes stripped from ``ID`` and ``Parent`` (snpEff does not match ``Parent=transcript:X``
  to ``ID=transcript:X`` and invents genes otherwise) and the exons' ``Name`` dropped;
* ``genomflow/sequences.fa``: a relative link to the reference FASTA;
* ``transcripts.txt``: the reporting transcript of each gene (:mod:`genomflow.transcripts`),
  one per line, which ``snpEff ann -onlyTr`` restricts the annotation to;
* ``transcripts.tsv``: gene, transcript and why it was chosen, for the report and the docs.

A GFF3 without any transcript with a CDS is refused: there is nothing to put c./p. HGVS on.

:func:`parse_ann` is the one parser of ``INFO/ANN`` (every consumer calls it);
:func:`predicted_protein` turns snpEff's p. (``p.Arg49*``) into HGVS's predicted form
(``p.(Arg49Ter)``) and :func:`current_hgvs_c` drops the deleted bases snpEff writes after
``del``/``dup`` (``c.567delG`` is ``c.567del`` in current HGVS).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomflow import transcripts
from genomflow.atomic import write_text, write_tsv
from genomflow.errors import GenomflowError

#: Name of the snpEff genome (the database directory under the data directory).
GENOME = "genomflow"
#: ``snpEff build`` options (rule snpeff_build): GFF3 input, no CDS/protein FASTA to check
#: against, no usage report over the network.
BUILD_OPTIONS = "-gff3 -noCheckCds -noCheckProtein -noLog -v"
#: ``snpEff ann`` options (rules snpeff_ann_*): never download, no usage report, no HTML
#: summary; HGVS c./p. (three-letter amino acids and the 3' shift are snpEff's defaults:
#: ``-hgvs1LetterAa`` and ``-noShiftHgvs`` are not given); variants outside genes get no
#: annotation (no upstream, downstream or intergenic entries), as they are in no gene.
ANN_OPTIONS = "-nodownload -noLog -noStats -hgvs -no-upstream -no-downstream -no-intergenic"
#: INFO tag of snpEff's annotations, its fields and its header line as snpEff 5.1 writes it.
ANN_TAG = "ANN"
ANN_FIELDS: tuple[str, ...] = (
    "Allele", "Annotation", "Annotation_Impact", "Gene_Name", "Gene_ID", "Feature_Type",
    "Feature_ID", "Transcript_BioType", "Rank", "HGVS.c", "HGVS.p", "cDNA.pos / cDNA.length",
    "CDS.pos / CDS.length", "AA.pos / AA.length", "Distance", "ERRORS / WARNINGS / INFO",
)  # fmt: skip
ANN_HEADER = (
    f"##INFO=<ID={ANN_TAG},Number=.,Type=String,"
    f"Description=\"Functional annotations: '{' | '.join(ANN_FIELDS)}' \">"
)
#: Splice consequences whose protein effect is unknown without RNA (HGVS: ``p.?``).
SPLICE_SITE = frozenset({"splice_acceptor_variant", "splice_donor_variant"})
_PREFIXED = re.compile(r"(^|;)(ID|Parent)=([^;]*)")
_EXON_NAME = re.compile(r";Name=[^;]*")


@dataclass(frozen=True)
class Annotation:
    """One ANN entry: an allele's effect on one feature."""

    allele: str
    #: Sequence Ontology terms, most severe first (snpEff joins them with ``&``).
    terms: tuple[str, ...]
    impact: str
    gene: str
    feature_type: str
    transcript: str
    biotype: str
    #: ``n/total``: an exon rank, or an intron rank when the variant is intronic.
    rank: str
    hgvs_c: str
    hgvs_p: str

    @property
    def on_transcript(self) -> bool:
        """Whether the feature is a transcript (not an intergenic region, a motif ...)."""
        return self.feature_type == "transcript" and bool(self.transcript)

    @property
    def consequence(self) -> str | None:
        """The most severe SO term."""
        return self.terms[0] if self.terms else None

    @property
    def intronic(self) -> bool:
        """Whether :attr:`rank` counts introns (the c. position has an intron offset)."""
        return bool(re.search(r"\d[+-]\d", self.hgvs_c))

    @property
    def exon(self) -> str | None:
        return self.rank or None if not self.intronic else None

    @property
    def intron(self) -> str | None:
        return self.rank or None if self.intronic else None

    @property
    def protein(self) -> str | None:
        """The report's p.: the predicted form, ``p.?`` at a splice site without one."""
        predicted = predicted_protein(self.hgvs_p)
        if predicted is None and self.hgvs_c and SPLICE_SITE & set(self.terms):
            return "p.?"
        return predicted


def _strip_ids(attributes: str) -> str:
    """Column 9 without the ``kind:`` prefixes of ID and Parent.

    >>> _strip_ids("ID=CDS:P1;Parent=transcript:T1,transcript:T2;Name=x")
    'ID=P1;Parent=T1,T2;Name=x'
    """

    def strip(match: re.Match[str]) -> str:
        values = ",".join(v.split(":", 1)[-1] for v in match.group(3).split(","))
        return f"{match.group(1)}{match.group(2)}={values}"

    return _PREFIXED.sub(strip, attributes)


def snpeff_gff3(text: str) -> str:
    """The GFF3 as snpEff reads it (prefixes stripped; exons without ``Name``)."""
    out = []
    for line in text.split("\n"):
        if line.startswith("##FASTA"):
            break
        fields = line.split("\t")
        if len(fields) == 9 and not line.startswith("#"):
            attributes = _strip_ids(fields[8])
            if fields[2] == "exon":
                attributes = _EXON_NAME.sub("", attributes)
            line = "\t".join([*fields[:8], attributes])
        out.append(line)
    return "\n".join(out)


def prepare(gff3: Path, fasta: Path, out_dir: Path) -> transcripts.ReportingTranscripts:
    """Write the database inputs of :mod:`this module's docstring <genomflow.snpeff>`."""
    chosen = transcripts.reporting_transcripts(gff3)
    if not chosen.by_gene:
        where = f" (genes without one: {', '.join(chosen.without_cds[:10])})"
        raise GenomflowError(
            f"{os.fspath(gff3)}: no transcript has a CDS{where if chosen.without_cds else ''}; "
            "nothing to annotate HGVS on"
        )
    genome_dir = out_dir / GENOME
    genome_dir.mkdir(parents=True, exist_ok=True)
    write_text(genome_dir / "genes.gff", snpeff_gff3(gff3.read_text()))
    link = genome_dir / "sequences.fa"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(os.path.relpath(fasta.resolve(), genome_dir.resolve()))
    # Relative to the config's directory (snpEff resolves ./ there): the results relocate.
    config = f"data.dir = ./\n{GENOME}.genome : {GENOME}\n"
    write_text(out_dir / "snpEff.config", config)
    write_text(
        out_dir / "transcripts.txt", "".join(f"{t.transcript}\n" for t in chosen.by_gene.values())
    )
    write_tsv(
        out_dir / "transcripts.tsv",
        ("gene", "transcript", "basis", "cds_length"),
        ((t.gene, t.transcript, t.basis, t.cds_length) for t in chosen.by_gene.values()),
    )
    return chosen


# --- ANN ----------------------------------------------------------------------------------------

_THREE = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
    "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
    "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "U": "Sec",
    "O": "Pyl", "*": "Ter",
}  # fmt: skip


def predicted_protein(hgvs_p: str) -> str | None:
    """snpEff's p. in HGVS's predicted form: parentheses, ``Ter`` for a stop.

    >>> predicted_protein("p.Arg49*"), predicted_protein("p.Arg49Ter")
    ('p.(Arg49Ter)', 'p.(Arg49Ter)')
    >>> predicted_protein("p.Gln330fs"), predicted_protein("p.Met1?"), predicted_protein("")
    ('p.(Gln330fs)', 'p.(Met1?)', None)
    >>> predicted_protein("p.(Leu5Ser)"), predicted_protein("p.Ter100Glnext*?")
    ('p.(Leu5Ser)', 'p.(Ter100GlnextTer?)')

    A synonymous change is written ``=`` in HGVS (snpEff repeats the amino acid):

    >>> predicted_protein("p.Leu5Leu"), predicted_protein("p.*443*")
    ('p.(Leu5=)', 'p.(Ter443=)')
    """
    if not hgvs_p or not hgvs_p.startswith("p."):
        return None
    body = hgvs_p[2:]
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1]
    body = _SYNONYMOUS.sub(r"\1\2=", body.replace("*", "Ter"))
    if body in ("?", "=", "0"):
        return f"p.{body}"
    return f"p.({body})"


_SYNONYMOUS = re.compile(r"^([A-Z][a-z]{2})(\d+)\1$")
_DELETED = re.compile(r"(del|dup)[ACGTUN]+(?=ins|$)")


def current_hgvs_c(hgvs_c: str) -> str:
    """snpEff's c. without the deleted or duplicated bases, which HGVS no longer writes.

    >>> current_hgvs_c("c.567delG"), current_hgvs_c("c.7_9delTCC"), current_hgvs_c("c.5dupA")
    ('c.567del', 'c.7_9del', 'c.5dup')
    >>> current_hgvs_c("c.4_5delACinsGT"), current_hgvs_c("c.14T>C")
    ('c.4_5delinsGT', 'c.14T>C')
    """
    return _DELETED.sub(r"\1", hgvs_c)


def one_letter_to_three(sequence: str) -> str:
    """Amino acids from one-letter to three-letter codes.

    >>> one_letter_to_three("RK*")
    'ArgLysTer'
    """
    return "".join(_THREE[aa] for aa in sequence)


def parse_entry(entry: str) -> Annotation | None:
    """One ANN entry (``Allele|Annotation|Impact|Gene_Name|Gene_ID|Feature_Type|Feature_ID|
    Transcript_BioType|Rank|HGVS.c|HGVS.p|...``), None when it is not one.

    >>> a = parse_entry("T|missense_variant|MODERATE|G1|G1|transcript|T1|protein_coding|2/7|"
    ...                 "c.14T>C|p.Leu5Ser|14/900|14/600|5/199||")
    >>> a.consequence, a.gene, a.transcript, a.exon, a.intron, a.hgvs_c, a.protein
    ('missense_variant', 'G1', 'T1', '2/7', None, 'c.14T>C', 'p.(Leu5Ser)')
    """
    fields = entry.split("|")
    if len(fields) < 11:
        return None
    terms = tuple(t for t in fields[1].split("&") if t)
    return Annotation(
        allele=fields[0],
        terms=terms,
        impact=fields[2],
        gene=fields[3],
        feature_type=fields[5],
        transcript=fields[6],
        biotype=fields[7],
        rank=fields[8],
        hgvs_c=current_hgvs_c(fields[9]),
        hgvs_p=fields[10],
    )


def parse_ann(value: Any) -> list[Annotation]:
    """Every entry of an ``INFO/ANN`` value (a tuple of entries as pysam gives it, or the
    comma-joined text as ``bcftools query`` prints it); snpEff lists the most severe first."""
    if value is None:
        return []
    entries: Iterable[str] = value.split(",") if isinstance(value, str) else (str(v) for v in value)
    parsed = (parse_entry(e) for e in entries if e and e != ".")
    return [a for a in parsed if a is not None]


def first_for(value: Any, alt: str | None = None) -> Annotation | None:
    """The most severe annotation (of allele ``alt`` when given) of an ``INFO/ANN`` value."""
    for annotation in parse_ann(value):
        if alt is None or annotation.allele.upper() == alt.upper():
            return annotation
    return None


def _cmd_prepare(args: argparse.Namespace) -> int:
    chosen = prepare(args.gff3, args.fasta, args.out_dir)
    print(f"{len(chosen.by_gene)} reporting transcripts; genes without a CDS: "
          f"{', '.join(chosen.without_cds) or 'none'}")  # fmt: skip
    return 0


def add_subcommand(sub: Any) -> None:
    """``genomflow reference snpeff``: the snpEff database inputs."""
    cmd = sub.add_parser(
        "snpeff", help="write the snpEff database inputs (config, GFF3, reporting transcripts)"
    )
    cmd.add_argument("--gff3", type=Path, required=True, help="the reference's GFF3")
    cmd.add_argument("--fasta", type=Path, required=True, help="the reference FASTA")
    cmd.add_argument("--out-dir", type=Path, required=True, help="directory to write into")
    cmd.set_defaults(func=_cmd_prepare)
