"""Progress bars of long commands: drawn on a terminal, quiet in logs and pipes."""

from __future__ import annotations

import io
import sys

import pytest

from genomflow.progress import bar, progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert list(progress(range(3), "counting")) == [0, 1, 2]
    with bar("loading", total=2) as loading:
        loading.update(2)
    assert stderr.getvalue() == ""


def test_a_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENOMFLOW_PROGRESS", raising=False)
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert list(progress(["a", "b"], "simulating samples", unit="sample")) == ["a", "b"]
    assert "simulating samples" in stderr.getvalue()
    assert "/2 [" in stderr.getvalue()  # the count against the total


def test_off_on_a_terminal_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GENOMFLOW_PROGRESS", "0")
    stderr = Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    assert list(progress([1], "counting")) == [1]
    assert stderr.getvalue() == ""
