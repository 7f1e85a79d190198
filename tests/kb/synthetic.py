"""Synthetic sample reports for the knowledge-database tests and benchmarks.

:func:`write_synthetic_report` writes a schema-valid report with random calls (drawn from a
shared pool, so samples share variants) and small deliverable files with real checksums.
Its VRS ids are well-formed digests of the allele text, not computed from a sequence.
"""

from __future__ import annotations

import datetime
import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ga4gh.core import sha512t24u

from genomflow.report.build import sha256_file, write_json
from genomflow.report.validate import schema_version

# --- synthetic reports ---------------------------------------------------------------------

#: The synthetic build: contig -> length (GRCh38's first chromosomes).
SYNTHETIC_CONTIGS: dict[str, int] = {
    "chr1": 248_956_422,
    "chr2": 242_193_529,
    "chr3": 198_295_559,
    "chrX": 156_040_895,
}
SYNTHETIC_BUILD = "synthetic-build"
_BASES = "ACGT"


def synthetic_contigs(build: str = SYNTHETIC_BUILD) -> list[dict[str, Any]]:
    """Contigs of a synthetic build: MD5 and refget derived from the build name."""
    contigs = []
    for name, length in SYNTHETIC_CONTIGS.items():
        seed = f"{build}/{name}".encode()
        contigs.append(
            {
                "name": name,
                "length": length,
                "md5": hashlib.md5(seed, usedforsecurity=False).hexdigest(),
                "refget": f"SQ.{sha512t24u(seed)}",
            }
        )
    return contigs


def variant_pool(size: int, seed: int = 1) -> list[tuple[str, int, str, str]]:
    """``size`` distinct SNVs and small indels on the synthetic contigs."""
    rng = random.Random(seed)
    pool: dict[tuple[str, int, str, str], None] = {}
    names = list(SYNTHETIC_CONTIGS)
    while len(pool) < size:
        chrom = rng.choice(names)
        pos = rng.randrange(1, SYNTHETIC_CONTIGS[chrom] - 10)
        ref = rng.choice(_BASES)
        kind = rng.random()
        if kind < 0.85:
            alt = rng.choice(_BASES.replace(ref, ""))
        elif kind < 0.93:
            alt = ref + "".join(rng.choice(_BASES) for _ in range(rng.randint(1, 5)))
        else:
            alt, ref = ref, ref + "".join(rng.choice(_BASES) for _ in range(rng.randint(1, 5)))
        pool[(chrom, pos, ref, alt)] = None
    return list(pool)


def fake_vrs_id(chrom: str, pos: int, ref: str, alt: str) -> str:
    digest: str = sha512t24u(f"{chrom}:{pos}:{ref}:{alt}".encode())
    return f"ga4gh:VA.{digest}"


def synthetic_variants(
    pool: Sequence[tuple[str, int, str, str]], count: int, seed: int, origin: str = "germline"
) -> list[dict[str, Any]]:
    """``count`` calls drawn without replacement from ``pool``, sorted by position."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(pool)), count))
    variants = []
    for index in chosen:
        chrom, pos, ref, alt = pool[index]
        hom = rng.random() < 0.35
        depth = rng.randint(8, 60)
        variants.append(
            {
                "chrom": chrom,
                "pos": pos,
                "ref": ref,
                "alt": alt,
                "vrs_id": fake_vrs_id(chrom, pos, ref, alt),
                "origin": origin,
                "genotype": ("1/1" if hom else "0/1") if origin == "germline" else None,
                "zygosity": ("hom" if hom else "het") if origin == "germline" else None,
                "vaf": round(rng.uniform(0.9, 1.0) if hom else rng.uniform(0.05, 0.7), 4),
                "depth": depth,
                "quality": round(rng.uniform(20, 900), 2),
                "consequence": None,
                "gene": None,
                "filters": ["PASS"] if rng.random() < 0.95 else ["LowQual"],
            }
        )
    return variants


@dataclass(frozen=True)
class SyntheticSample:
    """What a synthetic report is about."""

    sample: str
    patient: str
    centre: str = "demo-centre"
    type: str = "germline"
    assay: str = "wgs"
    panel: str | None = None
    collection_date: str | None = "2026-03-02"
    sex: str = "female"


def with_vrs_ids(
    variants: Sequence[dict[str, Any]], contigs: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``variants`` with the true VRS ids of their plain substitutions on ``contigs`` (what
    the loader recomputes); other alleles keep theirs (a synthetic build has no sequence)."""
    from genomflow.report.vrs import is_plain_substitution, substitution_id

    refgets = {c["name"]: c["refget"] for c in contigs}
    return [
        {**v, "vrs_id": substitution_id(refgets[v["chrom"]], v["pos"], v["ref"], v["alt"])}
        if v["vrs_id"] is not None and is_plain_substitution(v["ref"], v["alt"])
        else dict(v)
        for v in variants
    ]


def write_synthetic_report(
    out_dir: Path,
    who: SyntheticSample,
    variants: Sequence[dict[str, Any]],
    *,
    build: str = SYNTHETIC_BUILD,
    ctdna: dict[str, Any] | None = None,
    batch: str = "synthetic batch",
    biomarkers: dict[str, Any] | None = None,
) -> Path:
    """Write ``{sample}.report.json`` and a small BAM-named deliverable in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bam = out_dir / f"{who.sample}.bam"
    bam.write_bytes(hashlib.sha256(f"{who.sample}/{batch}".encode()).digest() * 64)
    report: dict[str, Any] = {
        "schema_version": schema_version(),
        "sample": {
            "id": who.sample,
            "patient": who.patient,
            "sex": who.sex,
            "type": who.type,
            "assay": who.assay,
            "panel": who.panel,
            "collection_date": who.collection_date,
        },
        "centre": {"id": who.centre, "name": f"Centre {who.centre}", "region": ""},
        "provenance": {
            "genomflow_version": "0.1.0",
            "batch": batch,
            "config_digest": hashlib.sha256(batch.encode()).hexdigest(),
            "run_date": datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "reference": {"name": build, "contigs": synthetic_contigs(build)},
            "software": {"genomflow": "0.1.0"},
        },
        "qc": {
            "status": "pass",
            "status_source": None,
            "reasons": [],
            "metrics": {"mean_depth": 30.0, "reads_mapped_pct": 99.5},
        },
        "variants": with_vrs_ids(variants, synthetic_contigs(build)),
        "ctdna": ctdna,
        "biomarkers": biomarkers,
        "files": [
            {
                "path": bam.name,
                "role": "alignments",
                "size": bam.stat().st_size,
                "sha256": sha256_file(bam),
            }
        ],
    }
    path = out_dir / f"{who.sample}.report.json"
    write_json(report, path)
    return path
