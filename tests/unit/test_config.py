"""The config schema: defaults fill a minimal config, typos and bad values fail loudly."""

from __future__ import annotations

import json

import pytest
import yaml

from genomflow.config import analysis_json, resolve
from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema

MINIMAL = {"samples": "s.tsv", "units": "u.tsv", "reference": {"fasta": "ref.fa"}}


def test_minimal_config_gets_every_default() -> None:
    resolved = resolve(MINIMAL)
    assert resolved["germline"]["caller"] == "bcftools"
    assert resolved["reference"]["sex_contigs"] == {"x": "chrX", "y": "chrY"}
    assert resolved["trimming"]["min_length"] == 36
    assert resolved["samples"] == "s.tsv"
    assert resolved["alignment_format"] == "bam"


def test_resolve_does_not_modify_its_input() -> None:
    config = {"reference": {"fasta": "ref.fa"}}
    resolve(config)
    assert config == {"reference": {"fasta": "ref.fa"}}


def test_given_values_are_kept() -> None:
    resolved = resolve({**MINIMAL, "germline": {"caller": "freebayes", "min_qual": 30}})
    assert resolved["germline"]["caller"] == "freebayes"
    assert resolved["germline"]["min_qual"] == 30
    assert resolved["germline"]["min_depth"] == 5


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"samples": "s.tsv"}, "'reference' is a required property"),
        ({"reference": {}}, "key 'reference': 'fasta' is a required property"),
        ({**MINIMAL, "germlin": {}}, "Additional properties are not allowed ('germlin'"),
        ({**MINIMAL, "germline": {"caller": "gatk"}}, "key 'germline.caller': 'gatk' is not one"),
        ({**MINIMAL, "germline": {"min_qual": -1}}, "key 'germline.min_qual': -1 is less than"),
        ({**MINIMAL, "trimming": {"min_lenght": 20}}, "('min_lenght' was unexpected)"),
        ({**MINIMAL, "alignment_format": "sam"}, "key 'alignment_format': 'sam' is not one"),
    ],
)
def test_bad_config_names_the_key(config: dict[str, object], expected: str) -> None:
    with pytest.raises(GenomflowError) as err:
        resolve(config, source="config/x.yaml")
    assert str(err.value).startswith("config/x.yaml: key ")
    assert expected in str(err.value)


def _walk(schema: dict[str, object], path: str) -> list[tuple[str, dict[str, object]]]:
    found = [(path, schema)]
    for name, sub in dict(schema.get("properties", {})).items():  # type: ignore[call-overload]
        found += _walk(sub, f"{path}.{name}")
    return found


def test_every_config_key_has_a_description_and_objects_are_closed() -> None:
    schema = load_schema("config.schema.yaml")
    required = {"reference", "fasta"}
    for path, node in _walk(schema, "config"):
        assert "description" in node, f"{path} has no description"
        leaf = path.rsplit(".", 1)[-1]
        if path != "config" and leaf not in required:
            assert "default" in node, f"{path} has no default"
        if node.get("type") == "object":
            assert node.get("additionalProperties") is False, f"{path} accepts unknown keys"


def test_demo_config_is_valid() -> None:
    with open("config/config.yaml") as handle:
        resolve(yaml.safe_load(handle))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinite_values_are_refused(value: float) -> None:
    """Issue #14: YAML's .nan and .inf passed the schema (NaN compares false to any bound)."""
    from genomflow.config import resolve
    from genomflow.errors import GenomflowError

    with pytest.raises(GenomflowError, match=r"key 'germline.min_qual': .* is not a finite"):
        resolve({"reference": {"fasta": "ref.fa"}, "germline": {"min_qual": value}})


def test_the_resolved_config_file_holds_every_analysis_section_but_not_load() -> None:
    resolved = resolve({"reference": {"fasta": "ref.fa"}, "load": {"db": "sqlite:///kb.sqlite"}})
    written = json.loads(analysis_json(resolved))
    assert "load" not in written
    assert written == {key: value for key, value in resolved.items() if key != "load"}


def test_schemas_read_the_same_with_the_c_and_the_python_yaml_loader() -> None:
    # The workflow reads its schemas with libyaml's loader for speed (bench/e2e_overhead);
    # every schema must come out as the Python loader reads it.
    from genomflow.schemas import SCHEMA_DIR, YAML_LOADER

    assert YAML_LOADER is yaml.CSafeLoader  # libyaml is there: the fast path is the one tested
    files = sorted(SCHEMA_DIR.glob("*.schema.yaml"))
    assert len(files) >= 5
    for path in files:
        text = path.read_text()
        assert yaml.load(text, Loader=YAML_LOADER) == yaml.safe_load(text), path.name
