"""``consentgate report banner|gpc|requests|inventory|audit`` in-process: the same figures as the
functions, in a table, JSON and CSV; unknowns as words or empty cells; clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.ledger.signing import KEY_FILE_NAME, create_key
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.banner import banner_outcomes
from consentgate.reports.periods import Period
from consentgate.reports.rates import Interval
from tests.conftest import EXAMPLE_POLICY

from .ops_data import START, generate, record
from .test_inventory import scan_doc

FROM, TO = "2026-09-03", "2026-10-01T00:00:00Z"
Invoke = Callable[..., Result]


@pytest.fixture
def cg(tmp_path: Path, example_policy: Policy, monkeypatch: pytest.MonkeyPatch) -> Invoke:
    for name in ("CONSENTGATE_DB", "CONSENTGATE_POLICY", "CONSENTGATE_LEDGER_KEY", "CONSENTGATE_SCAN_FILE",
                 "CONSENTGATE_SCAN_HISTORY_DIR"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    db = tmp_path / "consentgate.db"
    with Ledger.open(str(db), signer=create_key(tmp_path / KEY_FILE_NAME)) as ledger:
        record(ledger, example_policy, generate(seed=3))
    runner = CliRunner(env={"COLUMNS": "240"})

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--db", str(db), "--policy", str(EXAMPLE_POLICY), *args])

    return invoke


def test_banner_json_is_the_functions_report_and_csv_the_same_rows(
    cg: Invoke, tmp_path: Path, example_policy: Policy
) -> None:
    result = cg("report", "banner", "--from", FROM, "--to", TO, "--interval", "week", "--json")
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    with Ledger.open(str(tmp_path / "consentgate.db")) as ledger:
        period = Period(START.replace(day=3), START.replace(month=10, day=1))
        want = banner_outcomes(ledger.engine, example_policy, period, interval=Interval.week)
    assert got["rows"] == want["rows"]
    assert got["rows"]
    assert all(r["no_action"] is None for r in got["rows"])

    result = cg("report", "banner", "--from", FROM, "--to", TO, "--interval", "week", "--csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["submissions"]) for r in rows] == [r["submissions"] for r in want["rows"]]
    assert {r["no_action"] for r in rows} == {""}

    table = cg("report", "banner", "--from", FROM, "--to", TO)
    assert table.exit_code == 0
    assert "not known" in table.stdout
    assert "None" not in table.output


def test_gpc_requests_and_inventory(cg: Invoke, tmp_path: Path) -> None:
    gpc = json.loads(cg("report", "gpc", "--from", FROM, "--to", TO, "--json").stdout)
    assert all(0 <= r["share"] <= 1 for r in gpc["rows"])
    assert "%" in cg("report", "gpc", "--from", FROM, "--to", TO).stdout

    empty = cg("report", "requests", "--from", FROM, "--to", TO)
    assert empty.exit_code == 0
    assert "no request was received in the period" in empty.stdout
    requests = json.loads(cg("report", "requests", "--json").stdout)
    assert requests["rows"] == []
    assert requests["late"] == []

    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps(scan_doc("https://www.example.com/", 2)), encoding="utf-8")
    inv = list(csv.DictReader(io.StringIO(cg("report", "inventory", "--scan", str(scan), "--csv").stdout)))
    assert [(r["start_url"], r["cookies"], r["violations"], r["problem"]) for r in inv] == [
        ("https://www.example.com/", "2", "2", "")
    ]
    none = cg("report", "inventory")
    assert "no site to report on" in none.stdout


def test_audit_writes_the_pack_and_the_csv_folder(cg: Invoke, tmp_path: Path) -> None:
    out, folder = tmp_path / "audit.html", tmp_path / "audit-csv"
    result = cg("report", "audit", "--out", str(out), "--csv-dir", str(folder), "--from", FROM)
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "INTACT" in html  # the key beside the database (as `init` makes it) sealed every write
    assert "consentgate-checkpoint/1" in html
    assert (folder / "notices.csv").exists()
    assert (folder / "banner_outcomes.csv").exists()
    assert "Verification: INTACT" in result.stderr

    unverified = cg("report", "audit", "--out", str(out), "--no-verify")
    assert unverified.exit_code == 0
    assert "not run for this pack" in out.read_text(encoding="utf-8")
    assert "No checkpoint was signed" in unverified.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "banner", "--json", "--csv"), "choose one of --json and --csv"),
        (("report", "banner", "--interval", "year"), "--interval 'year' is not one of day, week, month"),
        (("report", "gpc", "--from", "2026-10-01", "--to", "2026-09-01"), "the period is empty"),
        (("report", "requests", "--from", "2026-13-01"), "--from '2026-13-01' is not a date"),
        (("report", "audit", "--out", "/nonexistent-dir/audit.html", "--no-verify"), "cannot write"),
    ],
)
def test_bad_input_says_what_to_fix(cg: Invoke, args: tuple[str, ...], message: str) -> None:
    result = cg(*args)
    assert result.exit_code == 1
    assert message in result.output


def test_the_first_banner_or_gpc_report_says_it_counts_the_ledger_once(cg: Invoke) -> None:
    first = cg("report", "gpc", "--from", FROM, "--to", TO, "--json")
    assert first.exit_code == 0, first.output
    assert "counting the ledger's banner and GPC events once" in first.stderr
    for args in (("gpc",), ("banner", "--interval", "month")):
        again = cg("report", *args, "--from", FROM, "--to", TO, "--json")
        assert again.exit_code == 0, again.output
        assert again.stderr == ""
    assert json.loads(cg("report", "gpc", "--from", FROM, "--to", TO, "--json").stdout) == json.loads(
        first.stdout
    )
