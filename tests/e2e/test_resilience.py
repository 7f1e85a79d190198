"""Failure and resume: a run killed mid-way resumes and reruns only what was incomplete; a
corrupt FASTQ fails only its sample's branch, while --keep-going finishes the others."""

from __future__ import annotations

import base64
import gzip
import itertools
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, TESTGENOME, demo_qc_config, tool_env, vcf_records

pytestmark = pytest.mark.e2e

TRIO = ("RD001", "RD002", "RD003")
PROFILE = ("--profile", str(REPO / "profiles" / "test"))


def _command(workdir: Path, config: Path, *args: str) -> list[str]:
    return [
        str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(config), *PROFILE, *args,
    ]  # fmt: skip


def _incomplete(workdir: Path) -> set[Path]:
    """Outputs Snakemake had marked incomplete (jobs running when it died): each marker's
    path is the output's name in URL-safe base64, long names split into '@'-prefixed folders."""
    markers = workdir / ".snakemake" / "incomplete"
    paths = set()
    for marker in markers.rglob("*") if markers.is_dir() else []:
        if marker.is_file():
            parts = marker.relative_to(markers).parts
            encoded = "".join(part.removeprefix("@") for part in parts)
            name = base64.urlsafe_b64decode(encoded.encode()).decode()
            paths.add((workdir / name).resolve())
    return paths


def _outputs_of_jobs_run(log: str, workdir: Path) -> set[Path]:
    """Every output of every job a Snakemake run's log says it ran."""
    outputs = set()
    for line in log.splitlines():
        if line.startswith("    output: "):
            for name in line.removeprefix("    output: ").split(", "):
                outputs.add((workdir / name).resolve())
    return outputs


def _outputs(workdir: Path) -> dict[Path, int]:
    results = workdir / "results"
    return {p.resolve(): p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}


def test_killed_run_resumes_reruns_only_the_incomplete_and_gives_identical_results(
    tmp_path: Path, demo_qc_run: Path
) -> None:
    config = demo_qc_config(tmp_path, samples=TRIO)
    log = (tmp_path / "first-run.log").open("w")
    first = subprocess.Popen(
        _command(tmp_path, config),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=tool_env(),
        start_new_session=True,
    )
    # Kill Snakemake and its jobs (the whole process group) once part of the work is done.
    milestone = tmp_path / "results/samples/RD002/RD002.bam.bai"
    deadline = time.monotonic() + 600
    while not milestone.exists() and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert first.poll() is None, "the run ended before it could be killed"
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    log.close()

    incomplete = _incomplete(tmp_path)
    before = {p: t for p, t in _outputs(tmp_path).items() if p not in incomplete}
    assert before, "nothing was finished before the kill"
    assert not (tmp_path / "results/qc/multiqc_report.html").exists()

    # A killed Snakemake leaves its lock: the documented resume is --unlock, then run again.
    for extra in (("--unlock",), ()):
        done = subprocess.run(
            _command(tmp_path, config, *extra),
            capture_output=True,
            text=True,
            env=tool_env(),
            check=False,
        )
        assert done.returncode == 0, done.stderr[-6000:]
    made_again = _outputs_of_jobs_run(done.stdout + done.stderr, tmp_path)
    assert made_again, "the resumed run ran nothing"
    rerun = sorted(str(p) for p in made_again if p in before)
    assert not rerun, f"complete outputs were made again: {rerun}"
    after = _outputs(tmp_path)
    changed = sorted(str(p) for p, mtime in before.items() if p in after and after[p] != mtime)
    assert not changed, f"complete outputs were touched: {changed}"
    for sample in TRIO:
        vcf = Path("results/samples") / sample / f"{sample}.germline.vcf.gz"
        assert vcf_records(tmp_path / vcf) == vcf_records(demo_qc_run / vcf)


def _truncate(source: Path, target: Path) -> None:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 3])


def _unrelated_trio(tmp_path: Path) -> Path:
    """The demo trio as three unrelated samples (no family), so that each is its own germline
    branch; the config's path."""
    config = demo_qc_config(tmp_path, samples=TRIO)
    samples = tmp_path / "samples.tsv"
    rows = [line.split("\t") for line in samples.read_text().splitlines()]
    for column in ("family", "father", "mother"):
        index = rows[0].index(column)
        for row in rows[1:]:
            row[index] = ""
    samples.write_text("\n".join("\t".join(row) for row in rows) + "\n")
    return config


def _replace_fastq(units: Path, original: Path, replacement: Path) -> None:
    units.write_text(units.read_text().replace(str(original), str(replacement)))


def test_corrupt_fastq_fails_only_its_sample_and_keep_going_finishes_the_others(
    tmp_path: Path,
) -> None:
    config = _unrelated_trio(tmp_path)
    corrupt = tmp_path / "RD003_L001_R1.fastq.gz"
    _truncate(TESTGENOME / "reads" / "RD003_L001_R1.fastq.gz", corrupt)
    units = tmp_path / "units.tsv"
    units.write_text(
        units.read_text().replace(str(TESTGENOME / "reads/RD003_L001_R1.fastq.gz"), str(corrupt))
    )

    done = subprocess.run(
        _command(tmp_path, config, "--keep-going"),
        capture_output=True,
        text=True,
        env=tool_env(),
        check=False,
    )
    assert done.returncode != 0
    fastp_log = (tmp_path / "logs/qc/fastp_trim/RD003.L001.log").read_text()
    assert "unexpected end of file" in fastp_log, fastp_log[-2000:]
    assert str(corrupt) in fastp_log
    for sample in ("RD001", "RD002"):
        assert (tmp_path / f"results/samples/{sample}/{sample}.germline.vcf.gz.tbi").is_file()
    assert not (tmp_path / "results/samples/RD003/RD003.bam").exists()
    assert not (tmp_path / "results/qc/fastp_trim/RD003.L001.fastp.json").exists()


def test_unpaired_or_empty_fastq_fails_its_first_step_and_delivers_nothing(
    tmp_path: Path,
) -> None:
    """Issue #14: an R1 of 1,000 reads with an R2 of every read (fastp kept 1,000 pairs and
    dropped the rest silently), and a valid gzip holding 'hello' (fastp logged an error, exited
    0, and an empty BAM and VCF were delivered)."""
    config = _unrelated_trio(tmp_path)
    units = tmp_path / "units.tsv"
    reads = TESTGENOME / "reads"
    short_r1 = tmp_path / "RD002_L001_R1.fastq.gz"
    with gzip.open(reads / "RD002_L001_R1.fastq.gz", "rt") as full:
        short_r1.write_bytes(gzip.compress("".join(itertools.islice(full, 4000)).encode()))
    _replace_fastq(units, reads / "RD002_L001_R1.fastq.gz", short_r1)
    for mate in ("R1", "R2"):
        hello = tmp_path / f"RD003_L001_{mate}.fastq.gz"
        hello.write_bytes(gzip.compress(b"hello\n"))
        _replace_fastq(units, reads / f"RD003_L001_{mate}.fastq.gz", hello)

    done = subprocess.run(
        _command(tmp_path, config, "--keep-going"),
        capture_output=True,
        text=True,
        env=tool_env(),
        check=False,
    )
    assert done.returncode != 0
    unpaired = (tmp_path / "logs/qc/fastp_trim/RD002.L001.log").read_text()
    assert f"{short_r1} has 1,000 reads but {reads / 'RD002_L001_R2.fastq.gz'} has" in unpaired, (
        unpaired[-2000:]
    )
    empty = (tmp_path / "logs/qc/fastp_trim/RD003.L001.log").read_text()
    assert "no reads (empty, or not FASTQ)" in empty, empty[-2000:]
    assert (tmp_path / "results/samples/RD001/RD001.germline.vcf.gz.tbi").is_file()
    for sample in ("RD002", "RD003"):
        assert not (tmp_path / f"results/samples/{sample}").exists()
        assert not (tmp_path / f"results/qc/fastp_trim/{sample}.L001.fastp.json").exists()
    assert "no autosomes" not in done.stderr
