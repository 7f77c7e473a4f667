"""An identifier the ledger knows nothing about gets a distinct exit code, never an empty "intact".

``evidence --subject nobody`` used to exit 0 with "hash chain: intact for these 0 events": a claim
about nothing that read like an assurance. Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json

import pytest

from consentgate.ledger.store import Ledger

from .conftest import Invoke

EXIT_UNKNOWN_SUBJECT = 5
AI = "train_support_chatbot"


@pytest.fixture
def db(ledger_url: str) -> str:
    Ledger.open(ledger_url).close()
    return ledger_url


def _grant(cg: Invoke, db: str, subject: str, *extra: str) -> None:
    result = cg(
        "record", "--subject", subject, "--action", "grant", "--purpose", AI, "--notice-version", "2",
        "--region", "DE", *extra, db=db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["evidence", "history", "runs"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_an_unknown_identifier_exits_5_and_says_so(cg: Invoke, db: str, command: str, as_json: bool) -> None:
    _grant(cg, db, "someone@example.com")  # a ledger with events, just none of this identifier
    result = cg(command, "--subject", "nobody@example.com", *(["--json"] if as_json else []), db=db)
    assert result.exit_code == EXIT_UNKNOWN_SUBJECT, result.output
    assert "knows nothing about 'nobody@example.com'" in result.stderr
    assert "intact" not in result.output
    assert result.stdout == ""


@pytest.mark.parametrize("command", ["evidence", "history"])
def test_a_known_identifier_still_answers(cg: Invoke, db: str, command: str) -> None:
    _grant(cg, db, "ann@example.com", "--locale", "de")
    result = cg(command, "--subject", "ann@example.com", db=db)
    assert result.exit_code == 0, result.output
    assert "ann@example.com" in result.stdout


def test_an_alias_without_events_is_known_and_claims_no_intact_chain(cg: Invoke, db: str) -> None:
    linked = cg("link", "--alias", "cookie-77", "--subject", "acct-77", "--kind", "cookie_id", db=db)
    assert linked.exit_code == 0, linked.output
    result = cg("evidence", "--subject", "acct-77", "--json", db=db)
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["known"] is True
    assert record["chain"]["intact"] is None  # nothing was verified
    assert record["chain"]["checked_events"] == 0
    text = cg("evidence", "--subject", "acct-77", db=db)
    assert "nothing to verify" in text.stdout
    assert "intact" not in text.stdout
    history = cg("history", "--subject", "cookie-77", db=db)
    assert history.exit_code == 0
    assert "no events" in history.stderr


def test_runs_of_a_known_person_that_no_run_used_exits_0(cg: Invoke, db: str) -> None:
    _grant(cg, db, "ann@example.com")
    result = cg("runs", "--subject", "ann@example.com", db=db)
    assert result.exit_code == 0, result.output
    assert "no run or export used data of ann@example.com" in result.stderr


def test_evidence_says_when_the_language_was_not_recorded(cg: Invoke, db: str) -> None:
    # The grant came without --locale: the wording kept is the policy's default (English), which the
    # person may never have read. It used to show "language": null beside that English text.
    _grant(cg, db, "ann@example.com")
    _grant(cg, db, "bob@example.com", "--locale", "de")
    ann = json.loads(cg("evidence", "--subject", "ann@example.com", "--json", db=db).stdout)
    (event,) = ann["events"]
    assert (event["language"], event["language_recorded"]) == (None, False)
    assert event["privacy_notice"]["note"].startswith("language not recorded")
    text = cg("evidence", "--subject", "ann@example.com", db=db).stdout
    assert "language not recorded; the policy's en wording" in text
    bob = json.loads(cg("evidence", "--subject", "bob@example.com", "--json", db=db).stdout)
    (event,) = bob["events"]
    assert (event["language"], event["language_recorded"]) == ("de", True)
    assert "note" not in event["privacy_notice"]
    assert "not recorded" not in cg("evidence", "--subject", "bob@example.com", db=db).stdout
