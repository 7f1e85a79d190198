"""Germline calling helpers: calling groups (families called jointly) and ploidy by sex.

Males are haploid on X and Y, females diploid on X with no Y; samples of unknown sex are
called diploid everywhere (and flagged later by the sex check).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from pathlib import Path

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.reference import read_fai
from genomflow.sheets import Cohort

GERMLINE_TYPES: tuple[str, ...] = ("germline", "normal")
"""Sample types that get a germline VCF."""

SEX_CODES: Mapping[str, str] = {"male": "M", "female": "F", "unknown": "U"}


def calling_groups(cohort: Cohort) -> dict[str, tuple[str, ...]]:
    """Map each calling group to its samples: a family's members, or a sample on its own.

    Groups are named after the family or the sample; a family named like a sample of
    another group would make two groups one, so it is an error.
    """
    groups: dict[str, tuple[str, ...]] = {}
    for sample in cohort.samples.values():
        if sample.type not in GERMLINE_TYPES:
            continue
        name = sample.family or sample.sample
        if sample.family and sample.family in cohort.samples and sample.family != sample.sample:
            raise GenomflowError(
                f"family '{sample.family}' has the name of sample '{sample.family}'; "
                "rename the family so that calling groups stay distinct"
            )
        groups[name] = (*groups.get(name, ()), sample.sample)
    return groups


def group_index(groups: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """Map each sample to its calling group, in one pass (``group_of`` for every sample).

    >>> group_index({"FAM1": ("S1", "S2"), "S3": ("S3",)})
    {'S1': 'FAM1', 'S2': 'FAM1', 'S3': 'S3'}
    """
    return {sample: name for name, members in groups.items() for sample in members}


def group_of(groups: Mapping[str, tuple[str, ...]], sample: str) -> str:
    """The calling group that holds ``sample``."""
    for name, members in groups.items():
        if sample in members:
            return name
    raise GenomflowError(f"sample '{sample}' is in no germline calling group")


def ploidy_lines(contigs: Mapping[str, int], x: str, y: str) -> list[str]:
    """A ``bcftools call --ploidy-file``: haploid X/Y in males, no Y in females.

    >>> for line in ploidy_lines({"chr1": 10, "chrX": 5, "chrY": 3}, "chrX", "chrY"):
    ...     print(line.replace("\\t", " "))
    chrX 1 5 M 1
    chrY 1 3 M 1
    chrY 1 3 F 0
    * * * M 2
    * * * F 2
    * * * U 2
    """
    lines: list[str] = []
    if x in contigs:
        lines.append(f"{x}\t1\t{contigs[x]}\tM\t1")
    if y in contigs:
        lines.append(f"{y}\t1\t{contigs[y]}\tM\t1")
        lines.append(f"{y}\t1\t{contigs[y]}\tF\t0")
    lines += [f"*\t*\t*\t{code}\t2" for code in ("M", "F", "U")]
    return lines


def cnv_map_lines(
    contigs: Mapping[str, int], x: str, y: str, sexes: Mapping[str, str]
) -> list[str]:
    """A ``freebayes --cnv-map`` (BED-like, 0-based) with the same ploidy model."""
    lines: list[str] = []
    for sample, sex in sexes.items():
        if sex == "male":
            lines += [f"{c}\t0\t{contigs[c]}\t{sample}\t1" for c in (x, y) if c in contigs]
        elif sex == "female" and y in contigs:
            lines.append(f"{y}\t0\t{contigs[y]}\t{sample}\t0")
    return lines


def sex_options(cohort: Cohort, members: Iterable[str]) -> str:
    """``--sample SAMPLE=sex`` options of a calling group's members (read by parse_sexes)."""
    return " ".join(f"--sample {s}={cohort.samples[s].sex}" for s in members)


def parse_sexes(pairs: Iterable[str]) -> dict[str, str]:
    """Parse ``SAMPLE=sex`` arguments."""
    sexes: dict[str, str] = {}
    for pair in pairs:
        sample, _, sex = pair.partition("=")
        if sex not in SEX_CODES:
            raise GenomflowError(f"--sample {pair}: sex must be one of {', '.join(SEX_CODES)}")
        sexes[sample] = sex
    return sexes


def _write(path: Path, lines: list[str]) -> None:
    atomic.write_text(path, "".join(line + "\n" for line in lines))


def _cmd_ploidy(args: argparse.Namespace) -> int:
    contigs = read_fai(args.fai)
    sexes = parse_sexes(args.sample)
    _write(args.ploidy_out, ploidy_lines(contigs, args.x, args.y))
    _write(args.samples_out, [f"{s}\t{SEX_CODES[sex]}" for s, sex in sexes.items()])
    _write(args.cnv_map_out, cnv_map_lines(contigs, args.x, args.y, sexes))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("germline", help="germline calling helpers")
    sub = parser.add_subparsers(dest="germline_command", required=True)
    ploidy = sub.add_parser("ploidy", help="write ploidy files for bcftools call and freebayes")
    ploidy.add_argument("--fai", type=Path, required=True, help="FASTA index of the reference")
    ploidy.add_argument("--x", default="chrX", help="name of the X chromosome")
    ploidy.add_argument("--y", default="chrY", help="name of the Y chromosome")
    ploidy.add_argument(
        "--sample", action="append", default=[], metavar="SAMPLE=SEX", help="repeat per sample"
    )
    ploidy.add_argument("--ploidy-out", type=Path, required=True)
    ploidy.add_argument("--samples-out", type=Path, required=True)
    ploidy.add_argument("--cnv-map-out", type=Path, required=True)
    ploidy.set_defaults(func=_cmd_ploidy)
