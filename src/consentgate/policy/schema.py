"""The policy's JSON Schema, shipped as ``policy.schema.json`` for editors (YAML language servers)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from consentgate.policy.models import Policy

SCHEMA_ID = "https://consentgate.example/policy.schema.json"


def policy_json_schema() -> dict[str, Any]:
    schema = Policy.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "consentgate policy"
    return schema


def render() -> str:
    return json.dumps(policy_json_schema(), indent=2, sort_keys=True) + "\n"


def shipped() -> str:
    return (resources.files("consentgate.policy") / "policy.schema.json").read_text(encoding="utf-8")
