"""The FHIR check parses one entry per signature (`distinct_entries`): its verdict must be the
verdict of parsing every entry with the R4B models, for valid bundles and for a bad value
hidden in the last of many Observations."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from genomflow.errors import GenomflowError
from genomflow.report.fhir import check_bundle, distinct_entries, fhir_bundle
from tests.kb.synthetic import (
    SyntheticSample,
    synthetic_variants,
    variant_pool,
    write_synthetic_report,
)


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    variants = synthetic_variants(variant_pool(400, seed=3), 300, seed=4)
    for i, variant in enumerate(variants):  # genes, HGVS and allele depths on some
        if i % 3 == 0:
            variant |= {"gene": f"GENE{i}", "hgvs_c": f"c.{i}A>G", "alt_depth": i % 40}
    path = write_synthetic_report(
        tmp_path_factory.mktemp("r"), SyntheticSample("S1", "P1"), variants
    )
    return fhir_bundle(json.loads(path.read_text()))


def test_a_valid_bundle_passes_both_ways_with_far_fewer_entries(bundle: dict[str, Any]) -> None:
    Bundle.model_validate(bundle)  # every entry
    check_bundle(bundle, "S1")
    observations = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert len(observations) > 250
    assert len(distinct_entries(bundle)["entry"]) < 20


def _last_variant(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][-1]["resource"]
    assert resource["resourceType"] == "Observation"
    return resource


def _component(observation: dict[str, Any], code: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in observation["component"] if c["code"]["coding"][0]["code"] == code
    )
    return found


def _empty_alt(o: dict[str, Any]) -> None:
    _component(o, "69551-0")["valueString"] = ""


def _code_with_two_spaces(o: dict[str, Any]) -> None:
    _component(o, "81252-9")["valueCodeableConcept"]["coding"][0]["code"] = "ga4gh:VA.a  b"


def _infinite_depth(o: dict[str, Any]) -> None:
    _component(o, "total-read-depth")["valueQuantity"]["value"] = math.inf


def _text_depth(o: dict[str, Any]) -> None:
    _component(o, "total-read-depth")["valueQuantity"]["value"] = "deep"


def _empty_identifier(o: dict[str, Any]) -> None:
    o["identifier"][0]["value"] = ""


def _number_as_reference(o: dict[str, Any]) -> None:
    o["subject"]["reference"] = 7


def _unknown_key(o: dict[str, Any]) -> None:
    o["component"][0]["valueStrin"] = "A"


@pytest.mark.parametrize(
    "spoil",
    [
        _empty_alt,
        _code_with_two_spaces,
        _infinite_depth,
        _text_depth,
        _empty_identifier,
        _number_as_reference,
        _unknown_key,
    ],
)
def test_a_bad_value_in_the_last_observation_fails_both_ways(
    bundle: dict[str, Any], spoil: Callable[[dict[str, Any]], None]
) -> None:
    spoiled = copy.deepcopy(bundle)
    spoil(_last_variant(spoiled))
    with pytest.raises(ValidationError):
        Bundle.model_validate(spoiled)
    with pytest.raises(GenomflowError, match="S1: FHIR bundle is not valid"):
        check_bundle(spoiled, "S1")


def test_the_check_leaves_the_bundle_as_it_was(tmp_path: Path) -> None:
    """The check does not change the bundle it judges."""
    variants = synthetic_variants(variant_pool(50, seed=5), 20, seed=6)
    path = write_synthetic_report(tmp_path, SyntheticSample("S2", "P2"), variants)
    bundle = fhir_bundle(json.loads(path.read_text()))
    before = json.dumps(bundle, sort_keys=True)
    check_bundle(bundle, "S2")
    assert json.dumps(bundle, sort_keys=True) == before
