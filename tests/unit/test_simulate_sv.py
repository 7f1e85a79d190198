"""Germline SVs of the demo trio (genomflow.simulate.sv)."""

from __future__ import annotations

import functools

import numpy as np
import pysam

from genomflow.simulate.cohort import build_dataset, make_testgenome_spec
from genomflow.simulate.reads import Fragments, ReadModel
from genomflow.simulate.sv import (
    DEL,
    DUP,
    INV,
    Placed,
    StructuralVariant,
    edit_fragments,
    genotype,
    resolve_carriers,
    to_haplotype,
)
from genomflow.simulate.variants import Variant
from tests.conftest import REPO

TRUTH = REPO / "resources" / "testgenome" / "truth" / "sv.vcf.gz"


@functools.cache
def resolved() -> list[StructuralVariant]:
    spec = make_testgenome_spec()
    dataset = build_dataset(spec, 20261125)
    return resolve_carriers(spec.structural, dataset.truth, spec.samples)


def test_the_trio_has_an_inherited_deletion_a_de_novo_duplication_and_an_inversion() -> None:
    svs = {sv.kind: sv for sv in resolved()}
    assert set(svs) == {DEL, DUP, INV}
    assert {s for s, _ in svs[DEL].carriers} == {"RD002", "RD001"}
    assert svs[DUP].carriers == (("RD001", 1),)
    assert {s for s, _ in svs[INV].carriers} == {"RD003", "RD001"}
    assert all(copy >= 0 for sv in svs.values() for _, copy in sv.carriers)
    assert all(sv.length >= 50 for sv in svs.values())


def test_committed_truth_vcf_has_the_planted_genotypes() -> None:
    with pysam.VariantFile(str(TRUTH)) as vcf:
        rows = {
            r.info["SVTYPE"]: (r.pos, r.stop, {s: r.samples[s]["GT"] for s in r.samples})
            for r in vcf
        }
    for sv in resolved():
        pos, stop, gts = rows[sv.kind]
        assert (pos, stop) == (sv.start, sv.end)
        for sample, gt in gts.items():
            assert gt == genotype(sv, str(sample), 2)
    assert sum(rows[DUP][2]["RD001"]) == 1 and sum(rows[DUP][2]["RD002"]) == 0  # de novo


def test_to_haplotype_shifts_by_the_indels_before() -> None:
    variants = [Variant("c", 10, "A", "ATT"), Variant("c", 40, "GC", "G")]
    assert [to_haplotype(p, variants) for p in (5, 20, 50)] == [5, 22, 51]


def test_edits_drop_deleted_fragments_and_add_junction_reads() -> None:
    rng = np.random.default_rng(1)
    seq = rng.integers(65, 70, 20_000).astype(np.uint8)
    model = ReadModel()
    starts = np.arange(0, 19_000, 10)
    n = starts.size
    fragments = Fragments(
        np.zeros(n, dtype=np.int64), starts, np.full(n, 300), np.ones(n, dtype=bool)
    )
    deletion = Placed(StructuralVariant(DEL, "c", 5000, 7000, (("S", 0),)), 0, 5000, 7000)
    done = edit_fragments(fragments, [seq], [deletion], model, np.random.default_rng(2))
    dropped = starts[~done.keep]
    assert dropped.min() == 4710 and dropped.max() == 6990
    assert len(done.sequences) == 1 and len(done.extra) > 10
    cut = 5000 - (5000 - model.insert_max)  # the junction lies at the flank's length
    assert ((done.extra.start < cut) & (done.extra.start + done.extra.length > cut)).all()
    duplication = Placed(StructuralVariant(DUP, "c", 5000, 7000, (("S", 0),)), 0, 5000, 7000)
    done = edit_fragments(fragments, [seq], [duplication], model, np.random.default_rng(2))
    assert done.keep.all() and len(done.sequences) == 2 and len(done.extra) > 100
    inversion = Placed(StructuralVariant(INV, "c", 5000, 7000, (("S", 0),)), 0, 5000, 7000)
    done = edit_fragments(fragments, [seq], [inversion], model, np.random.default_rng(2))
    assert (~done.keep).sum() == 2 * 30 - 2 and len(done.sequences) == 2
