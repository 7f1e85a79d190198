"""At tumour fraction 0 the background the monitor expects is the background it observes.

Plasma read pairs of ~167 bp cfDNA fragments read 2 x 150 (the mates overlap over ~80% of
each molecule), with sequencing errors (independent in each read) and errors of the molecule
itself (every read of it shows them), counted three ways: deduplicated reads without UMIs,
single-strand UMI consensus, and duplex UMI consensus. The loci are counted per molecule,
mates merged; the off-target background must be counted the same way, per molecule kind, or
the expected background overstates what the loci show (issue #18: 26.8 expected against 19
observed on an independent spike-in with 2 x 100 reads).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from genomflow.ctdna import model, simulate
from genomflow.ctdna.counts import Locus
from genomflow.ctdna.monitor import MonitorInputs, MonitorSettings, monitor
from genomflow.ctdna.umi import ConsensusSettings, call_consensus

CONTIGS = {"chr1": 80_000}
LOCI = 20
SEQUENCING_ERROR = 5e-3
MOLECULE_ERROR = 3e-4


@dataclass(frozen=True)
class Scenario:
    name: str
    spec: simulate.PlasmaSpec
    consensus: bool


SCENARIOS = (
    Scenario(
        "no_umi",
        simulate.PlasmaSpec(
            0.0,
            molecules_per_locus=1000,
            mean_family_size=1.0,
            error_rate=SEQUENCING_ERROR,
            molecule_error_rate=MOLECULE_ERROR,
            read_length=150,
            seed=21,
        ),
        consensus=False,
    ),
    Scenario(
        "umi_consensus",
        simulate.PlasmaSpec(
            0.0,
            molecules_per_locus=800,
            mean_family_size=3.0,
            error_rate=SEQUENCING_ERROR,
            molecule_error_rate=10 * MOLECULE_ERROR,
            read_length=150,
            seed=22,
        ),
        consensus=True,
    ),
    Scenario(
        "duplex_consensus",
        simulate.PlasmaSpec(
            0.0,
            molecules_per_locus=800,
            mean_family_size=4.0,
            error_rate=SEQUENCING_ERROR,
            molecule_error_rate=10 * MOLECULE_ERROR,
            read_length=150,
            duplex=True,
            seed=23,
        ),
        consensus=True,
    ),
)


@dataclass(frozen=True)
class Genome:
    fasta: Path
    sequences: dict[str, str]
    loci: list[Locus]
    vcf: Path


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> Genome:
    folder = tmp_path_factory.mktemp("agreement")
    fasta = folder / "ref.fa"
    sequences = simulate.write_reference(fasta, CONTIGS, seed=5)
    loci = simulate.choose_loci(sequences, LOCI, seed=6)
    vcf = folder / "tumour.vcf.gz"
    simulate.write_tumour_vcf(vcf, loci, sequences)
    return Genome(fasta, sequences, loci, vcf)


def monitored(genome: Genome, scenario: Scenario, folder: Path) -> dict[str, object]:
    bam = folder / f"{scenario.name}.bam"
    simulate.write_plasma_bam(bam, genome.sequences, genome.loci, scenario.spec)
    if scenario.consensus:
        consensus = folder / f"{scenario.name}.consensus.bam"
        call_consensus(bam, consensus, ConsensusSettings())
        bam = consensus
    inputs = MonitorInputs(
        variants=genome.vcf, bam=bam, reference=genome.fasta, sample=scenario.name
    )
    fast = model.Settings(null_simulations=300, lod_simulations=0)
    return monitor(inputs, MonitorSettings(model=fast))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_expected_background_is_what_the_loci_show_at_tumour_fraction_zero(
    genome: Genome, scenario: Scenario, tmp_path: Path
) -> None:
    result = monitored(genome, scenario, tmp_path)
    observed = int(result["mutant_molecules"])  # type: ignore[call-overload]
    expected = float(result["expected_background_molecules"])  # type: ignore[arg-type]
    print(f"{scenario.name}: observed {observed}, expected {expected:.1f}", result["background"])
    assert expected >= 5, "too little background for the test to tell anything"
    # Poisson: within 3.5 standard deviations (the old per-read-base background expected
    # about 5 times what the loci show here, far outside this)
    assert abs(observed - expected) <= 3.5 * math.sqrt(expected) + 1
    assert result["status"] == "not_detected"
