"""Tool versions: a Python tool's version from its distribution is the one its command prints."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

import pytest

from genomflow import versions
from genomflow.versions import TOOLS, runs_under_this_python, tool_version

CNVKIT = next(t for t in TOOLS if t.name == "cnvkit")


@pytest.mark.skipif(not runs_under_this_python("cnvkit.py"), reason="cnvkit.py of another Python")
def test_cnvkit_version_from_metadata_is_the_commands() -> None:
    from_command = tool_version(dataclasses.replace(CNVKIT, distribution=None))
    assert tool_version(CNVKIT) == from_command


def test_a_script_of_another_interpreter_runs_its_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "cnvkit.py"
    script.write_text("#!/bin/sh\necho 9.9.9\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert not runs_under_this_python("cnvkit.py")
    assert tool_version(CNVKIT) == "9.9.9"


def test_a_script_of_this_interpreter_is_recognised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "tool.py"
    script.write_text(f"#!{sys.executable}\nprint('1.0')\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("tool.py") is not None
    assert runs_under_this_python("tool.py")
    assert not runs_under_this_python("absent-tool")
    assert versions.package_version("no-such-distribution-xyz") == "not installed"
