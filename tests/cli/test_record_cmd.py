"""``record`` and ``link``: one choice from the command line, validated like API input."""

from __future__ import annotations

import json
from pathlib import Path

from consentgate.ledger.store import Ledger

from .conftest import Invoke, count_events

AI = "train_support_chatbot"


def test_grant_without_version_is_refused_as_the_api_refuses_it(cg: Invoke, db_file: Path) -> None:
    # It used to be recorded "using ai-training v1": a version the person may never have seen.
    result = cg(
        "record", "--subject", "user-1", "--action", "grant", "--purpose", AI,
        "--region", "DE", "--locale", "de", "--occurred-at", "2026-03-01T10:00:00+01:00",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "--notice-version: a grant needs the notice version the person saw" in result.stderr
    assert "using" not in result.stderr
    assert count_events(db_file) == 0


def test_grant_keeps_the_version_and_locale_given(cg: Invoke, db_file: Path) -> None:
    result = cg(
        "record", "--subject", "user-1", "--action", "grant", "--purpose", AI, "--notice-version", "1",
        "--region", "de", "--locale", "de", "--occurred-at", "2026-03-01T10:00:00+01:00",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (event_id,) = result.stdout.split()
    with Ledger.open(str(db_file)) as ledger:
        stored = ledger.event(event_id)
    assert stored is not None
    assert (stored.notice_id, stored.notice_version, stored.locale) == ("ai-training", "1", "de")
    assert (stored.region, stored.source) == ("DE", "cli")


def test_grant_is_allowed_afterwards(cg: Invoke) -> None:
    recorded = cg(
        "record", "--subject", "user-2", "--action", "grant", "--purpose", AI, "--notice-version", "2",
        "--region", "FR",
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    decision = json.loads(cg("decide", "--subject", "user-2", "--purpose", AI, "--json").stdout)
    assert decision["allowed"] is True


def test_purposes_under_two_notices_take_each_ones_version(cg: Invoke) -> None:
    # As the API plans choices: each purpose is its own event, its notice the purpose's own.
    result = cg(
        "record", "--subject", "user-3", "--action", "grant", "--purpose", AI,
        "--purpose", "product_analytics", "--notice-version", "1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    notices = {e["purpose"]: (e["notice_id"], e["notice_version"]) for e in body["events"]}
    assert notices == {AI: ("ai-training", "1"), "product_analytics": ("cookies", "1")}


def test_a_purpose_twice_is_refused(cg: Invoke, db_file: Path) -> None:
    result = cg(
        "record", "--subject", "u", "--action", "deny", "--purpose", AI, "--purpose", AI,
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"lists purpose {AI!r} twice" in result.stderr
    assert count_events(db_file) == 0


def test_erase_points_to_an_erasure_request(cg: Invoke, db_file: Path) -> None:
    result = cg("record", "--subject", "u", "--action", "erase")
    assert result.exit_code == 1
    assert "consentgate requests file --kind erase" in result.stderr
    assert count_events(db_file) == 0


def test_a_region_that_only_upper_cases_to_a_code_is_refused(cg: Invoke, db_file: Path) -> None:
    # A dotless i (U+0131) upper-cases to "I": "\u0131t".upper() == "IT".
    result = cg("record", "--subject", "u", "--action", "deny", "--purpose", AI, "--region", "\u0131t")
    assert result.exit_code == 1
    assert "--region: '\u0131t' is not an ISO 3166 code such as DE or US-CA" in result.stderr
    assert count_events(db_file) == 0


def test_time_without_zone_is_refused_naming_the_option(cg: Invoke, db_file: Path) -> None:
    result = cg(
        "record",
        "--subject",
        "u",
        "--action",
        "deny",
        "--purpose",
        AI,
        "--occurred-at",
        "2026-05-01T12:00:00",
    )
    assert result.exit_code == 1
    assert "--occurred-at" in result.stderr
    assert "time zone" in result.stderr
    assert "Traceback" not in result.output
    assert count_events(db_file) == 0


def test_unknown_purpose_lists_the_known_ones(cg: Invoke, db_file: Path) -> None:
    result = cg("record", "--subject", "u", "--action", "deny", "--purpose", "train_everything")
    assert result.exit_code == 1
    assert "train_everything" in result.stderr
    assert AI in result.stderr
    assert count_events(db_file) == 0


def test_unknown_action_is_a_usage_error(cg: Invoke) -> None:
    result = cg("record", "--subject", "u", "--action", "maybe", "--purpose", AI)
    assert result.exit_code == 2


def test_gpc_flag_is_stored_as_a_signal(cg: Invoke) -> None:
    result = cg("record", "--subject", "u", "--action", "gpc", "--no-gpc", "--region", "US-CA", "--json")
    assert result.exit_code == 0, result.output
    (event,) = json.loads(result.stdout)["events"]
    assert event["signals"] == {"gpc": False}
    assert event["purpose"] is None


def test_link_makes_an_anonymous_choice_count_for_the_account(cg: Invoke) -> None:
    cg("record", "--subject", "cookie-9f2c", "--action", "grant", "--purpose", AI, "--notice-version", "2",
       "--region", "DE")  # fmt: skip
    before = json.loads(cg("decide", "--subject", "acct-7", "--purpose", AI, "--json").stdout)
    assert before["allowed"] is False
    linked = cg("link", "--alias", "cookie-9f2c", "--subject", "acct-7", "--kind", "cookie_id")
    assert linked.exit_code == 0, linked.output
    assert "linked" in linked.stdout
    again = cg("link", "--alias", "cookie-9f2c", "--subject", "acct-7", "--kind", "cookie_id")
    assert "already linked" in again.stdout
    after = json.loads(cg("decide", "--subject", "acct-7", "--purpose", AI, "--json").stdout)
    assert after["allowed"] is True


def test_link_to_a_second_person_is_refused(cg: Invoke) -> None:
    cg("link", "--alias", "cookie-1", "--subject", "acct-1")
    result = cg("link", "--alias", "cookie-1", "--subject", "acct-2")
    assert result.exit_code == 1
    assert "already linked" in result.stderr
