"""The shipped JSON Schema is generated from the models and is as closed as they are."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from consentgate.policy.load import _PolicyYamlLoader
from consentgate.policy.schema import policy_json_schema, render, shipped


def _objects(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    """Every schema object that declares ``properties`` (a mapping with named fields)."""
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _objects(value, f"{path}/{i}")
    return found


def _example(example_policy_path: Path) -> Any:
    data = yaml.load(example_policy_path.read_text(encoding="utf-8"), Loader=_PolicyYamlLoader)
    return json.loads(json.dumps(data, default=str))


def test_shipped_schema_is_regenerated_from_the_models() -> None:
    assert shipped() == render(), (
        "refresh it: consentgate policy schema --out src/consentgate/policy/policy.schema.json"
    )


def test_every_mapping_with_fields_forbids_other_keys() -> None:
    objects = _objects(policy_json_schema())
    assert len(objects) >= 12  # the policy and each of its models
    assert [path for path, obj in objects if obj.get("additionalProperties") is not False] == []


@pytest.mark.parametrize(
    ("edit", "typo"),
    [
        (lambda d: d["regions"]["US-OPTOUT"].update(honor_gpc=True), "honor_gpc"),
        (lambda d: d["purposes"][0].update(max_age_dayz=365), "max_age_dayz"),
        (lambda d: d["notices"][0]["versions"][0].update(re_consent=True), "re_consent"),
        (lambda d: d["web"]["cookies"][0].update(categroy="analytics"), "categroy"),
        (lambda d: d["sources"][0].update(retention=30), "retention"),
    ],
)
def test_the_schema_accepts_the_example_and_rejects_a_nested_typo(
    example_policy_path: Path, edit, typo: str
) -> None:  # type: ignore[no-untyped-def]
    schema = policy_json_schema()
    data = _example(example_policy_path)
    jsonschema.validate(data, schema)
    edit(data)
    with pytest.raises(jsonschema.ValidationError, match=typo):
        jsonschema.validate(data, schema)
