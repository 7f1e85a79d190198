"""The planted copy-number events of the cancer test data (genomflow.simulate.cancer)."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import numpy as np
import pytest

from genomflow.errors import GenomflowError
from genomflow.panels import Target
from genomflow.simulate.cancer import (
    COPY_NUMBER_COLUMNS,
    CancerData,
    CancerSample,
    Region,
    build_cancer,
    copy_number_draws,
    copy_number_events,
    depth_ratio,
    draw_fragments,
    event_region,
    make_cancer_spec,
    probe_efficiencies,
    sample_capture_weights,
    write_copy_number_truth,
)
from genomflow.simulate.common import rng_for
from tests.unit.test_simulate_cancer import COMMITTED


@functools.cache
def data() -> CancerData:
    return build_cancer(make_cancer_spec())


def sample(name: str) -> CancerSample:
    return next(s for s in data().spec.samples if s.sample == name)


def test_depth_ratio_follows_purity_and_copies() -> None:
    assert depth_ratio(8, 0.6) == pytest.approx(2.8)
    assert depth_ratio(0, 0.6) == pytest.approx(0.4)
    assert depth_ratio(2, 0.3) == pytest.approx(1.0)
    assert depth_ratio(0, 1.0) == 0.0


def test_demo_events_amplify_gfb2_and_delete_gfd4_in_ca002t() -> None:
    events = {(e.tumour, e.gene): e.copies for e in make_cancer_spec().copy_number}
    assert events == {("CA002T", "GFB2"): 8, ("CA002T", "GFD4"): 0}
    region = event_region(data(), make_cancer_spec().copy_number[1])
    gene = next(g for g in data().reference.genes if g.symbol == "GFD4")
    assert region.start <= gene.start and gene.end <= region.end


def test_no_somatic_variant_of_a_tumour_inside_its_homozygous_deletion() -> None:
    lost = data().lost
    assert lost and all(s.tumour == "CA002T" for s in lost)
    region = event_region(data(), make_cancer_spec().copy_number[1])
    for planted in data().somatic:
        if planted.tumour == "CA002T":
            assert not region.overlaps(
                planted.variant.contig, planted.variant.pos, planted.variant.end
            )


def _counts(name: str) -> dict[str, float]:
    """Per event gene: fragments kept / drawn and (kept + extra) / drawn over its targets."""
    d, s = data(), sample(name)
    weights = sample_capture_weights(d, name)
    draws = draw_fragments(d, s, weights, rng_for(d.seed, "cancer", "reads", name, "L001"))
    keep, extra = copy_number_draws(d, s, weights, draws, rng_for(d.seed, "cn-test", name))
    ratios: dict[str, float] = {}
    for event in d.spec.copy_number:
        region = event_region(d, event)
        targets = [t for t in d.targets if region.overlaps(t.contig, t.start, t.end)]

        def hits(
            contigs: list[str],
            starts: list[int],
            lengths: list[int],
            targets: list[Target] = targets,
        ) -> np.ndarray:
            return np.array(
                [
                    any(c == t.contig and b < t.end and b + n > t.start for t in targets)
                    for c, b, n in zip(contigs, starts, lengths, strict=True)
                ],
                dtype=bool,
            )

        base = hits(draws.contig, draws.start, draws.length)
        more = hits(extra.contig, extra.start, extra.length).sum() if extra.start else 0
        ratios[event.gene] = float((base & keep).sum() + more) / float(base.sum())
    return ratios


def test_event_regions_get_the_depth_ratio_of_their_copies() -> None:
    ratios = _counts("CA002T")
    assert ratios["GFB2"] == pytest.approx(2.8, abs=0.1)
    assert ratios["GFD4"] == pytest.approx(0.4, abs=0.05)


def test_samples_without_events_keep_every_fragment() -> None:
    ratios = _counts("CA001T")
    assert ratios == {"GFB2": 1.0, "GFD4": 1.0}


def test_an_event_in_a_tumour_without_purity_is_refused() -> None:
    no_purity = dataclasses.replace(sample("CA002T"), purity=None)
    with pytest.raises(GenomflowError, match="CA002T, which has no purity"):
        copy_number_events(data(), no_purity)


def test_region_overlap_is_half_open() -> None:
    region = Region("chr1", 10, 20)
    assert region.overlaps("chr1", 19, 25) and not region.overlaps("chr1", 20, 25)
    assert not region.overlaps("chr2", 12, 14)


def test_committed_copy_number_truth_matches_the_generator(tmp_path: Path) -> None:
    path = tmp_path / "copy_number.tsv"
    write_copy_number_truth(path, data())
    assert path.read_text() == (COMMITTED / "truth" / "copy_number.tsv").read_text()
    assert path.read_text().splitlines()[0].split("\t") == list(COPY_NUMBER_COLUMNS)


def test_capture_efficiency_is_the_probe_s_with_a_little_noise_per_sample() -> None:
    """Every sample of the panel shares each probe's efficiency (log sd 0.2 between targets);
    a sample departs from it by its own noise (log sd 0.05), so two normals agree per target
    far better than two independent captures would."""
    d = data()
    probes = np.log(probe_efficiencies(d))
    rest = [i for i, t in enumerate(d.targets) if t.name != d.spec.low_target]
    assert 0.1 < float(np.std(probes[rest])) < 0.35
    logs = {name: np.log(sample_capture_weights(d, name)) for name in ("CA001N", "CA003N")}
    for values in logs.values():
        assert 0.02 < float(np.std(values - probes)) < 0.1
    between = logs["CA001N"] - logs["CA003N"]
    assert float(np.std(between)) < 0.12
    low = [i for i, t in enumerate(d.targets) if t.name == d.spec.low_target]
    assert float(np.exp(probes[low[0]])) == pytest.approx(d.spec.low_target_weight)
