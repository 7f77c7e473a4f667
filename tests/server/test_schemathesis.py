"""Schemathesis against the app's own /openapi.json, in-process: no 5xx, and every answer as documented.

Every operation gets the examples, coverage and fuzzing phases with valid and invalid input, then a
stateful run chains calls (record choices → read that person's state and evidence → link an alias).
All of schemathesis' checks run except ``positive_data_acceptance``: a schema-valid body can still
name a notice version the policy does not have, and 422 is the right answer to that. Requests are
sent with an admin key, so answers are about the input rather than about who may send it.

The document is steered, not weakened: purposes and notice ids get the policy's values as ``enum``s
so most generated bodies get past validation and into the ledger and the decision code, and links
say which request field names the subject. Response schemas, which the checks validate, are
untouched. Runs are derandomized and bounded, so CI sees the same cases every time.
"""

from __future__ import annotations

import copy
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings

from consentgate.policy import Policy, load_policy
from consentgate.server import create_app
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import bearer

EXAMPLE_POLICY = Path(str(resources.files("consentgate.policy") / "example.yaml"))

EXAMPLES_PER_OPERATION = 80
STATEFUL = settings(
    max_examples=50,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _document() -> dict[str, Any]:
    """The real app's OpenAPI document (it depends on no data, so a throw-away ledger will do)."""
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(db=str(Path(tmp) / "ledger.db"), policy=EXAMPLE_POLICY))
        try:
            return app.openapi()
        finally:
            app.state.consentgate.service.ledger.close()


def _steered(document: dict[str, Any], policy: Policy) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    enums = {
        "purpose": [p.id for p in policy.purposes],
        "notice_id": [n.id for n in policy.notices],
    }

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if name in enums and isinstance(prop, dict):
                    _narrow(prop, enums[name])
            for param in node.get("parameters") or ():
                if isinstance(param, dict) and param.get("name") in enums and param.get("in") == "query":
                    _narrow(param["schema"], enums[param["name"]])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(doc)
    subject = "$request.body#/subject"
    state = "#/paths/~1v1~1subjects~1{subject}~1state/get"
    evidence = "#/paths/~1v1~1subjects~1{subject}~1evidence/get"
    aliases = "#/paths/~1v1~1subjects~1{subject}~1aliases/post"
    doc["paths"]["/v1/consents"]["post"]["responses"]["201"]["links"] = {
        "State": {"operationRef": state, "parameters": {"subject": subject}},
        "Evidence": {"operationRef": evidence, "parameters": {"subject": subject}},
        "Alias": {"operationRef": aliases, "parameters": {"subject": subject}},
    }
    return doc


def _narrow(schema: dict[str, Any], values: list[str]) -> None:
    """``{"type": "string", …}`` or ``{"anyOf": [{"type": "string", …}, {"type": "null"}]}`` → enum."""
    for option in [schema, *schema.get("anyOf", [])]:
        if option.get("type") == "string":
            option["enum"] = values


schema = schemathesis.openapi.from_dict(_steered(_document(), load_policy(EXAMPLE_POLICY)))
schema.config.generation.update(modes=list(schemathesis.GenerationMode))
schema.config.checks.update(excluded_check_names=["positive_data_acceptance"])


@pytest.fixture
def fuzz_app(settings: Settings, service: ConsentService) -> FastAPI:
    """The app without rate limits (fuzzing is a flood by design; tests/server/test_ratelimit.py)."""
    return create_app(settings.model_copy(update={"rate_per_key": 0, "rate_per_ip": 0}), service=service)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, fuzz_app: FastAPI, keys: dict[str, str]
) -> None:
    # Checks that send probes of their own (ignored_auth, …) send them through the schema's app.
    case.operation.schema.app = fuzz_app
    case.call_and_validate(app=fuzz_app, headers=bearer(keys["admin"]))


def test_call_sequences_answer_as_documented(
    fuzz_app: FastAPI, keys: dict[str, str], service: ConsentService
) -> None:
    admin = bearer(keys["admin"])
    # The consent chain; the request endpoints (which need a person the ledger already knows) are
    # fuzzed operation by operation above and exercised end to end in tests/server/test_requests_api.py.
    machine: Any = schema.exclude(tag="requests").as_state_machine()
    machine.schema.app = fuzz_app

    class Sequences(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"app": fuzz_app, "headers": admin}

    Sequences.run(settings=STATEFUL)
    # The runs reached the ledger, not only the validation layer.
    assert service.ledger.count() > 0
    assert service.ledger.verify().ok
