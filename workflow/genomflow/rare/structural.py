"""Structural variants and copy-number changes as rare-disease candidates (#19 item 4, #16).

Input: the family's SV deliverables (``{sample}.sv.vcf.gz``: delly, PASS = reportable) with
the genotypes of every member from the group's joint delly calls (matched by the SV's ID), the
members' copy-number deliverables (``{sample}.cnv.vcf.gz``: CNVkit, FORMAT/CN), the gene
models (reference GFF3) and the SV/CNV deliverables of the batch's unrelated samples.

Candidates: PASS calls of the proband that overlap a gene. Each becomes a
:class:`StructuralVariant`, a :class:`genomflow.rare.rank.Variant` whose ``key`` names the SV
(``chr1:112300-114500 <DEL> 2200 bp``), so the inheritance models of
:mod:`genomflow.rare.rank` apply to it unchanged. A CNV that repeats an SV of the proband
(same type, reciprocal overlap >= 0.5) is left out: delly's breakpoints are the sharper.

Consequence per overlapped gene (:func:`consequence`): ``whole_gene_deletion``,
``exon_deletion`` (deletes coding bases), ``noncoding_exon_deletion`` (UTR exons only),
``cds_disrupting`` (a breakpoint of a duplication, inversion, insertion or breakend inside the
coding span), ``whole_gene_duplication``, ``gene_inverted`` (a whole gene inside an
inversion), ``exonic`` and ``intronic``. The row's gene is the overlapped gene that matches
the phenotype, else the one with the most severe consequence; the others are named in the
consequence cell.

Frequency: there is no population SV data set in the pipeline (gnomAD-SV or SweGen SVs are not
configured), so an SV's frequency is the batch's: the number of unrelated samples (the
batch's other calling groups) with a call of the same type overlapping it reciprocally by
>= 0.5 (insertions and breakends: within 100 bp). Absent = rare.

Compound heterozygotes (:func:`compound_with_small`): an SV that knocks a gene out paired
with a rare damaging small variant of the gene, or with a second such SV, in trans.
Criteria (:func:`sv_criteria`): PVS1, PS2/PM6, PM3; never PM2/BA1/BS1. Documented in
docs/rare_disease.md; tests in tests/unit/test_rare_structural.py.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from genomflow.rare import acmg
from genomflow.rare.rank import (
    AR_COMPHET,
    AR_COMPHET_UNPHASED,
    DE_NOVO,
    HET,
    HOM_ALT,
    HOM_REF,
    MISSING,
    NO_MODEL,
    OTHER_WEIGHT,
    WEIGHTS,
    Candidate,
    Family,
    Genes,
    RankError,
    Variant,
    allele_origin,
    carries_alt,
    consequence_weight,
    is_pathogenic,
    model_fit,
    parse_genotype,
    single_model,
    variant_criteria,
    variant_points,
)
from genomflow.sv.genes import Gene

#: The ``kind`` column: which caller a row's variant comes from.
KIND_COLUMN = "kind"
SMALL = "small"
SV = "SV"
CNV = "CNV"

WHOLE_GENE_DELETION = "whole_gene_deletion"
EXON_DELETION = "exon_deletion"
NONCODING_EXON_DELETION = "noncoding_exon_deletion"
CDS_DISRUPTING = "cds_disrupting"
WHOLE_GENE_DUPLICATION = "whole_gene_duplication"
GENE_INVERTED = "gene_inverted"
EXONIC = "exonic"
INTRONIC = "intronic"

#: Consequence weight (0-1) in the score, on the scale of the small variants' (null 1,
#: moderate 0.6, other 0.1).
SV_WEIGHT: dict[str, float] = {
    WHOLE_GENE_DELETION: 1.0,
    EXON_DELETION: 1.0,
    CDS_DISRUPTING: 1.0,
    WHOLE_GENE_DUPLICATION: 0.6,
    NONCODING_EXON_DELETION: 0.6,
    GENE_INVERTED: 0.1,
    EXONIC: 0.1,
    INTRONIC: 0.1,
}
#: Consequences that remove coding bases: PVS1 in a loss-of-function gene.
CODING_LOSS = frozenset({WHOLE_GENE_DELETION, EXON_DELETION})

#: Reciprocal overlap for two calls to be the same SV; distance for insertions/breakends.
MIN_RECIPROCAL = 0.5
POINT_DISTANCE = 100


@dataclass(frozen=True)
class StructuralVariant(Variant):
    """An SV or CNV of the proband, as a variant the inheritance models can rank.

    ``pos`` is the VCF POS; ``start``/``end`` the 0-based half-open span it affects.
    """

    start: int = 0
    end: int = 0
    svtype: str = ""
    kind: str = SV
    length: int | None = None
    #: gene -> consequence, every gene the SV overlaps (the lead ``gene`` first).
    effects: tuple[tuple[str, str], ...] = ()
    #: Unrelated samples of the batch carrying it, and how many were looked at.
    batch_carriers: int = 0
    batch_size: int = 0

    @property
    def key(self) -> str:
        """``chr1:112301-114500 <DEL> 2200 bp`` (1-based, inclusive), ``chr1:500 <INS> 80 bp``.

        >>> StructuralVariant("chr1", 112300, "N", "<DEL>", "G", EXON_DELETION, "", (), (),
        ...     start=112300, end=114500, svtype="DEL", length=-2200).key
        'chr1:112301-114500 <DEL> 2200 bp'
        """
        size = f" {abs(self.length)} bp" if self.length is not None else ""
        if self.svtype in ("DEL", "DUP", "INV"):
            return f"{self.chrom}:{self.start + 1}-{self.end} <{self.svtype}>{size}"
        return f"{self.chrom}:{self.pos} {self.alt}{size}"

    @property
    def weight(self) -> float:
        return SV_WEIGHT.get(self.consequence, OTHER_WEIGHT)

    @property
    def deletes_coding(self) -> bool:
        return self.consequence in CODING_LOSS


# --- consequence --------------------------------------------------------------------------------


def consequence(gene: Gene, svtype: str, start: int, end: int) -> str:
    """What an SV of ``svtype`` over ``[start, end)`` (0-based) does to ``gene``.

    >>> g = Gene("c", 100, 1000, "G1", ((100, 200), (500, 600)), ((150, 200), (500, 550)), "+")
    >>> consequence(g, "DEL", 50, 2000), consequence(g, "DEL", 520, 700)
    ('whole_gene_deletion', 'exon_deletion')
    >>> consequence(g, "DEL", 560, 700), consequence(g, "DEL", 300, 400)
    ('noncoding_exon_deletion', 'intronic')
    >>> consequence(g, "DUP", 50, 2000), consequence(g, "DUP", 300, 2000)
    ('whole_gene_duplication', 'cds_disrupting')
    >>> consequence(g, "INV", 50, 2000), consequence(g, "INV", 300, 2000)
    ('gene_inverted', 'cds_disrupting')
    >>> consequence(g, "INV", 560, 2000), consequence(g, "BND", 300, 301)
    ('exonic', 'cds_disrupting')
    """
    whole = start <= gene.start and end >= gene.end
    exonic = any(start < e and s < end for s, e in gene.exons)
    if svtype == "DEL":
        if whole:
            return WHOLE_GENE_DELETION
        if any(start < e and s < end for s, e in gene.cds):
            return EXON_DELETION
        return NONCODING_EXON_DELETION if exonic else INTRONIC
    if whole:
        return WHOLE_GENE_DUPLICATION if svtype == "DUP" else GENE_INVERTED
    if gene.cds:
        first, last = gene.cds[0][0], gene.cds[-1][1]
        ends = (start,) if svtype in ("INS", "BND") else (start, end)
        if any(first < point < last for point in ends):
            return CDS_DISRUPTING
    return EXONIC if exonic else INTRONIC


def effects(
    genes: Sequence[Gene], chrom: str, svtype: str, start: int, end: int
) -> list[tuple[str, str]]:
    """(gene, consequence) of every gene the SV overlaps."""
    return [
        (g.name, consequence(g, svtype, start, end))
        for g in genes
        if g.contig == chrom and start < g.end and g.start < end
    ]


def lead(hits: Sequence[tuple[str, str]], phenotype: Genes) -> tuple[tuple[str, str], ...]:
    """The hits with the lead gene first: a phenotype gene before others, then the most
    severe consequence, then the first by position."""
    order = sorted(
        range(len(hits)),
        key=lambda i: (
            hits[i][0] not in phenotype.matches,
            -SV_WEIGHT.get(hits[i][1], OTHER_WEIGHT),
            i,
        ),
    )
    return tuple(hits[i] for i in order)


def consequence_text(variant: StructuralVariant) -> str:
    """The consequence cell: the lead gene's, then the other genes' (``GENE:consequence``)."""
    others = [f"{g}:{c}" for g, c in variant.effects[1:]]
    return variant.consequence + (f" (also {','.join(others)})" if others else "")


# --- reading ------------------------------------------------------------------------------------


def _open(path: Path) -> pysam.VariantFile:
    try:
        return pysam.VariantFile(str(path))
    except (OSError, ValueError) as err:
        raise RankError(f"{path}: cannot read as VCF ({err})") from None


def _span(record: pysam.VariantRecord) -> tuple[str, int, int]:
    svtype = str(record.info.get("SVTYPE", "")) if "SVTYPE" in record.header.info else ""
    if not svtype:
        alt = (record.alts or ("",))[0]
        svtype = alt.strip("<>") if alt.startswith("<") else "BND"
    end = record.stop if svtype in ("DEL", "DUP", "INV") else record.start + 1
    return svtype, record.start, end


def _length(record: pysam.VariantRecord) -> int | None:
    if "SVLEN" not in record.header.info or record.info.get("SVLEN") is None:
        return None
    value = record.info["SVLEN"]
    return int(value[0] if isinstance(value, tuple) else value)


def _passed(record: pysam.VariantRecord) -> bool:
    return list(record.filter) == ["PASS"]


def same_call(a: tuple[str, str, int, int], b: tuple[str, str, int, int]) -> bool:
    """Two (chrom, svtype, start, end) are one SV: same type and contig, reciprocal overlap
    >= 0.5 (insertions and breakends: starts within 100 bp).

    >>> same_call(("c", "DEL", 100, 2300), ("c", "DEL", 150, 2400))
    True
    >>> same_call(("c", "DEL", 100, 2300), ("c", "DUP", 100, 2300))
    False
    >>> same_call(("c", "DEL", 100, 2300), ("c", "DEL", 1500, 5000))
    False
    """
    if a[0] != b[0] or a[1] != b[1]:
        return False
    if a[1] in ("INS", "BND"):
        return abs(a[2] - b[2]) <= POINT_DISTANCE
    shared = min(a[3], b[3]) - max(a[2], b[2])
    if shared <= 0:
        return False
    return shared >= MIN_RECIPROCAL * (a[3] - a[2]) and shared >= MIN_RECIPROCAL * (b[3] - b[2])


def proband_file(vcfs: Sequence[Path], proband: str) -> Path | None:
    """The deliverable among ``vcfs`` whose sample is the proband (None: no such file)."""
    for path in vcfs:
        with _open(path) as handle:
            if proband in handle.header.samples:
                return path
    return None


def sv_warnings(path: Path) -> list[str]:
    """The warnings ``genomflow sv deliver`` wrote into a deliverable's header (e.g. a
    sample too shallow for SV calling)."""
    with _open(path) as handle:
        return [str(r.value) for r in handle.header.records if r.key == "sv_warning"]


def _joint_genotypes(joint: Path, names: Sequence[str], proband: str) -> dict[str, tuple[str, ...]]:
    """SV ID -> the GT text of each member, from the group's joint delly calls. A member
    absent from them (not WGS: a panel parent) is uncalled (``./.``)."""
    with _open(joint) as handle:
        if proband not in handle.header.samples:
            raise RankError(f"{joint}: no sample {proband} (the proband) in the joint SV calls")
        called = [n for n in names if n in handle.header.samples]
        out: dict[str, tuple[str, ...]] = {}
        for record in handle:
            if record.id is None:
                continue
            texts = {n: _gt_text(record.samples[n]) for n in called}
            out[record.id] = tuple(texts.get(n, "./.") for n in names)
    return out


def _gt_text(call: pysam.VariantRecordSample) -> str:
    alleles = call.get("GT") or (None, None)
    sep = "|" if call.phased else "/"
    return sep.join("." if a is None else str(a) for a in alleles)


def read_sv(
    proband_vcf: Path, joint: Path, family: Family, genes: Sequence[Gene], phenotype: Genes
) -> list[StructuralVariant]:
    """The proband's PASS SVs that overlap a gene, with every member's genotype."""
    names = [m.sample for m in family.members]
    genotypes = _joint_genotypes(joint, names, family.proband)
    out: list[StructuralVariant] = []
    with _open(proband_vcf) as handle:
        if family.proband not in handle.header.samples:
            raise RankError(f"{proband_vcf}: not the SVs of the proband {family.proband}")
        for record in handle:
            if not _passed(record):
                continue
            svtype, start, end = _span(record)
            hits = effects(genes, record.chrom, svtype, start, end)
            if not hits:
                continue
            if record.id not in genotypes:
                raise RankError(f"{proband_vcf}: SV {record.id} is not in the joint calls {joint}")
            texts = genotypes[record.id]
            ordered = lead(hits, phenotype)
            out.append(
                StructuralVariant(
                    chrom=record.chrom,
                    pos=record.pos,
                    ref=record.ref or "N",
                    alt=(record.alts or ("",))[0],
                    gene=ordered[0][0],
                    consequence=ordered[0][1],
                    hgvs="",
                    genotypes=tuple(parse_genotype(t) for t in texts),
                    gt_text=texts,
                    start=start,
                    end=end,
                    svtype=svtype,
                    kind=SV,
                    length=_length(record),
                    effects=ordered,
                )
            )
    return out


def _cnv_calls(path: Path) -> tuple[str, list[tuple[tuple[str, str, int, int], int | None]]]:
    """(sample, [((chrom, svtype, start, end), copy number)]) of a CNV deliverable's PASS calls."""
    with _open(path) as handle:
        samples = list(handle.header.samples)
        if len(samples) != 1:
            raise RankError(f"{path}: a copy-number deliverable has one sample, not {samples}")
        calls = []
        for record in handle:
            if not _passed(record):
                continue
            svtype, start, end = _span(record)
            cn = record.samples[samples[0]].get("CN")
            calls.append(((record.chrom, svtype, start, end), None if cn is None else int(cn)))
    return samples[0], calls


def cnv_genotype(svtype: str, copies: int | None, male_x: bool) -> int:
    """Genotype code of a CNV from its copy number: a deletion to 0 copies (or a male's X
    to 0) is homozygous, other losses and every gain heterozygous.

    >>> cnv_genotype("DEL", 0, False) == HOM_ALT, cnv_genotype("DEL", 1, False) == HET
    (True, True)
    >>> cnv_genotype("DUP", 3, False) == HET
    True
    """
    if svtype == "DEL" and copies == 0:
        return HOM_ALT
    return HOM_ALT if male_x and svtype == "DEL" else HET


def read_cnv(
    cnv_vcfs: Sequence[Path],
    family: Family,
    genes: Sequence[Gene],
    phenotype: Genes,
    x_contig: str = "chrX",
) -> list[StructuralVariant]:
    """The proband's PASS copy-number calls that overlap a gene. A member with a CNV
    deliverable without a matching call is homozygous reference; one without a deliverable
    is uncalled."""
    by_sample = dict(_cnv_calls(p) for p in cnv_vcfs)
    if family.proband not in by_sample:
        return []
    out: list[StructuralVariant] = []
    for span, _copies in by_sample[family.proband]:
        chrom, svtype, start, end = span
        hits = effects(genes, chrom, svtype, start, end)
        if not hits:
            continue
        codes: list[int] = []
        texts: list[str] = []
        for member in family.members:
            calls = by_sample.get(member.sample)
            male_x = chrom == x_contig and member.sex == "male"
            if calls is None:
                codes.append(MISSING)
                texts.append("CN=.")
                continue
            match = next((cn for s, cn in calls if same_call(s, span)), -1)
            if match == -1:
                codes.append(HOM_REF)
                texts.append("CN=normal")
            else:
                codes.append(cnv_genotype(svtype, match, male_x))
                texts.append(f"CN={'.' if match is None else match}")
        ordered = lead(hits, phenotype)
        out.append(
            StructuralVariant(
                chrom=chrom,
                pos=start,
                ref="N",
                alt=f"<{svtype}>",
                gene=ordered[0][0],
                consequence=ordered[0][1],
                hgvs="",
                genotypes=tuple(codes),
                gt_text=tuple(texts),
                start=start,
                end=end,
                svtype=svtype,
                kind=CNV,
                length=(end - start) * (-1 if svtype == "DEL" else 1),
                effects=ordered,
            )
        )
    return out


def without_repeats(
    svs: Sequence[StructuralVariant], cnvs: Sequence[StructuralVariant]
) -> list[StructuralVariant]:
    """The SVs, then the CNVs that no SV of the same type already reports."""
    spans = [(v.chrom, v.svtype, v.start, v.end) for v in svs]
    kept = [
        c for c in cnvs if not any(same_call((c.chrom, c.svtype, c.start, c.end), s) for s in spans)
    ]
    return [*svs, *kept]


#: One sample's calls: (chrom, svtype) -> sorted (start, end).
Calls = dict[tuple[str, str], list[tuple[int, int]]]


def batch_calls(vcfs: Iterable[Path]) -> dict[str, Calls]:
    """Sample -> its PASS calls, from SV or CNV deliverables of the batch's unrelated
    samples (a sample with both gets both)."""
    out: dict[str, Calls] = {}
    for path in vcfs:
        with _open(path) as handle:
            names = list(handle.header.samples)
            for sample in names:
                out.setdefault(sample, {})
            for record in handle:
                if _passed(record):
                    svtype, start, end = _span(record)
                    for sample in names:
                        out[sample].setdefault((record.chrom, svtype), []).append((start, end))
    for calls in out.values():
        for spans in calls.values():
            spans.sort()
    return out


def carries(calls: Calls, span: tuple[str, str, int, int]) -> bool:
    """A sample's calls include ``span`` (:func:`same_call`); only calls starting within
    reach are compared (a reciprocal overlap >= 0.5 needs a start after
    ``start - 2 x length``)."""
    spans = calls.get((span[0], span[1]), [])
    length = span[3] - span[2]
    low = bisect.bisect_left(spans, (span[2] - 2 * length - POINT_DISTANCE, -1))
    high = bisect.bisect_right(spans, (span[3] + POINT_DISTANCE, span[3] + POINT_DISTANCE))
    return any(same_call(span, (span[0], span[1], s, e)) for s, e in spans[low:high])


def add_batch_frequency(
    variants: Sequence[StructuralVariant], batch: Mapping[str, Calls]
) -> list[StructuralVariant]:
    """Each SV with how many of the batch's unrelated samples carry it."""
    out = []
    for v in variants:
        span = (v.chrom, v.svtype, v.start, v.end)
        carriers = sum(carries(calls, span) for calls in batch.values())
        out.append(dataclasses.replace(v, batch_carriers=carriers, batch_size=len(batch)))
    return out


# --- ranking ------------------------------------------------------------------------------------


def sv_frequency_weight(variant: StructuralVariant) -> float:
    """1 when absent from the batch's unrelated samples, 0 when one of them has it, 0.5 when
    the batch has no unrelated sample (nothing known)."""
    if variant.batch_size == 0:
        return 0.5
    return 1.0 if variant.batch_carriers == 0 else 0.0


def points(variant: Variant, population_checked: bool) -> float:
    """Frequency, consequence and ClinVar points of a small variant or an SV."""
    if isinstance(variant, StructuralVariant):
        return (
            WEIGHTS["frequency"] * sv_frequency_weight(variant)
            + WEIGHTS["consequence"] * variant.weight
        )
    return variant_points(variant, population_checked)


def sv_criteria(
    variant: StructuralVariant,
    genes: Genes,
    *,
    de_novo: bool,
    confirmed: bool,
    in_trans_pathogenic: bool,
) -> list[str]:
    """PVS1 (a deletion removing coding bases of a loss-of-function gene), PS2/PM6 (de novo),
    PM3 (in trans with a pathogenic small variant). PM2, BA1 and BS1 are not decided: there
    is no population SV data."""
    return acmg.criteria(
        acmg.Evidence(
            null_variant=variant.svtype == "DEL" and variant.deletes_coding,
            lof_mechanism=variant.gene in genes.lof,
            population_checked=False,
            population_af=None,
            de_novo=de_novo,
            parentage_confirmed=confirmed,
            in_trans_with_pathogenic=in_trans_pathogenic,
        )
    )


def _phenotype(gene: str, genes: Genes) -> tuple[str, float]:
    matched = genes.matches.get(gene, ())
    return ",".join(matched) or NO_MODEL, 1.0 if matched else 0.0


def rank_structural(
    variants: Sequence[StructuralVariant],
    family: Family,
    genes: Genes,
    *,
    parentage_confirmed: bool,
    x_contig: str = "chrX",
) -> list[Candidate]:
    """One candidate per SV, scored on the small variants' scale (rank not yet set)."""
    out = []
    for variant in variants:
        model = single_model(variant, family, x_contig)
        met = sv_criteria(
            variant,
            genes,
            de_novo=model == DE_NOVO,
            confirmed=parentage_confirmed,
            in_trans_pathogenic=False,
        )
        match, weight = _phenotype(variant.gene, genes)
        score = (
            WEIGHTS["inheritance"] * model_fit(model, variant.gene, genes)
            + WEIGHTS["phenotype"] * weight
            + points(variant, False)
        )
        out.append(Candidate((variant,), model, match, met, acmg.classify(met), round(score, 2)))
    return out


def _sv_pathogenic(variant: StructuralVariant, genes: Genes) -> bool:
    return variant.svtype == "DEL" and variant.deletes_coding and variant.gene in genes.lof


def _pathogenic(variant: Variant, genes: Genes) -> bool:
    if isinstance(variant, StructuralVariant):
        return _sv_pathogenic(variant, genes)
    return is_pathogenic(variant, genes)


def knockouts(svs: Sequence[StructuralVariant], proband: int) -> dict[str, list[StructuralVariant]]:
    """Gene -> the proband's heterozygous SVs that knock it out (consequence weight 1:
    a deletion of coding bases, or a breakpoint in the coding span), each with that gene
    as its ``gene`` and its consequence there."""
    out: dict[str, list[StructuralVariant]] = {}
    for sv in svs:
        if sv.genotypes[proband] != HET:
            continue
        for gene, effect in sv.effects:
            if SV_WEIGHT.get(effect, OTHER_WEIGHT) == 1.0:
                out.setdefault(gene, []).append(
                    dataclasses.replace(sv, gene=gene, consequence=effect)
                )
    return out


def _inside_deletion(variant: Variant, svs: Sequence[StructuralVariant]) -> bool:
    return any(
        sv.svtype == "DEL" and sv.chrom == variant.chrom and sv.start < variant.pos <= sv.end
        for sv in svs
    )


def compound_with_small(
    svs: Sequence[StructuralVariant],
    small: Sequence[Variant],
    family: Family,
    genes: Genes,
    *,
    population_checked: bool,
    parentage_confirmed: bool,
    bs1_af: float = acmg.BS1_AF,
) -> list[Candidate]:
    """Compound heterozygotes of an SV that knocks a gene out (:func:`knockouts`) with a
    rare, damaging (null or moderate) small variant of the same gene, or with another such
    SV, phased in trans by the parents (``AR_comphet``) or not phaseable
    (``AR_comphet_unphased``); pairs in cis are not candidates. A small variant inside the
    deleted span shows as homozygous in the proband (hemizygous over the deletion): it pairs
    with that deletion too."""
    proband = [m.sample for m in family.members].index(family.proband)
    unaffected = [i for i, m in enumerate(family.members) if m.affected == "no"]
    by_gene = knockouts(svs, proband)
    out: list[Candidate] = []
    for v in small:
        lost = by_gene.get(v.gene, [])
        rare = v.population_af is None or v.population_af < bs1_af
        if not lost or not rare or consequence_weight(v.consequence) == OTHER_WEIGHT:
            continue
        gt = v.genotypes[proband]
        if gt != HET and not (gt == HOM_ALT and _inside_deletion(v, lost)):
            continue
        for sv in lost:
            model = _pair_model(sv, v, family, unaffected)
            if model is not None:
                out.append(
                    _pair(sv, v, model, genes, population_checked, parentage_confirmed, bs1_af)
                )
    for lost in by_gene.values():
        for i, a in enumerate(lost):
            for b in lost[i + 1 :]:
                model = _pair_model(a, b, family, unaffected)
                if model is not None:
                    out.append(_pair(a, b, model, genes, False, parentage_confirmed, bs1_af))
    return out


def _pair_model(
    a: StructuralVariant, b: Variant, family: Family, unaffected: Sequence[int]
) -> str | None:
    if any(carries_alt(a.genotypes[k]) and carries_alt(b.genotypes[k]) for k in unaffected):
        return None  # an unaffected member has both
    origins = {allele_origin(a, family), allele_origin(b, family)}
    if origins == {"father", "mother"} or ("de_novo" in origins and origins & {"father", "mother"}):
        return AR_COMPHET
    if origins <= {"father"} or origins <= {"mother"} or origins == {"de_novo"}:
        return None  # in cis
    return AR_COMPHET_UNPHASED


def _member_criteria(
    this: Variant,
    in_trans_pathogenic: bool,
    genes: Genes,
    population_checked: bool,
    parentage_confirmed: bool,
    bs1_af: float,
) -> list[str]:
    if isinstance(this, StructuralVariant):
        return sv_criteria(
            this,
            genes,
            de_novo=False,
            confirmed=parentage_confirmed,
            in_trans_pathogenic=in_trans_pathogenic,
        )
    return variant_criteria(
        this,
        genes,
        checked=population_checked,
        de_novo=False,
        confirmed=parentage_confirmed,
        in_trans_pathogenic=in_trans_pathogenic,
        bs1_af=bs1_af,
    )


def _pair(
    sv: StructuralVariant,
    other: Variant,
    model: str,
    genes: Genes,
    population_checked: bool,
    parentage_confirmed: bool,
    bs1_af: float,
) -> Candidate:
    in_trans = model == AR_COMPHET
    met = [
        _member_criteria(
            this,
            in_trans and _pathogenic(partner, genes),
            genes,
            population_checked,
            parentage_confirmed,
            bs1_af,
        )
        for this, partner in ((sv, other), (other, sv))
    ]
    match, weight = _phenotype(sv.gene, genes)
    score = (
        WEIGHTS["inheritance"] * model_fit(model, sv.gene, genes)
        + WEIGHTS["phenotype"] * weight
        + min(points(sv, population_checked), points(other, population_checked))
    )
    return Candidate(
        (sv, other),
        model,
        match,
        [";".join(m) for m in met],
        " + ".join(acmg.classify(m) for m in met),
        round(score, 2),
    )


def merge(*lists: Sequence[Candidate]) -> list[Candidate]:
    """Every candidate in one list, best score first, ranks 1..n (ties by position)."""
    merged = [c for candidates in lists for c in candidates]
    merged.sort(key=lambda c: (-c.score, c.variants[0].chrom, c.variants[0].pos))
    for index, candidate in enumerate(merged, start=1):
        candidate.rank = index
    return merged


# --- output -------------------------------------------------------------------------------------


def kind(candidate: Candidate) -> str:
    """``small``, ``SV``, ``CNV``, or a mixed pair's kinds joined by `` + `` (a pair of two
    small variants is ``small``)."""
    kinds = (v.kind if isinstance(v, StructuralVariant) else SMALL for v in candidate.variants)
    return " + ".join(dict.fromkeys(kinds))


def frequency_text(variant: StructuralVariant) -> str:
    """The population_af cell of an SV: its batch frequency (no population SV data).

    >>> v = StructuralVariant("c", 1, "N", "<DEL>", "G", "", "", (), (), batch_size=4)
    >>> frequency_text(v), frequency_text(dataclasses.replace(v, batch_size=0))
    ('batch 0/4', 'NA')
    """
    if variant.batch_size == 0:
        return "NA"
    return f"batch {variant.batch_carriers}/{variant.batch_size}"


def annotate_rows(candidates: Sequence[Candidate], table: Sequence[dict[str, str]]) -> None:
    """Add the ``kind`` column to rows made by :func:`genomflow.rare.rank.rows`, and write
    the SVs' consequence (with the other genes) and batch frequency in their cells."""
    for candidate, row in zip(candidates, table, strict=True):
        row[KIND_COLUMN] = kind(candidate)
        structural = [v for v in candidate.variants if isinstance(v, StructuralVariant)]
        if not structural:
            continue
        cells = row["population_af"].split(" + ")
        consequences = row["consequence"].split(" + ")
        for index, v in enumerate(candidate.variants):
            if isinstance(v, StructuralVariant):
                cells[index] = frequency_text(v)
                consequences[index] = consequence_text(v)
        row["population_af"] = " + ".join(cells)
        row["consequence"] = " + ".join(consequences)


def columns_with_kind(header: Sequence[str]) -> tuple[str, ...]:
    """candidates.tsv's columns with ``kind`` after ``variant``."""
    out = list(header)
    out.insert(out.index("variant") + 1, KIND_COLUMN)
    return tuple(out)
