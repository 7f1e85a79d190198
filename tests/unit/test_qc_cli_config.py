"""The qc commands read their settings from the resolved config file (issue #15)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from genomflow.cli import build_parser
from genomflow.config import resolve
from genomflow.errors import GenomflowError
from genomflow.qc.cli import qc_config

RESOLVED = resolve({"reference": {"fasta": "ref.fa"}})


def _args(*argv: str) -> argparse.Namespace:
    common = ["--samples", "s.tsv", "--units", "u.tsv", "--batch", "b", "--metrics", "m.json"]
    outs = ["--summary-out", "s", "--status-mqc", "a", "--thresholds-mqc", "b"]
    return build_parser().parse_args(
        ["qc", "status", *common, "--out", "o", *outs, "--general-mqc", "c", *argv]
    )


def test_the_qc_section_comes_from_the_resolved_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(RESOLVED))
    assert qc_config(_args("--config", str(path))) == RESOLVED["qc"]


def test_the_older_qc_config_text_still_works() -> None:
    assert qc_config(_args("--qc-config", json.dumps(RESOLVED["qc"]))) == RESOLVED["qc"]


def test_config_and_qc_config_are_alternatives(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _args("--config", "c.json", "--qc-config", "{}")
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _args()


@pytest.mark.parametrize(
    ("text", "expected"),
    [("{not json", "not JSON"), ('{"germline": {}}', "expected the resolved config or its 'qc'")],
)
def test_a_bad_config_file_is_named(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(GenomflowError, match=expected) as caught:
        qc_config(_args("--config", str(path)))
    assert str(path) in str(caught.value)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(GenomflowError, match="cannot read the resolved config"):
        qc_config(_args("--config", str(tmp_path / "absent.json")))
