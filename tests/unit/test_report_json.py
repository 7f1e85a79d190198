"""The reports' JSON writer: the text of ``json.dumps(indent=1, ensure_ascii=False)``, byte
for byte, so that reports and FHIR bundles keep their bytes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from genomflow.report.build import indented_json, write_json
from genomflow.report.fhir import fhir_bundle
from tests.kb.synthetic import (
    SyntheticSample,
    synthetic_variants,
    variant_pool,
    write_synthetic_report,
)

VALUES: list[Any] = [
    {},
    [],
    "",
    0,
    None,
    True,
    {"a": [], "b": {}, "c": [[], {}, [[]]]},
    [1.0, 1e-05, 1e16, 0.1 + 0.2, -0.0, 2**70, -3, False, None],
    [math.nan, math.inf, -math.inf],
    {"é": 'ü\n\t"\\\x01/\u2028', "": ""},
    {"deep": {"er": {"est": [{"x": 1}, "y", [2, "z"]]}}},
]


@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_the_standard_librarys(value: Any) -> None:
    assert indented_json(value) == json.dumps(value, indent=1, ensure_ascii=False)


def test_other_keys_and_types_fall_back_to_the_standard_library() -> None:
    for value in ({1: "a", None: 2}, {"t": (1, 2)}):
        assert indented_json(value) == json.dumps(value, indent=1, ensure_ascii=False)


def test_a_report_and_its_bundle_are_written_as_before(tmp_path: Path) -> None:
    variants = synthetic_variants(variant_pool(300, seed=7), 200, seed=8)
    path = write_synthetic_report(tmp_path / "r", SyntheticSample("S3", "P3"), variants)
    report = json.loads(path.read_text())
    for name, value in (("report.json", report), ("fhir.json", fhir_bundle(report))):
        write_json(value, tmp_path / name)
        expected = json.dumps(value, indent=1, ensure_ascii=False) + "\n"
        assert (tmp_path / name).read_text() == expected
