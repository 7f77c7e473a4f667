"""The CLI commands end to end on small files: classify, scan-text, datamap, redact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from consentgate.cli import app

ROWS: dict[str, list[Any]] = {
    "customer_id": [10001, 10002, 10003, 10004],
    "email": ["emily@example.com", "jonas@example.de", "chloe@example.fr", "lucia@example.es"],
    "visitor_id": [
        "0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5",
        "7f9c2a10-5b3e-4c8d-9e1f-2a3b4c5d6e7f",
        "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
    ],
    "plan": ["pro", "free", "free", "team"],
    "note": [
        "Call me on +44 20 7946 0958, Emily Thompson",
        "Bitte Rückruf unter +49 30 12345678",
        "rien à signaler",
        "Llámeme al +34 912 345 678",
    ],
    "diagnosis": ["J45", "E11", "I10", "J45"],
}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "240"})


def _table() -> pa.Table:
    return pa.table(ROWS)


def _classify(runner: CliRunner, path: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["classify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def _check_columns(data: dict[str, Any], prefix: str = "") -> None:
    cols = data["columns"]
    assert cols[f"{prefix}email"]["types"] == {"EMAIL": 1.0}
    assert cols[f"{prefix}email"]["level"] == "personal"
    assert cols[f"{prefix}visitor_id"]["level"] == "pseudonymous"
    assert cols[f"{prefix}customer_id"]["types"] == {"USER_ID": 1.0}
    assert cols[f"{prefix}plan"]["level"] == "non_personal"
    assert cols[f"{prefix}note"]["types"]["PHONE"] == 0.75
    assert cols[f"{prefix}diagnosis"]["level"] == "sensitive"


def test_classify_parquet(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "customers.parquet"
    pq.write_table(_table(), path)
    data = _classify(runner, path)
    _check_columns(data)
    assert data["level"] == "sensitive"
    assert data["tables"]["customers.parquet"]["rows"] == 4


def test_classify_csv_and_jsonl(runner: CliRunner, tmp_path: Path) -> None:
    pcsv.write_csv(_table(), tmp_path / "c.csv")
    _check_columns(_classify(runner, tmp_path / "c.csv"))
    with (tmp_path / "c.jsonl").open("w") as fh:
        for row in _table().to_pylist():
            fh.write(json.dumps(row) + "\n")
    _check_columns(_classify(runner, tmp_path / "c.jsonl"))


def test_classify_duckdb_database_and_directory(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.register("src", _table())
    con.execute("CREATE TABLE customers AS SELECT * FROM src")
    con.execute("CREATE TABLE metrics AS SELECT range AS n FROM range(10)")
    con.close()
    data = _classify(runner, db)
    _check_columns(data, prefix="warehouse.duckdb:customers.")
    assert data["tables"]["warehouse.duckdb:metrics"]["level"] == "non_personal"
    pq.write_table(_table(), tmp_path / "more.parquet")
    assert set(_classify(runner, tmp_path)["tables"]) == {
        "more.parquet", "warehouse.duckdb:customers", "warehouse.duckdb:metrics"
    }  # fmt: skip


def test_classify_samples_big_inputs(runner: CliRunner, tmp_path: Path) -> None:
    n = 5000
    table = pa.table({"email": [f"user{i}@example.com" for i in range(n)], "n": list(range(n))})
    pq.write_table(table, tmp_path / "big.parquet")
    result = runner.invoke(app, ["classify", str(tmp_path / "big.parquet"), "--json", "--sample-rows", "500"])
    data = json.loads(result.stdout)
    info = data["tables"]["big.parquet"]
    assert (info["rows"], info["sampled_rows"], info["sampled"]) == (n, 500, True)
    assert data["columns"]["email"]["types"] == {"EMAIL": 1.0}


def test_classify_table_output_and_errors(runner: CliRunner, tmp_path: Path) -> None:
    pq.write_table(_table(), tmp_path / "t.parquet")
    result = runner.invoke(app, ["classify", str(tmp_path / "t.parquet")])
    assert result.exit_code == 0
    assert "email" in result.stdout
    assert "personal" in result.stdout
    missing = runner.invoke(app, ["classify", str(tmp_path / "nope.parquet")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output
    (tmp_path / "x.txt").write_text("hello")
    assert runner.invoke(app, ["classify", str(tmp_path / "x.txt")]).exit_code == 1


def test_scan_text_writes_one_result_per_record(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "chats.jsonl"
    records = [
        {"id": "a1", "text": "Grüße 👋 an zoë@example.de, Tel. +49 30 12345678", "lang": "de"},
        {"id": "a2", "text": "nothing personal here"},
        {"id": 3, "body": "no text field"},
    ]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "spans.jsonl"
    result = runner.invoke(app, ["scan-text", str(src), "--field", "text", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in lines] == ["a1", "a2", 3]
    text = records[0]["text"]
    got = {(s["type"], text[s["start"] : s["end"]]) for s in lines[0]["spans"]}
    assert got == {("EMAIL", "zoë@example.de"), ("PHONE", "+49 30 12345678")}
    assert set(lines[0]["spans"][0]) >= {"start", "end", "type", "score"}
    assert lines[1]["spans"] == []
    assert lines[2]["spans"] == []
    assert "no string field" in result.stderr


def test_scan_text_to_stdout_and_bad_json(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "text": "mail anna@example.com"}\n', encoding="utf-8")
    result = runner.invoke(app, ["scan-text", str(src)])
    assert json.loads(result.stdout)["spans"][0]["type"] == "EMAIL"
    src.write_text('{"id": 1, "text": \n', encoding="utf-8")
    bad = runner.invoke(app, ["scan-text", str(src)])
    assert bad.exit_code == 1
    assert "line 1" in bad.output


POLICY_SOURCES = """
sources:
  - {id: support-chats, kind: chat_transcripts, categories: [user.content], purposes: [train_support_chatbot],
     retention_days: 730, personal: true, location: data/customers.parquet}
  - {id: status-page-metrics, kind: metrics, categories: [system.operations], purposes: [security],
     retention_days: 90, personal: false}
"""


@pytest.fixture
def policy_with_locations(tmp_path: Path, example_policy_path: Path) -> Path:
    text = example_policy_path.read_text(encoding="utf-8")
    head, _, _ = text.partition("\nsources:")
    policy = tmp_path / "policy.yaml"
    policy.write_text(head + "\n" + POLICY_SOURCES, encoding="utf-8")
    (tmp_path / "data").mkdir()
    pq.write_table(_table(), tmp_path / "data" / "customers.parquet")
    pq.write_table(pa.table({"email": ["ops@example.com", "sre@example.com"]}), tmp_path / "metrics.parquet")
    return policy


def test_datamap_json_markdown_html(runner: CliRunner, tmp_path: Path, policy_with_locations: Path) -> None:
    base = ["--policy", str(policy_with_locations), "datamap"]
    metrics = ["--data", f"status-page-metrics={tmp_path / 'metrics.parquet'}"]
    result = runner.invoke(app, [*base, *metrics])
    assert result.exit_code == 0, result.output
    dm = json.loads(result.stdout)
    chats, status = dm["sources"]
    assert chats["classification"]["level"] == "sensitive"
    assert "EMAIL" in chats["classification"]["types"]
    assert chats["purposes"][0]["ai"] is True
    assert chats["purposes"][0]["basis"]["EU"] == "consent"
    assert any("user.contact.email" in n for n in chats["findings"])
    assert any("Art. 9" in n for n in chats["findings"])
    assert any("declared personal: false" in n for n in status["findings"])
    assert dm["ai_purposes"]["train_support_chatbot"] == ["support-chats"]
    md = runner.invoke(app, [*base, *metrics, "--format", "markdown"]).stdout
    assert "| support-chats | chat_transcripts | sensitive |" in md
    out = tmp_path / "map.html"
    assert runner.invoke(app, [*base, "--format", "html", "--out", str(out)]).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "support-chats" in html
    assert "not classified" in html
    bad = runner.invoke(app, [*base, "--data", "nope=x.parquet"])
    assert bad.exit_code == 1
    assert "not a source" in bad.output


def test_redact_jsonl_field(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "Mail anna@example.com or call +49 30 12345678"}) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["redact", str(src), "--field", "text", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["text"] == "Mail [EMAIL] or call [PHONE]"


@pytest.mark.parametrize("engine", ["arrow", "polars", "pandas", "duckdb"])
def test_redact_parquet_with_pseudonyms(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: str
) -> None:
    monkeypatch.setenv("TEST_PSEUDO_KEY", "a-test-key-of-32-bytes-0123456789")
    pq.write_table(_table(), tmp_path / "in.parquet")
    out = tmp_path / f"out-{engine}.parquet"
    args = ["redact", str(tmp_path / "in.parquet"), "--out", str(out), "--mode", "pseudonym",
            "--key-env", "TEST_PSEUDO_KEY", "--engine", engine, "--columns", "email=EMAIL,note"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert all(r["email"].startswith("EMAIL_") and len(r["email"]) == 18 for r in rows)
    assert rows[0]["note"].startswith("Call me on PHONE_")
    assert rows[0]["plan"] == "pro"  # untouched


def test_redact_picks_personal_columns_itself(runner: CliRunner, tmp_path: Path) -> None:
    pcsv.write_csv(_table(), tmp_path / "in.csv")
    out = tmp_path / "out.csv"
    assert runner.invoke(app, ["redact", str(tmp_path / "in.csv"), "--out", str(out)]).exit_code == 0
    rows = pcsv.read_csv(out).to_pylist()
    assert {r["email"] for r in rows} == {"[EMAIL]"}
    assert {r["visitor_id"] for r in rows} == {"[COOKIE_ID]"}
    assert rows[0]["plan"] == "pro"


def test_redact_pseudonym_needs_a_key(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONSENTGATE_PSEUDONYM_KEY", raising=False)
    pq.write_table(_table(), tmp_path / "in.parquet")
    args = [
        "redact",
        str(tmp_path / "in.parquet"),
        "--out",
        str(tmp_path / "o.parquet"),
        "--mode",
        "pseudonym",
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert "CONSENTGATE_PSEUDONYM_KEY" in result.output


@pytest.mark.parametrize("name", ["classify", "scan-text", "datamap", "redact"])
def test_commands_have_help_with_examples(name: str) -> None:
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    assert command.help
    assert "Example" in command.help
    assert "consentgate" in command.help
    for param in command.params:
        if param.name != "help":
            assert "e.g." in (param.help or ""), f"{name}: {param.name}"
