"""``genomflow rare rank``: the ranked candidate list of a rare-disease family or singleton."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.rare import hpo, structural
from genomflow.rare.rank import (
    Family,
    Genes,
    Member,
    RankError,
    add_population_af,
    columns,
    family_from_members,
    rank,
    read_candidates,
    rows,
)

#: Columns of a gene panel file (resources/gene_panels/<name>.tsv).
PANEL_GENE = "gene"
PANEL_INHERITANCE = "inheritance"
PANEL_MECHANISM = "mechanism"
PANEL_MODES = ("AD", "AR", "XL")


def read_panel(path: Path) -> dict[str, tuple[frozenset[str], bool]]:
    """A gene panel: gene -> (modes of inheritance, loss of function is the mechanism).

    Tab-separated with a header; ``gene`` required, ``inheritance`` (AD/AR/XL, ``,``-separated,
    may be empty) and ``mechanism`` (``LoF`` or anything else) optional; ``#`` lines are
    comments.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise RankError(f"{path}: cannot read gene panel ({err.strerror})") from None
    except UnicodeDecodeError:
        raise RankError(f"{path}: a gene panel must be UTF-8 text") from None
    data = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and line[0] != "#"]
    if not data:
        raise RankError(f"{path}: empty gene panel")
    header = data[0][1].split("\t")
    if PANEL_GENE not in header:
        raise RankError(f"{path} line {data[0][0]}: no column {PANEL_GENE!r} in the header")
    panel: dict[str, tuple[frozenset[str], bool]] = {}
    for number, line in data[1:]:
        cells = dict(zip(header, line.split("\t"), strict=False))
        gene = cells.get(PANEL_GENE, "").strip()
        if not gene:
            raise RankError(f"{path} line {number}, column {PANEL_GENE!r}: empty")
        modes = frozenset(
            m.strip() for m in cells.get(PANEL_INHERITANCE, "").split(",") if m.strip()
        )
        bad = sorted(modes - set(PANEL_MODES))
        if bad:
            raise RankError(
                f"{path} line {number}, column {PANEL_INHERITANCE!r}: {bad[0]!r} is not one of "
                f"{', '.join(PANEL_MODES)}"
            )
        panel[gene] = (modes, cells.get(PANEL_MECHANISM, "").strip().lower() == "lof")
    return panel


def build_genes(terms: Sequence[str], panels: Sequence[Path]) -> Genes:
    """Phenotype genes of ``terms`` (HPO, with descendants) and of the panels."""
    onto = hpo.ontology()
    notes = hpo.gene_annotations()
    matches: dict[str, list[str]] = {
        gene: list(matched) for gene, matched in hpo.phenotype_genes(terms, onto, notes).items()
    }
    inheritance: dict[str, frozenset[str]] = dict(notes.inheritance)
    lof = {gene for gene, modes in notes.inheritance.items() if "AR" in modes}
    for path in panels:
        name = path.name.removesuffix(".tsv")
        for gene, (modes, is_lof) in read_panel(path).items():
            matches.setdefault(gene, []).append(f"panel:{name}")
            if modes:
                inheritance[gene] = modes
            if is_lof:
                lof.add(gene)
    return Genes(
        matches={g: tuple(m) for g, m in matches.items()},
        inheritance=inheritance,
        lof=frozenset(lof),
    )


def load_family(samples: Path, units: Path, group: str) -> tuple[Family, tuple[str, ...]]:
    """The family (or singleton) ``group`` of the sheet and its proband's HPO terms."""
    from genomflow.germline import calling_groups
    from genomflow.sheets import load_sheets

    cohort = load_sheets(samples, units, check_files=False)
    groups = calling_groups(cohort)
    if group not in groups:
        raise RankError(f"{samples}: no germline family or sample {group!r}")
    chosen = [cohort.samples[name] for name in groups[group]]
    members = [Member(s.sample, s.sex, s.affected, s.father, s.mother) for s in chosen]
    family = family_from_members(group, members)
    return family, cohort.samples[family.proband].hpo


def parentage_confirmed(pairs_path: Path | None, family: Family) -> bool:
    """Both parent-proband pairs passed the identity check (first-degree, PASS)."""
    if pairs_path is None:
        return False
    from genomflow.qc.identity import read_pairs

    proband = family.member(family.proband)
    parents = {p for p in (proband.father, proband.mother) if p is not None}
    if len(parents) < 2:
        return False
    passed = {
        frozenset((p.sample_a, p.sample_b))
        for p in read_pairs(pairs_path)
        if str(getattr(p.status, "value", p.status)) == "PASS"
    }
    return all(frozenset((proband.sample, parent)) in passed for parent in parents)


def _run_rank(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    family, terms = load_family(args.samples, args.units, args.group)
    genes = build_genes(terms, args.panel)
    variants, _ = read_candidates(args.vcf, family)
    checked = args.population_vcf is not None
    if checked:
        variants = add_population_af(variants, args.population_vcf)
    confirmed = parentage_confirmed(args.identity_pairs, family)
    small = rank(
        variants,
        family,
        genes,
        population_checked=checked,
        parentage_confirmed=confirmed,
        x_contig=args.x_contig,
        bs1_af=args.bs1_af,
    )
    svs = _structural(args, family, genes)
    sv_candidates = structural.rank_structural(
        svs, family, genes, parentage_confirmed=confirmed, x_contig=args.x_contig
    ) + structural.compound_with_small(
        svs,
        variants,
        family,
        genes,
        population_checked=checked,
        parentage_confirmed=confirmed,
        bs1_af=args.bs1_af,
    )
    ranked = structural.merge(small, sv_candidates)
    table = rows(ranked, family, population_checked=checked)
    structural.annotate_rows(ranked, table)
    header = structural.columns_with_kind(columns(family))
    limits = list(family.limits)
    limits += _structural_limits(args, svs)
    if not terms:
        limits.append(f"proband {family.proband} has no HPO terms: no phenotype genes")
    if not checked:
        limits.append("no population data configured: PM2, BA1 and BS1 not decided")
    if not confirmed:
        limits.append("parentage not confirmed by the identity check: de novo is PM6, not PS2")
    comments = [
        f"# family {family.family}, proband {family.proband}, HPO {','.join(terms) or '-'} "
        f"(HPO {hpo.ontology().release})",
        "# candidates: variants in genes (snpEff) where the proband carries an "
        "alternative allele; genes outside the phenotype/panels are ranked lower, not hidden",
        "# candidates: PASS SVs (delly) and CNVs (CNVkit) of the proband that overlap a gene "
        "(column kind: small, SV, CNV)",
        *(f"# limit: {text}" for text in limits),
    ]
    text = "\n".join(comments) + "\n" + "\t".join(header) + "\n"
    text += "".join("\t".join(row[c] for c in header) + "\n" for row in table)
    if args.json_out is not None:
        document = {
            "family": family.family,
            "proband": family.proband,
            "hpo": list(terms),
            "hpo_release": hpo.ontology().release,
            "limits": limits,
            "candidates": table[: args.json_top],
        }
        atomic.write_text(args.json_out, json.dumps(document, indent=1) + "\n")
    atomic.write_text(args.out, text)
    print(
        f"{family.family}: {len(variants)} variants and {len(svs)} SVs/CNVs in genes carried "
        f"by {family.proband}, "
        f"{len(ranked)} candidates ranked in {time.perf_counter() - started:.1f} s -> {args.out}"
    )
    return 0


def _structural(
    args: argparse.Namespace, family: Family, genes: Genes
) -> list[structural.StructuralVariant]:
    """The proband's SVs and CNVs in genes, with the batch's frequency (none without
    --gff3 or without SV/CNV deliverables)."""
    sv_file = structural.proband_file(args.sv_vcf, family.proband)
    if args.gff3 is None or (sv_file is None and not args.cnv_vcf):
        return []
    from genomflow.sv.genes import read_genes

    models = read_genes(args.gff3)
    svs: list[structural.StructuralVariant] = []
    if sv_file is not None:
        if args.sv_joint is None:
            raise RankError(f"{sv_file}: --sv-joint (the group's joint delly calls) is needed")
        svs = structural.read_sv(sv_file, args.sv_joint, family, models, genes)
    cnvs = structural.read_cnv(args.cnv_vcf, family, models, genes, args.x_contig)
    found = structural.without_repeats(svs, cnvs)
    return structural.add_batch_frequency(found, structural.batch_calls(args.batch_sv))


def _structural_limits(
    args: argparse.Namespace, svs: Sequence[structural.StructuralVariant]
) -> list[str]:
    if not args.sv_vcf and not args.cnv_vcf:
        return ["no SV or CNV calls for this family (SVs: WGS samples; CNVs: panel samples)"]
    unrelated = svs[0].batch_size if svs else len(structural.batch_calls(args.batch_sv))
    flagged = [
        f"SV calls of {path.name}: {text}"
        for path in args.sv_vcf
        for text in structural.sv_warnings(path)
    ]
    return [
        *flagged,
        "SVs/CNVs: no population SV data (gnomAD-SV or similar is not configured): PM2, BA1 "
        f"and BS1 not decided; frequency is the batch's ({unrelated} unrelated samples, "
        "absent = rare)",
    ]


#: Candidates per family in the MultiQC table.
MQC_TOP = 5


def multiqc_table(results: Sequence[dict[str, object]], top: int = MQC_TOP) -> dict[str, object]:
    """MultiQC custom content: the top candidates of every ranked family, one row each."""
    rows: dict[str, dict[str, object]] = {}
    for result in results:
        candidates = result.get("candidates")
        if not isinstance(candidates, list):
            raise RankError(f"not a ranked candidate list: {str(result)[:80]}")
        for row in candidates[:top]:
            rows[f"{result['family']} #{row['rank']}"] = {
                "proband": result["proband"],
                "gene": row["gene"],
                "variant": row["variant"],
                "kind": row.get(structural.KIND_COLUMN, structural.SMALL),
                "inheritance": row["inheritance"],
                "phenotype": row["phenotype_match"],
                "acmg": row["acmg_criteria"],
                "class": row["provisional_class"],
                "score": float(str(row["score"])),
            }
    return {
        "id": "rare_disease_candidates",
        "section_name": "Rare disease candidates",
        "description": (
            f"The {top} best-ranked candidate variants of each family or singleton "
            "(inheritance, phenotype, frequency, consequence, ClinVar; docs/rare_disease.md). "
            "The full lists are results/families/{family}/{family}.candidates.tsv."
        ),
        "plot_type": "table",
        "pconfig": {"id": "rare_disease_candidates_table", "title": "Rare disease candidates"},
        "headers": {
            "proband": {"title": "Proband"},
            "gene": {"title": "Gene"},
            "variant": {"title": "Variant"},
            "kind": {"title": "Kind", "description": "small variant, SV (delly) or CNV (CNVkit)"},
            "inheritance": {"title": "Inheritance"},
            "phenotype": {"title": "Phenotype match"},
            "acmg": {"title": "ACMG criteria"},
            "class": {"title": "Provisional class"},
            "score": {"title": "Score", "format": "{:,.1f}"},
        },
        "data": rows,
    }


def _run_table(args: argparse.Namespace) -> int:
    results: list[dict[str, object]] = []
    for path in args.candidates:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:  # ValueError: not UTF-8, not JSON
            raise RankError(f"{path}: cannot read the ranked candidates ({err})") from None
        if not isinstance(data, dict):
            raise RankError(f"{path}: not a ranked candidate list")
        results.append(data)
    atomic.write_text(args.out, json.dumps(multiqc_table(results), indent=1) + "\n")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``genomflow rare rank``."""
    parser = subparsers.add_parser(
        "rare", help="rare disease", description="Rare-disease analysis of germline families."
    )
    commands = parser.add_subparsers(dest="rare_command", required=True)
    sub = commands.add_parser(
        "rank",
        help="rank the candidate variants of a family or singleton",
        description="Inheritance models, phenotype genes (HPO), population frequency, "
        "consequence and ClinVar -> a ranked candidates.tsv with ACMG criteria.",
    )
    sub.add_argument("--vcf", type=Path, required=True, help="the group's annotated joint VCF")
    sub.add_argument("--samples", type=Path, required=True)
    sub.add_argument("--units", type=Path, required=True)
    sub.add_argument("--group", required=True, help="family id, or sample id of a singleton")
    sub.add_argument("--out", type=Path, required=True, help="candidates.tsv")
    sub.add_argument("--json-out", type=Path, default=None, help="the list as JSON")
    sub.add_argument("--json-top", type=int, default=50, help="candidates in the JSON")
    sub.add_argument("--population-vcf", type=Path, default=None)
    sub.add_argument("--panel", type=Path, action="append", default=[], metavar="TSV")
    sub.add_argument("--identity-pairs", type=Path, default=None)
    sub.add_argument("--x-contig", default="chrX")
    sub.add_argument("--bs1-af", type=float, default=0.01)
    sub.add_argument(
        "--sv-vcf", type=Path, action="append", default=[], metavar="VCF",
        help="members' SV deliverables ({sample}.sv.vcf.gz); the proband's is used",
    )  # fmt: skip
    sub.add_argument("--sv-joint", type=Path, default=None, help="the group's joint delly BCF")
    sub.add_argument(
        "--cnv-vcf", type=Path, action="append", default=[], metavar="VCF",
        help="members' copy-number deliverables ({sample}.cnv.vcf.gz)",
    )  # fmt: skip
    sub.add_argument(
        "--batch-sv", type=Path, action="append", default=[], metavar="VCF",
        help="SV/CNV deliverables of the batch's unrelated samples (SV frequency)",
    )  # fmt: skip
    sub.add_argument("--gff3", type=Path, default=None, help="gene models (SV consequences)")
    sub.set_defaults(func=_run_rank)
    table = commands.add_parser(
        "table",
        help="MultiQC table of the top candidates of every family",
        description="Write MultiQC custom content (JSON) from rare rank --json-out files.",
    )
    table.add_argument("--candidates", type=Path, nargs="+", required=True)
    table.add_argument("--out", type=Path, required=True)
    table.set_defaults(func=_run_table)


__all__ = ["GenomflowError", "add_cli", "build_genes", "read_panel"]
