"""Rank the candidate variants of a rare-disease family: inheritance, phenotype, frequency.

Input: the family's joint germline VCF annotated with consequences (INFO/ANN of snpEff,
read by :func:`genomflow.snpeff.parse_ann`) and, when configured, ClinVar (INFO/CLNSIG);
the pedigree from the sheet; the genes of the proband's phenotype (:mod:`genomflow.rare.hpo`)
and of selected panels; optionally a population VCF (INFO/AF) and the identity check's
verdicts on parentage.

Reading: ``bcftools query`` keeps, at C speed, the records where the proband carries an
alternative allele and that have a consequence in a gene; only those are parsed in Python
(a whole-genome trio has ~5 million records, a few percent of them in genes). Variants
outside genes are not candidates (stated in the output's header).

Inheritance models (own implementation, tested case by case in tests/unit/test_rare_rank.py;
genmod 3.12 needs a PED file and rewrites the whole VCF in pure Python, too slow for 5
million records on one core, and it has no notion of confirmed parentage):

* ``de_novo``: proband carries the allele, both parents sequenced and homozygous reference.
* ``AR_hom``: proband homozygous alternative (not on X in a male); no unaffected member
  homozygous; each sequenced parent carries it or is uncalled.
* ``AR_comphet``: two heterozygous variants of one gene in the proband, phased in trans by
  the parents (one from the father only, one from the mother only; or one de novo); no
  unaffected member carries both. Without both parents the pair is ``AR_comphet_unphased``.
* ``XL``: on the X chromosome, a male proband hemizygous (or a female homozygous); the father
  does not carry it unless affected.
* ``AD``: proband heterozygous, every affected member carries it, no unaffected member does,
  and at least one other affected member (an inherited dominant variant); ``AD_unsegregated``
  when no relative can tell (singleton, or relatives of unknown status).

Score (0-100, documented in docs/rare_disease.md): 30 x inheritance fit + 30 x phenotype
match + 20 x frequency + 15 x consequence + 5 x ClinVar. Variants outside the phenotype
genes and panels stay in the list, ranked lower, with ``phenotype_match`` = ``none``.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from genomflow import snpeff
from genomflow.errors import GenomflowError
from genomflow.rare import acmg

# --- consequences -----------------------------------------------------------------------------

#: Sequence Ontology terms (as snpEff writes them) of null variants and of moderate ones.
NULL_CONSEQUENCES = frozenset(
    {
        "stop_gained",
        "frameshift_variant",
        "splice_acceptor_variant",
        "splice_donor_variant",
        "start_lost",
        "exon_loss_variant",
        "transcript_ablation",
    }
)
MODERATE_CONSEQUENCES = frozenset(
    {
        "missense_variant",
        "inframe_deletion",
        "inframe_insertion",
        "conservative_inframe_deletion",
        "disruptive_inframe_deletion",
        "conservative_inframe_insertion",
        "disruptive_inframe_insertion",
        "stop_lost",
        "splice_region_variant",
    }
)
#: Consequence weight (0-1) in the score.
NULL_WEIGHT = 1.0
MODERATE_WEIGHT = 0.6
OTHER_WEIGHT = 0.1

# --- models -------------------------------------------------------------------------------------

DE_NOVO = "de_novo"
AR_HOM = "AR_hom"
AR_COMPHET = "AR_comphet"
AR_COMPHET_UNPHASED = "AR_comphet_unphased"
XL = "XL"
AD = "AD"
AD_UNSEGREGATED = "AD_unsegregated"
NO_MODEL = "none"

#: Inheritance fit (0-1) of each model in the score.
MODEL_FIT: dict[str, float] = {
    DE_NOVO: 1.0,
    AR_HOM: 1.0,
    AR_COMPHET: 1.0,
    XL: 1.0,
    AD: 0.8,
    AR_COMPHET_UNPHASED: 0.5,
    AD_UNSEGREGATED: 0.3,
    NO_MODEL: 0.0,
}
#: Mode of inheritance of the gene (HPO annotation or panel) each model agrees with.
MODEL_MOI: dict[str, str] = {
    DE_NOVO: "AD",
    AD: "AD",
    AD_UNSEGREGATED: "AD",
    AR_HOM: "AR",
    AR_COMPHET: "AR",
    AR_COMPHET_UNPHASED: "AR",
    XL: "XL",
}
#: Factor on the fit when the gene's known modes of inheritance exclude the model.
MOI_MISMATCH = 0.6

WEIGHTS = {
    "inheritance": 30.0,
    "phenotype": 30.0,
    "frequency": 20.0,
    "consequence": 15.0,
    "clinvar": 5.0,
}

# Genotype codes.
HOM_REF, HET, HOM_ALT, MISSING = 0, 1, 2, -1

CLINVAR_PATHOGENIC = ("Pathogenic", "Likely_pathogenic", "Pathogenic/Likely_pathogenic")
CLINVAR_BENIGN = ("Benign", "Likely_benign", "Benign/Likely_benign")

#: Columns of candidates.tsv before the per-member genotype columns, and after. ``hgvs`` is the
#: annotation's own text (bcftools csq: transcript, genomic change and protein change);
#: ``hgvs_c`` and ``hgvs_p`` are HGVS on the reporting transcript as the sample report's
#: variants carry them (schema 1.2.0), "." until the annotation provides them (snpEff, #17).
COLUMNS_HEAD = ("rank", "gene", "variant", "hgvs", "hgvs_c", "hgvs_p", "consequence")
COLUMNS_TAIL = (
    "inheritance",
    "phenotype_match",
    "population_af",
    "clinvar",
    "acmg_criteria",
    "provisional_class",
    "score",
)


class RankError(GenomflowError):
    """The family, its VCF or the gene lists cannot be ranked."""


@dataclass(frozen=True)
class Member:
    """A sequenced family member."""

    sample: str
    sex: str
    affected: str  # yes / no / unknown
    father: str | None = None
    mother: str | None = None


@dataclass(frozen=True)
class Family:
    """The family, its proband and what cannot be known from it."""

    family: str
    proband: str
    members: tuple[Member, ...]
    limits: tuple[str, ...] = ()

    def member(self, sample: str) -> Member:
        return next(m for m in self.members if m.sample == sample)


@dataclass(frozen=True)
class Genes:
    """Genes of the phenotype and of panels, with what is known of them."""

    #: gene -> how it matches (``HPO:HP:...`` terms, ``panel:NAME``).
    matches: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: gene -> known modes of inheritance (AD, AR, XL).
    inheritance: dict[str, frozenset[str]] = field(default_factory=dict)
    #: genes where loss of function is a known mechanism.
    lof: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Variant:
    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str
    consequence: str
    hgvs: str
    genotypes: tuple[int, ...]  # per member, family order
    gt_text: tuple[str, ...]
    clinvar: str = ""
    population_af: float | None = None
    #: HGVS c. and p. on the reporting transcript ("" when the annotation has none).
    hgvs_c: str = ""
    hgvs_p: str = ""

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"


@dataclass
class Candidate:
    """One row of candidates.tsv: a variant, or a compound-heterozygous pair."""

    variants: tuple[Variant, ...]
    model: str
    phenotype_match: str
    criteria: list[str]
    provisional_class: str
    score: float
    rank: int = 0


# --- family -------------------------------------------------------------------------------------


def family_from_members(family: str, members: Sequence[Member]) -> Family:
    """Choose the proband and state the limits of the analysis.

    The proband is the first affected member (``affected`` yes) whose parents are in the
    family, else the first affected member. No affected member is an error.
    """
    affected = [m for m in members if m.affected == "yes"]
    if not affected:
        raise RankError(
            f"family {family}: no affected member (set 'affected' to yes, or give 'hpo' terms, "
            "for the proband in samples.tsv)"
        )
    names = {m.sample for m in members}
    with_parents = [m for m in affected if m.father in names and m.mother in names]
    proband = (with_parents or affected)[0]
    limits: list[str] = []
    if proband.father not in names or proband.mother not in names:
        missing = [
            r for r, p in (("father", proband.father), ("mother", proband.mother)) if p not in names
        ]
        limits.append(
            f"proband {proband.sample} has no {' and no '.join(missing)} in the sheet: de novo "
            "status and the phase of compound heterozygotes cannot be decided"
        )
    if any(m.affected == "unknown" for m in members if m.sample != proband.sample):
        limits.append("members of unknown affected status do not count in segregation")
    return Family(family, proband.sample, tuple(members), tuple(limits))


# --- reading ------------------------------------------------------------------------------------


def parse_genotype(text: str) -> int:
    alleles = text.replace("|", "/").split("/")
    if any(a == "." for a in alleles):
        return MISSING
    alts = sum(a != "0" for a in alleles)
    if alts == 0:
        return HOM_REF
    return HOM_ALT if alts == len(alleles) else HET


def _worst_consequence(ann: str) -> tuple[str, str, str, str, str] | None:
    """(consequence, gene, hgvs, hgvs_c, hgvs_p) of the most severe ANN entry in a gene, None
    without one; ``hgvs`` is ``transcript:c.…;p.(…)``, the other two as the report writes them."""
    best: tuple[float, str, str, str, str, str] | None = None
    for entry in snpeff.parse_ann(ann):
        if not entry.gene or not entry.terms or not entry.on_transcript:
            continue
        consequence = "&".join(entry.terms)
        weight = consequence_weight(consequence)
        dna = f"{entry.transcript}:{entry.hgvs_c}" if entry.hgvs_c else ""
        hgvs = ";".join(x for x in (dna, entry.protein or "") if x)
        if best is None or weight > best[0]:
            best = (weight, consequence, entry.gene, hgvs, entry.hgvs_c, entry.protein or "")
    return None if best is None else best[1:]


def consequence_weight(consequence: str) -> float:
    """Weight of one consequence (or ``a&b`` list) in the score."""
    parts = consequence.split("&")
    if any(p in NULL_CONSEQUENCES for p in parts):
        return NULL_WEIGHT
    if any(p in MODERATE_CONSEQUENCES for p in parts):
        return MODERATE_WEIGHT
    return OTHER_WEIGHT


def read_candidates(vcf: Path, family: Family) -> tuple[list[Variant], bool]:
    """Records in genes where the proband carries an alternative allele (and if ClinVar is in)."""
    try:
        with pysam.VariantFile(str(vcf)) as handle:
            header_samples = list(handle.header.samples)
            info = set(handle.header.info)
    except (OSError, ValueError) as err:
        raise RankError(f"{vcf}: cannot read as VCF ({err})") from None
    names = [m.sample for m in family.members]
    missing = [n for n in names if n not in header_samples]
    if missing:
        raise RankError(
            f"{vcf}: samples {', '.join(missing)} of family {family.family} are not in the VCF"
        )
    if snpeff.ANN_TAG not in info:
        raise RankError(
            f"{vcf}: no INFO/ANN (consequences): rare-disease ranking needs gene models "
            "(reference.gff3) for snpEff"
        )
    has_clinvar = "CLNSIG" in info
    proband_index = names.index(family.proband)
    fmt = "%CHROM\t%POS\t%REF\t%ALT\t%INFO/ANN\t" + ("%INFO/CLNSIG" if has_clinvar else ".")
    # view filters whole records (a per-sample expression in query would drop samples).
    view = [
        "bcftools", "view", "-Ou", "-s", ",".join(names),
        "-i", f'INFO/ANN!="." && GT[{proband_index}]="alt"', str(vcf),
    ]  # fmt: skip
    query = ["bcftools", "query", "-f", fmt + "[\t%GT]\n", "-"]
    viewer = subprocess.Popen(view, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process = subprocess.Popen(
        query, stdin=viewer.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert viewer.stdout is not None
    viewer.stdout.close()
    assert process.stdout is not None
    variants: list[Variant] = []
    for line in process.stdout:
        fields = line.rstrip("\n").split("\t")
        worst = _worst_consequence(fields[4])
        if worst is None or "," in fields[3]:
            continue
        gts = tuple(fields[6:])
        variants.append(
            Variant(
                chrom=fields[0],
                pos=int(fields[1]),
                ref=fields[2],
                alt=fields[3],
                consequence=worst[0],
                gene=worst[1],
                hgvs=worst[2],
                hgvs_c=worst[3],
                hgvs_p=worst[4],
                genotypes=tuple(parse_genotype(g) for g in gts),
                gt_text=gts,
                clinvar="" if fields[5] == "." else fields[5],
            )
        )
    _, stderr = process.communicate()
    view_error = viewer.stderr.read().decode() if viewer.stderr is not None else ""
    if viewer.wait() != 0 or process.returncode != 0:
        raise RankError(f"{vcf}: bcftools view/query failed: {(view_error or stderr).strip()}")
    return variants, has_clinvar


def add_population_af(variants: Sequence[Variant], population_vcf: Path) -> list[Variant]:
    """Each variant with the maximum INFO/AF of its allele in the population VCF (None: absent)."""
    out: list[Variant] = []
    with pysam.VariantFile(str(population_vcf)) as handle:
        for variant in variants:
            af: float | None = None
            try:
                records = handle.fetch(variant.chrom, variant.pos - 1, variant.pos)
            except ValueError:
                records = iter(())
            for record in records:
                if record.pos != variant.pos or record.ref != variant.ref:
                    continue
                for index, alt in enumerate(record.alts or ()):
                    if alt != variant.alt:
                        continue
                    value = record.info.get("AF")
                    values = value if isinstance(value, tuple) else (value,)
                    if index < len(values) and values[index] is not None:
                        af = max(af or 0.0, float(values[index]))
            out.append(dataclasses.replace(variant, population_af=af))
    return out


# --- inheritance --------------------------------------------------------------------------------


def carries_alt(gt: int) -> bool:
    return gt in (HET, HOM_ALT)


def single_model(variant: Variant, family: Family, x_contig: str) -> str:
    """The best single-variant model of ``variant`` (see the module docstring)."""
    names = [m.sample for m in family.members]
    gt = dict(zip(names, variant.genotypes, strict=True))
    proband = family.member(family.proband)
    p = gt[proband.sample]
    father = gt.get(proband.father or "") if proband.father in gt else None
    mother = gt.get(proband.mother or "") if proband.mother in gt else None
    others = [m for m in family.members if m.sample != proband.sample]
    unaffected = [m for m in others if m.affected == "no"]
    affected = [m for m in others if m.affected == "yes"]

    if father == HOM_REF and mother == HOM_REF and carries_alt(p):
        return DE_NOVO
    on_x = variant.chrom == x_contig
    if on_x and (proband.sex == "male" or p == HOM_ALT) and carries_alt(p):
        father_member = next((m for m in others if m.sample == proband.father), None)
        father_ok = (
            father is None
            or not carries_alt(father)
            or (father_member is not None and father_member.affected == "yes")
        )
        if (
            father_ok
            and all(gt[m.sample] != HOM_ALT for m in unaffected if m.sex == "female")
            and all(not carries_alt(gt[m.sample]) for m in unaffected if m.sex == "male")
        ):
            return XL
        return NO_MODEL
    if p == HOM_ALT:
        parents_ok = all(g in (HET, HOM_ALT, MISSING) for g in (father, mother) if g is not None)
        if parents_ok and all(gt[m.sample] != HOM_ALT for m in unaffected):
            return AR_HOM
        return NO_MODEL
    if p == HET:
        if any(carries_alt(gt[m.sample]) for m in unaffected):
            return NO_MODEL
        if any(gt[m.sample] == HOM_REF for m in affected):
            return NO_MODEL
        if any(carries_alt(gt[m.sample]) for m in affected):
            return AD
        if father is None and mother is None and not unaffected:
            return AD_UNSEGREGATED
        # Inherited from an unaffected or unknown-status parent: fits a recessive pair only.
        return NO_MODEL if unaffected else AD_UNSEGREGATED
    return NO_MODEL


def allele_origin(variant: Variant, family: Family) -> str:
    """``father``, ``mother``, ``de_novo`` or ``unknown`` for a heterozygous proband allele."""
    gt = dict(zip((m.sample for m in family.members), variant.genotypes, strict=True))
    proband = family.member(family.proband)
    father = gt.get(proband.father) if proband.father in gt else None
    mother = gt.get(proband.mother) if proband.mother in gt else None
    if father is None or mother is None or MISSING in (father, mother):
        return "unknown"
    if father == HOM_REF and mother == HOM_REF:
        return "de_novo"
    if carries_alt(father) and mother == HOM_REF:
        return "father"
    if carries_alt(mother) and father == HOM_REF:
        return "mother"
    return "unknown"


def compound_pairs(
    variants: Sequence[Variant], family: Family, *, max_af: float = acmg.BS1_AF
) -> list[tuple[Variant, Variant, str]]:
    """Pairs of heterozygous proband variants in one gene that fit a recessive model.

    Only variants that can be part of a recessive cause are paired: population AF below
    ``max_af`` (or unknown) and a null or moderate consequence; otherwise the common
    heterozygous variants of a genome would make (quadratically many) meaningless pairs.
    """
    proband_index = [m.sample for m in family.members].index(family.proband)
    by_gene: dict[str, list[Variant]] = {}
    for variant in variants:
        rare = variant.population_af is None or variant.population_af < max_af
        damaging = consequence_weight(variant.consequence) > OTHER_WEIGHT
        if variant.genotypes[proband_index] == HET and rare and damaging:
            by_gene.setdefault(variant.gene, []).append(variant)
    unaffected = [i for i, m in enumerate(family.members) if m.affected == "no"]
    pairs: list[tuple[Variant, Variant, str]] = []
    for gene_variants in by_gene.values():
        if len(gene_variants) < 2:
            continue
        origins = [allele_origin(v, family) for v in gene_variants]
        for i in range(len(gene_variants)):
            for j in range(i + 1, len(gene_variants)):
                a, b = gene_variants[i], gene_variants[j]
                if any(
                    carries_alt(a.genotypes[k]) and carries_alt(b.genotypes[k]) for k in unaffected
                ):
                    continue  # an unaffected member has both: not causal in trans
                pair = {origins[i], origins[j]}
                if pair == {"father", "mother"} or (
                    "de_novo" in pair and pair & {"father", "mother"}
                ):
                    pairs.append((a, b, AR_COMPHET))
                elif pair <= {"father"} or pair <= {"mother"} or pair == {"de_novo"}:
                    continue  # in cis (both from one parent)
                else:
                    pairs.append((a, b, AR_COMPHET_UNPHASED))
    return pairs


# --- scoring ------------------------------------------------------------------------------------


def frequency_weight(af: float | None, checked: bool) -> float:
    """1 when absent or < 1e-4, 0.5 below 1 %, 0 at 1 % or more; 0.5 when not checked."""
    if not checked:
        return 0.5
    if af is None or af < 1e-4:
        return 1.0
    return 0.5 if af < acmg.BS1_AF else 0.0


def clinvar_weight(clnsig: str) -> float:
    if any(clnsig.startswith(x) for x in CLINVAR_PATHOGENIC):
        return 1.0
    if any(clnsig.startswith(x) for x in CLINVAR_BENIGN):
        return -1.0
    return 0.3 if clnsig else 0.0


def model_fit(model: str, gene: str, genes: Genes) -> float:
    fit = MODEL_FIT[model]
    known = genes.inheritance.get(gene)
    if known and model in MODEL_MOI and MODEL_MOI[model] not in known:
        fit *= MOI_MISMATCH
    return fit


def variant_points(variant: Variant, checked: bool) -> float:
    return (
        WEIGHTS["frequency"] * frequency_weight(variant.population_af, checked)
        + WEIGHTS["consequence"] * consequence_weight(variant.consequence)
        + WEIGHTS["clinvar"] * clinvar_weight(variant.clinvar)
    )


def variant_criteria(
    variant: Variant,
    genes: Genes,
    *,
    checked: bool,
    de_novo: bool,
    confirmed: bool,
    in_trans_pathogenic: bool,
    bs1_af: float,
) -> list[str]:
    null = consequence_weight(variant.consequence) == NULL_WEIGHT
    return acmg.criteria(
        acmg.Evidence(
            null_variant=null,
            lof_mechanism=variant.gene in genes.lof,
            population_checked=checked,
            population_af=variant.population_af,
            de_novo=de_novo,
            parentage_confirmed=confirmed,
            in_trans_with_pathogenic=in_trans_pathogenic,
        ),
        bs1_af=bs1_af,
    )


def is_pathogenic(variant: Variant, genes: Genes) -> bool:
    null = consequence_weight(variant.consequence) == NULL_WEIGHT
    return (null and variant.gene in genes.lof) or clinvar_weight(variant.clinvar) == 1.0


def rank(
    variants: Sequence[Variant],
    family: Family,
    genes: Genes,
    *,
    population_checked: bool,
    parentage_confirmed: bool,
    x_contig: str = "chrX",
    bs1_af: float = acmg.BS1_AF,
) -> list[Candidate]:
    """Score every variant and every compound-het pair; sort by score (best first)."""
    candidates: list[Candidate] = []
    for variant in variants:
        model = single_model(variant, family, x_contig)
        met = variant_criteria(
            variant,
            genes,
            checked=population_checked,
            de_novo=model == DE_NOVO,
            confirmed=parentage_confirmed,
            in_trans_pathogenic=False,
            bs1_af=bs1_af,
        )
        phenotype = genes.matches.get(variant.gene, ())
        score = (
            WEIGHTS["inheritance"] * model_fit(model, variant.gene, genes)
            + WEIGHTS["phenotype"] * (1.0 if phenotype else 0.0)
            + variant_points(variant, population_checked)
        )
        candidates.append(
            Candidate(
                (variant,),
                model,
                ",".join(phenotype) or NO_MODEL,
                met,
                acmg.classify(met),
                round(score, 2),
            )
        )
    for a, b, model in compound_pairs(variants, family, max_af=bs1_af):
        met_pair: list[str] = []
        for this, other in ((a, b), (b, a)):
            in_trans = model == AR_COMPHET and is_pathogenic(other, genes)
            met = variant_criteria(
                this,
                genes,
                checked=population_checked,
                de_novo=False,
                confirmed=parentage_confirmed,
                in_trans_pathogenic=in_trans,
                bs1_af=bs1_af,
            )
            met_pair.append(";".join(met))
        classes = [acmg.classify(m.split(";") if m else []) for m in met_pair]
        phenotype = genes.matches.get(a.gene, ())
        score = (
            WEIGHTS["inheritance"] * model_fit(model, a.gene, genes)
            + WEIGHTS["phenotype"] * (1.0 if phenotype else 0.0)
            + min(variant_points(a, population_checked), variant_points(b, population_checked))
        )
        candidates.append(
            Candidate(
                (a, b),
                model,
                ",".join(phenotype) or NO_MODEL,
                met_pair,
                " + ".join(classes),
                round(score, 2),
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.variants[0].chrom, c.variants[0].pos))
    for index, candidate in enumerate(candidates, start=1):
        candidate.rank = index
    return candidates


# --- output -------------------------------------------------------------------------------------


def _af_text(af: float | None, checked: bool) -> str:
    if not checked:
        return "NA"
    return "0" if af is None else f"{af:.6g}"


def rows(
    candidates: Iterable[Candidate], family: Family, *, population_checked: bool
) -> list[dict[str, str]]:
    """Rows of candidates.tsv (one column ``gt_<sample>`` per family member)."""
    out: list[dict[str, str]] = []
    for c in candidates:
        join = " + ".join
        row = {
            "rank": str(c.rank),
            "gene": c.variants[0].gene,
            "variant": join(v.key for v in c.variants),
            "hgvs": join(v.hgvs or "." for v in c.variants),
            "hgvs_c": join(v.hgvs_c or "." for v in c.variants),
            "hgvs_p": join(v.hgvs_p or "." for v in c.variants),
            "consequence": join(v.consequence for v in c.variants),
        }
        for index, member in enumerate(family.members):
            row[f"gt_{member.sample}"] = join(v.gt_text[index] for v in c.variants)
        criteria = c.criteria
        row.update(
            {
                "inheritance": c.model,
                "phenotype_match": c.phenotype_match,
                "population_af": join(
                    _af_text(v.population_af, population_checked) for v in c.variants
                ),
                "clinvar": join(v.clinvar or "." for v in c.variants),
                "acmg_criteria": (
                    (",".join(criteria) or ".")
                    if len(c.variants) == 1
                    else join(x.replace(";", ",") or "." for x in criteria)
                ),
                "provisional_class": c.provisional_class,
                "score": f"{c.score:.2f}",
            }
        )
        out.append(row)
    return out


def columns(family: Family) -> tuple[str, ...]:
    return COLUMNS_HEAD + tuple(f"gt_{m.sample}" for m in family.members) + COLUMNS_TAIL
