"""`consentgate report consent-rates`: JSON, CSV and the table, series and time zones, and the errors a
person gets for a bad option (exit 1, a message that says what to change)."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports import consent_rates
from consentgate.service import ConsentService

from .test_rates import choice


@pytest.fixture
def db(tmp_path: Path, example_policy: Policy) -> Path:
    path = tmp_path / "ledger.db"
    with Ledger.open(str(path)) as ledger:
        svc = ConsentService(example_policy, ledger)
        svc.record(
            [
                choice("ann", "grant", "2026-02-01T10:00:00Z"),
                choice("bob", "deny", "2026-02-03T10:00:00Z"),
                choice("cat", "grant", "2026-02-02T10:00:00Z", region="US-CA"),
                choice("cat", "gpc", "2026-03-29T12:00:00Z", region="US-CA"),
                choice("dan", "grant", "2026-03-15T10:00:00Z", region="JP", notice_version=2),
            ],
            source="banner",
        )
    return path


def run(db: Path, policy: Path, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["--db", str(db), "--policy", str(policy), "report", "consent-rates", *args]
    )


def test_json_is_the_report(db: Path, example_policy_path: Path, example_policy: Policy) -> None:
    result = run(db, example_policy_path, "--at", "2026-03-01T00:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == {
        "at": "2026-03-01T00:00:00+00:00",
        "rows": [
            {"purpose": "train_support_chatbot", "region": "EU", "subjects": 2, "allowed": 1, "rate": 0.5},
            {
                "purpose": "train_support_chatbot",
                "region": "US-OPTOUT",
                "subjects": 1,
                "allowed": 1,
                "rate": 1.0,
            },
        ],
    }
    with Ledger.open(str(db)) as ledger:
        at = datetime(2026, 3, 1, tzinfo=UTC)
        assert consent_rates(ledger.engine, example_policy, at=at).as_json() == data


def test_csv_has_a_header_and_a_row_per_group(db: Path, example_policy_path: Path) -> None:
    result = run(
        db, example_policy_path, "--at", "2026-04-01", "--by", "purpose,region,notice_version", "--csv"
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [
        ["purpose", "region", "notice_version", "subjects", "allowed", "rate"],
        ["train_support_chatbot", "EU", "1", "2", "1", "0.5"],
        ["train_support_chatbot", "JP", "2", "1", "1", "1.0"],
        ["train_support_chatbot", "US-OPTOUT", "1", "1", "0", "0.0"],  # GPC under opt-out
    ]


def test_the_table_names_groups_and_rates(db: Path, example_policy_path: Path) -> None:
    result = run(db, example_policy_path, "--at", "2026-03-01T00:00:00Z")
    assert result.exit_code == 0, result.output
    assert "Consent rates at 2026-03-01T00:00:00+00:00" in result.stdout
    assert "US-OPTOUT" in result.stdout
    assert "50.0%" in result.stdout
    empty = run(db, example_policy_path, "--at", "2025-01-01T00:00:00Z")
    assert empty.exit_code == 0, empty.output
    assert "no one had made a choice about any purpose by then" in empty.stdout


def test_a_series_steps_on_the_local_calendar(db: Path, example_policy_path: Path) -> None:
    """Days in Berlin across the switch to summer time (2026-03-29): midnights at +01:00, then +02:00."""
    result = run(
        db, example_policy_path, "--from", "2026-03-28", "--to", "2026-03-31", "--interval", "day",
        "--tz", "Europe/Berlin", "--by", "purpose", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["interval"] == "day"
    assert data["tz"] == "Europe/Berlin"
    assert [(r["at"], r["subjects"], r["allowed"]) for r in data["rows"]] == [
        ("2026-03-28T00:00:00+01:00", 4, 3),
        ("2026-03-29T00:00:00+01:00", 4, 3),
        ("2026-03-30T00:00:00+02:00", 4, 2),  # cat's GPC, 2026-03-29T12:00Z, under opt-out
        ("2026-03-31T00:00:00+02:00", 4, 2),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "purpose,country"], "--by 'country' is not a grouping; use any of purpose, region"),
        (["--by", "region"], "--by must include purpose"),
        (["--at", "2026-03-01T00:00:00"], "has no time zone; add Z or an offset"),
        (["--at", "yesterday"], "--at 'yesterday' is not a date (2026-05-01) or an ISO 8601 time"),
        (
            ["--at", "2026-03-01", "--from", "2026-01-01", "--to", "2026-02-01", "--interval", "day"],
            "not both",
        ),
        (["--from", "2026-01-01", "--interval", "day"], "a series needs both --from and --to"),
        (["--from", "2026-01-01", "--to", "2026-02-01"], "a series needs --from, --to and --interval"),
        (["--from", "2026-02-01", "--to", "2026-01-01", "--interval", "day"], "is before --from"),
        (
            ["--from", "2026-01-01", "--to", "2026-02-01", "--interval", "hour"],
            "--interval 'hour' is not one of",
        ),
        (["--from", "2000-01-01", "--to", "2026-02-01", "--interval", "day"], "use a longer --interval"),
        (["--tz", "Mars/Olympus"], "--tz 'Mars/Olympus' is not a time zone name"),
        (["--json", "--csv"], "choose one of --json and --csv"),
    ],
)
def test_bad_options_say_what_to_change(
    db: Path, example_policy_path: Path, args: list[str], message: str
) -> None:
    result = run(db, example_policy_path, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "None" not in result.stderr
    assert result.stdout == ""


def test_a_mistyped_ledger_path_is_an_error_not_an_empty_report(
    tmp_path: Path, example_policy_path: Path
) -> None:
    missing = tmp_path / "nope.db"
    result = run(missing, example_policy_path, "--json")
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert not missing.exists()


def test_the_first_report_says_it_decides_everyone_once(db: Path, example_policy_path: Path) -> None:
    first = run(db, example_policy_path, "--json")
    assert first.exit_code == 0, first.output
    assert "deciding every person in the ledger once for this policy" in first.stderr
    again = run(db, example_policy_path, "--json")
    assert again.exit_code == 0, again.output
    assert again.stderr == ""
    assert json.loads(again.stdout)["rows"] == json.loads(first.stdout)["rows"]


def test_a_database_failure_is_one_line_not_a_traceback(db: Path, example_policy_path: Path) -> None:
    assert run(db, example_policy_path, "--json").exit_code == 0
    con = sqlite3.connect(db)
    con.execute("DROP TABLE report_months")
    con.commit()
    con.close()
    result = run(db, example_policy_path, "--json")
    assert result.exit_code == 1
    assert "could not read the consent-rate rollup: no such table: report_months" in result.stderr
    assert "Traceback" not in result.output + result.stderr
