"""``decide``: one answer, or a batch answered line for line in input order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke, grant_args, json_lines, write_jsonl

AI = "train_support_chatbot"
CONTRACT_KEYS = {"allowed", "basis", "region", "reason", "evidence_event"}


@pytest.fixture
def seeded(cg: Invoke) -> str:
    """user-1 granted AI training in Germany; returns the grant's event id."""
    result = cg(
        "record", "--subject", "user-1", "--action", "grant", "--purpose", AI, "--notice-version", "1",
        "--region", "DE", "--occurred-at", "2026-03-01T10:00:00+01:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_json_shape(cg: Invoke, seeded: str) -> None:
    result = cg("decide", "--subject", "user-1", "--purpose", AI, "--at", "2026-04-01T00:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert set(body) >= CONTRACT_KEYS
    assert set(body) - CONTRACT_KEYS <= {"subject", "purpose", "at"}
    assert body["allowed"] is True
    assert body["basis"] == "consent"
    assert body["region"] == "EU"
    assert isinstance(body["reason"], str)
    assert body["evidence_event"] == seeded
    assert (body["subject"], body["purpose"], body["at"]) == ("user-1", AI, "2026-04-01T00:00:00+00:00")


def test_denied_is_an_answer_with_exit_code_0(cg: Invoke, seeded: str) -> None:
    # Before the grant happened: rule 1 counts only events with occurred_at <= at.
    result = cg("decide", "--subject", "user-1", "--purpose", AI, "--at", "2026-02-01T00:00:00Z", "--json")
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert body["allowed"] is False
    assert body["evidence_event"] is None


def test_exit_code_option(cg: Invoke, seeded: str) -> None:
    allowed = cg(
        "decide", "--subject", "user-1", "--purpose", AI, "--at", "2026-04-01T00:00:00Z", "--exit-code"
    )
    denied = cg("decide", "--subject", "nobody", "--purpose", AI, "--region", "DE", "--exit-code")
    assert allowed.exit_code == 0
    assert denied.exit_code == 3


def test_readable_line(cg: Invoke, seeded: str) -> None:
    result = cg("decide", "--subject", "user-1", "--purpose", AI, "--at", "2026-04-01T00:00:00Z")
    assert result.stdout.startswith("allowed: train_support_chatbot for user-1")
    assert seeded in result.stdout
    region_default = cg("decide", "--subject", "user-1", "--purpose", "service_delivery")
    assert region_default.stdout.startswith("allowed:")
    denied = cg("decide", "--subject", "someone", "--purpose", AI, "--region", "FR")
    assert denied.stdout.startswith("denied:")
    assert "consent" in denied.stdout


def test_region_changes_the_basis(cg: Invoke) -> None:
    body = json.loads(cg("decide", "--subject", "new", "--purpose", AI, "--region", "US-CA", "--json").stdout)
    assert (body["allowed"], body["basis"], body["region"]) == (True, "opt_out", "US-OPTOUT")


def test_mistakes(cg: Invoke, seeded: str) -> None:
    unknown = cg("decide", "--subject", "user-1", "--purpose", "mind_reading")
    assert unknown.exit_code == 1
    assert "mind_reading" in unknown.stderr
    naive = cg("decide", "--subject", "user-1", "--purpose", AI, "--at", "2026-04-01T00:00:00")
    assert naive.exit_code == 1
    assert "time zone" in naive.stderr
    bad_region = cg("decide", "--subject", "user-1", "--purpose", AI, "--region", "Germany")
    assert bad_region.exit_code == 1
    missing = cg("decide", "--subject", "user-1")
    assert missing.exit_code == 2
    both = cg("decide", "--subject", "user-1", "--purpose", AI, "--batch", "q.jsonl")
    assert both.exit_code == 2


def test_missing_ledger_is_an_error_not_an_empty_answer(cg: Invoke, tmp_path: Path) -> None:
    result = cg("decide", "--subject", "u", "--purpose", AI, db=str(tmp_path / "typo.db"))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert not (tmp_path / "typo.db").exists()


def test_batch_answers_in_input_order(cg: Invoke, seeded: str, tmp_path: Path) -> None:
    queries = [
        {"subject": "user-1", "purpose": AI, "at": "2026-04-01T00:00:00Z"},
        {"subject": "zed", "purpose": AI, "region": "FR"},
        {"subject": "user-1", "purpose": AI, "at": "2026-02-01T00:00:00Z"},
        "",
        {"subject": "amy", "purpose": AI, "region": "US-CA", "id": "q-4"},
        {"subject": "user-1", "purpose": "service_delivery"},
    ]
    path = write_jsonl(tmp_path / "q.jsonl", queries)
    result = cg("decide", "--batch", str(path), "--json")
    assert result.exit_code == 0, result.output
    answers = json_lines(result.stdout)
    assert len(result.stdout.splitlines()) == 5
    assert [a["subject"] for a in answers] == ["user-1", "zed", "user-1", "amy", "user-1"]
    assert [a["allowed"] for a in answers] == [True, False, False, True, True]
    for a in answers:
        assert set(a) >= CONTRACT_KEYS
    assert answers[0]["evidence_event"] == seeded
    assert answers[3]["id"] == "q-4"
    assert "id" not in answers[0]


def test_batch_matches_single_decisions(cg: Invoke, seeded: str, tmp_path: Path) -> None:
    subjects = [f"s{i % 7}" for i in range(40)] + ["user-1"]
    for s in {"s1", "s3"}:
        cg(*grant_args(s, "--region", "IE"))
    at = "2026-12-01T00:00:00Z"
    path = write_jsonl(tmp_path / "q.jsonl", [{"subject": s, "purpose": AI, "at": at} for s in subjects])
    batch = json_lines(cg("decide", "--batch", str(path), "--json").stdout)
    for s, answer in zip(subjects, batch, strict=True):
        single = json.loads(cg("decide", "--subject", s, "--purpose", AI, "--at", at, "--json").stdout)
        assert answer == single


def test_batch_stdin_and_exit_code(cg: Invoke, seeded: str) -> None:
    at = "2026-04-01T00:00:00Z"
    lines = "\n".join(json.dumps({"subject": s, "purpose": AI, "at": at}) for s in ("user-1", "nobody"))
    result = cg("decide", "--batch", "-", "--exit-code", input=lines)
    assert result.exit_code == 3
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == ["allowed", "denied"]


def test_batch_bad_lines_are_reported_with_numbers(cg: Invoke, tmp_path: Path) -> None:
    rows = [
        {"subject": "a", "purpose": AI},
        {"subject": "b", "purpose": "nope"},
        "{broken",
        {"subject": "c", "purpose": AI, "at": "2026-01-01T00:00:00"},
        {"purpose": AI},
        {"subject": "d", "purpose": AI, "when": "now"},
    ]
    result = cg("decide", "--batch", str(write_jsonl(tmp_path / "q.jsonl", rows)), "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    err = result.stderr
    for text in (
        "line 2: purpose",
        "line 3",
        "not valid JSON",
        "line 4: at",
        "line 5: subject",
        "line 6",
        "when",
    ):
        assert text in err, err
    assert "line 1" not in err


def test_a_region_that_only_upper_cases_to_a_code_is_refused(cg: Invoke, seeded: str, tmp_path: Path) -> None:
    # "\u0131t".upper() == "IT": the CLI's copy of the region rule lacked the ASCII guard.
    dotless = "\u0131t"
    single = cg("decide", "--subject", "user-1", "--purpose", AI, "--region", dotless)
    assert single.exit_code == 1
    assert f"--region {dotless!r} is not an ISO 3166 code such as DE or US-CA" in single.stderr
    path = write_jsonl(tmp_path / "q.jsonl", [{"subject": "user-1", "purpose": AI, "region": dotless}])
    batch = cg("decide", "--batch", str(path), "--json")
    assert batch.exit_code == 1
    assert f"line 1: region: {dotless!r} is not an ISO 3166 code" in batch.stderr
    assert batch.stdout == ""
    policy_region = cg("decide", "--subject", "user-1", "--purpose", AI, "--region", "EU", "--json")
    assert json.loads(policy_region.stdout)["region"] == "EU"
