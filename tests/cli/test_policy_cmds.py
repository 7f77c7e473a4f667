"""``policy check`` and ``policy schema``."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from consentgate.policy import load_policy
from consentgate.policy.schema import policy_json_schema

from .conftest import Invoke


def test_check_summarises(cg: Invoke, policy_file: Path) -> None:
    result = cg("policy", "check")
    assert result.exit_code == 0, result.output
    assert "valid policy for Example Support Ltd" in result.stdout
    assert "train_support_chatbot" in result.stdout
    assert "example-labelling" in result.stdout  # the self-training vendor gets a note


def test_check_json(cg: Invoke) -> None:
    body = json.loads(cg("policy", "check", "--json").stdout)
    assert body["valid"] is True
    assert {p["id"] for p in body["purposes"]} >= {"train_support_chatbot", "marketing"}
    assert any("example-labelling" in note for note in body["notes"])


def test_check_names_file_place_and_problem(cg: Invoke, policy_file: Path) -> None:
    text = policy_file.read_text(encoding="utf-8").replace("kind: ai_training", "kind: mind_reading", 1)
    policy_file.write_text(text, encoding="utf-8")
    result = cg("policy", "check")
    assert result.exit_code == 1
    assert str(policy_file) in result.stderr
    assert "purposes[0].kind" in result.stderr
    assert "Traceback" not in result.output


def test_missing_policy(cg: Invoke, policy_file: Path) -> None:
    policy_file.unlink()
    result = cg("policy", "check")
    assert result.exit_code == 1
    assert "consentgate init" in result.stderr


def test_schema_validates_the_example(cg: Invoke, example_policy_path: Path, tmp_path: Path) -> None:
    result = cg("policy", "schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema == policy_json_schema()  # what is shipped as policy.schema.json
    jsonschema.validate(load_policy(example_policy_path).model_dump(mode="json"), schema)

    out = tmp_path / "policy.schema.json"
    written = cg("policy", "schema", "--out", str(out))
    assert written.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8")) == schema


def test_unwritable_output_is_an_error_not_a_traceback(cg: Invoke, tmp_path: Path) -> None:
    result = cg("policy", "schema", "--out", str(tmp_path / "no-such-dir" / "schema.json"))
    assert result.exit_code == 1
    assert "no-such-dir" in result.stderr
    assert "Traceback" not in result.output
