"""No traceback from any genomflow command on any input (issue #14).

Every sub-command is found by walking the parser (a new one is covered without editing this
file) and run with each kind of bad input file in place of every input: missing, empty, a
folder, plain text where a table/BAM/VCF/FASTA is expected, and a valid gzip holding text.
Each run must end with exit status 2 and one line ``genomflow: error: ...``, never a
traceback and never an internal error (exit 1).
"""

from __future__ import annotations

import argparse
import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from genomflow.cli import build_parser, main

#: Sub-commands that read no input file (they are driven with bad options below).
NO_INPUT_FILES = {
    ("simulate", "testgenome"),
    ("simulate", "benchgenome"),
    ("simulate", "cancer"),
    ("simulate", "wgs-somatic"),
    ("simulate", "wgs-cnv"),
    ("simulate", "plasma"),
    ("versions",),
    ("kb", "init"),
    ("kb", "grant"),
    ("kb", "variant"),
    ("kb", "patient"),
    ("kb", "stats"),
    ("kb", "token", "add"),
    ("kb", "token", "list"),
    ("kb", "token", "revoke"),
    ("kb", "serve"),
}
BAD_KINDS = ("missing", "empty", "folder", "text", "gzip-text")


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaves(sub, (*path, name))


LEAVES = dict(_leaves(build_parser()))


def _is_output(action: argparse.Action) -> bool:
    return "out" in action.dest.split("_") or action.dest in ("panels", "summary")


def _needed(action: argparse.Action) -> bool:
    positional = not action.option_strings and action.dest != "help"
    return action.required or positional


def _bad_file(folder: Path, kind: str, name: str) -> Path:
    path = folder / kind / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir(exist_ok=True)
    elif kind == "text":
        path.write_text("hello\n")
    elif kind == "gzip-text":
        path.write_bytes(gzip.compress(b"hello\n"))
    return path


def _value(action: argparse.Action, kind: str, tmp: Path) -> list[str]:
    """Argument values for ``action``: a bad input file of ``kind``, or a plausible value."""
    count = 2 if action.nargs == "+" else 1
    if action.type is Path or (action.type is None and action.dest == "reports"):
        if _is_output(action):
            return [str(tmp / "out" / f"{action.dest}{i}.txt") for i in range(count)]
        return [str(_bad_file(tmp, kind, f"{action.dest}{i}.gz")) for i in range(count)]
    if action.dest == "mosdepth_prefix":
        return [str(_bad_file(tmp, kind, "prefix"))]
    if action.dest == "json":
        return ["{not json"]
    if action.dest == "qc_config":
        return ["{}"]
    if action.type is not None and action.type is not str:
        return ["1"] * count
    return ["S1"] * count


def _argv(
    path: tuple[str, ...], parser: argparse.ArgumentParser, kind: str, tmp: Path
) -> list[str]:
    argv = list(path)
    # One option of each required group of alternatives (the first: ``--config`` of qc).
    chosen = [g._group_actions[0] for g in parser._mutually_exclusive_groups if g.required]
    for action in parser._actions:
        if not (_needed(action) or action in chosen):
            continue
        values = _value(action, kind, tmp)
        argv += [action.option_strings[0], *values] if action.option_strings else values
    return argv


def _assert_clean(capsys: pytest.CaptureFixture[str], code: int, argv: list[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err, f"{argv}: {err}"
    assert code == 2, f"{argv}: exit {code}: {err}"
    last = err.strip().splitlines()[-1]
    assert last.startswith(("genomflow: error:", "genomflow ")) or "usage:" in err, err
    return err


def _run(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exit_:  # argparse: usage errors
        return int(exit_.code or 0)


CASES = [
    (path, kind) for path in sorted(LEAVES) if path not in NO_INPUT_FILES for kind in BAD_KINDS
]


@pytest.mark.parametrize(("path", "kind"), CASES, ids=[f"{' '.join(p)}-{k}" for p, k in CASES])
def test_bad_input_files_give_one_line(
    path: tuple[str, ...],
    kind: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENOMFLOW_DB", f"sqlite:///{tmp_path}/kb.sqlite")
    argv = _argv(path, LEAVES[path], kind, tmp_path)
    _assert_clean(capsys, _run(argv), argv)
    assert not list((tmp_path / "out").glob("*")), "a failed command left outputs"


def test_every_command_is_driven() -> None:
    assert {p for p, _ in CASES} | NO_INPUT_FILES == set(LEAVES)


BAD_OPTIONS = [
    ["simulate", "benchgenome", "--coverage", "-5"],
    ["simulate", "benchgenome", "--coverage", "nan"],
    ["simulate", "benchgenome", "--length-mb", "inf"],
    ["simulate", "cancer", "--depth-factor", "-1", "--panels", "{tmp}/panels"],
    ["simulate", "cancer", "--depth-factor", "nan", "--panels", "{tmp}/panels"],
    ["simulate", "wgs-somatic", "--depth-factor", "0"],
    ["simulate", "wgs-cnv", "--depth", "-1"],
    ["simulate", "testgenome", "--out", "{tmp}/" + "x" * 300 + "/genome"],
    ["kb", "variant", "chr1:99999999999999999999:A:G"],
    ["kb", "variant", "chr1:-5:A:G"],
    ["kb", "variant", "not-a-variant"],
    ["kb", "variant", "chr1:5:A:G", "--db", "sqlite:///{tmp}/missing/kb.sqlite"],
    ["kb", "patient", "P1", "--db", "sqlite:///{tmp}/typo.sqlite"],
    ["kb", "patient", "P1", "--db", "sqlite:///"],
    ["kb", "stats", "--db", "sqlite:///{tmp}/typo.sqlite"],
    ["kb", "stats", "--db", "mysql://x/y"],
    ["kb", "grant", "--centre", "C", "--role", "r"],
    ["load", "--db", "sqlite:///", "{tmp}/r.json"],
    ["load", "--db", "sqlite://", "{tmp}/r.json"],
    ["load", "--db", "sqlite:///:memory:", "{tmp}/r.json"],
    ["kb", "token", "list", "--db", "sqlite:///{tmp}/typo.sqlite"],
    ["kb", "token", "add", "--name", "t", "--centre", "C", "--db", "sqlite:///{tmp}/typo.sqlite"],
    ["kb", "token", "revoke", "--name", "t", "--db", "sqlite:///{tmp}/typo.sqlite"],
    ["kb", "serve", "--db", "sqlite:///{tmp}/typo.sqlite", "--port", "1"],
]


@pytest.mark.parametrize("argv", BAD_OPTIONS, ids=[" ".join(a)[:60] for a in BAD_OPTIONS])
def test_bad_options_give_one_line(
    argv: list[str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GENOMFLOW_DB", f"sqlite:///{tmp_path}/default.sqlite")
    (tmp_path / "r.json").write_text("{}")
    full = [part.replace("{tmp}", str(tmp_path)) for part in argv]
    if full[0] == "simulate" and "--out" not in full:
        full += ["--out", str(tmp_path / "sim")]
    _assert_clean(capsys, _run(full), full)
    assert not (tmp_path / "sim").exists(), "the simulator left partial output"
    assert not (tmp_path / "typo.sqlite").exists(), "a query created a database"
    assert not (tmp_path / "default.sqlite").exists(), "a query created a database"


def test_internal_error_is_short_and_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import genomflow.versions

    def broken(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setenv("GENOMFLOW_CRASH_DIR", str(tmp_path))
    monkeypatch.setattr(genomflow.versions, "_cmd_versions", broken, raising=False)
    parser = build_parser("versions")
    args = parser.parse_args(["versions", "--out", str(tmp_path / "v.yml")])
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", lambda self, a=None: args)
    args.func = broken
    assert main(["versions", "--out", "x"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "internal error: ZeroDivisionError: a bug" in err
    logs = list(tmp_path.glob("genomflow-crash-*.log"))
    assert len(logs) == 1 and "Traceback" in logs[0].read_text()
    assert str(logs[0]) in err


def test_failed_command_leaves_none_of_its_outputs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nothing half-written: germline ploidy writes three files; when the third cannot be
    written, the two it did write are removed, and its input is left alone."""
    fai = tmp_path / "genome.fa.fai"
    fai.write_text("chr1\t1000\t6\t60\t61\nchrX\t500\t1030\t60\t61\n")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be")
    outputs = [tmp_path / "ploidy.txt", tmp_path / "samples.txt", blocker / "cnv.bed"]
    argv = ["germline", "ploidy", "--fai", str(fai), "--sample", "S1=male"]
    options = ("--ploidy-out", "--samples-out", "--cnv-map-out")
    for option, path in zip(options, outputs, strict=True):
        argv += [option, str(path)]
    assert main(argv) == 2
    assert "cnv.bed: cannot write" in capsys.readouterr().err
    assert not outputs[0].exists() and not outputs[1].exists()
    assert fai.is_file() and blocker.is_file()


@pytest.mark.parametrize("command", [["somatic", "classify"], ["ctdna", "monitor"]])
@pytest.mark.parametrize("purity", ["nan", "0", "60", "-0.5"])
def test_purity_must_be_a_fraction(
    command: list[str], purity: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--purity", purity])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --purity: " in err
    assert "not a finite number" in err or "must be a fraction above 0 and at most 1" in err
