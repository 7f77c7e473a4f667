"""The issue's end-to-end story, through the CLI and the training-run guard, on SQLite and PostgreSQL:

a subject consents; their chats feed a filtered training run; they file ``access`` (the run appears),
then ``erase``: their rows are gone from the registered datasets, the next filter drops a re-ingested
copy, the training-run guard stops on it, ``ledger verify`` passes, and the access report lists the
erasure and the affected model.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from consentgate.errors import ConsentViolation, StaleDataWarning
from consentgate.pipeline import FilterOptions
from consentgate.pipeline.training import TrainingRun

from .conftest import ok


def train(site: Path, ledger_url: str, dataset: Path, model: str) -> TrainingRun:
    table = pq.read_table(dataset)
    with TrainingRun(
        "train_chat", model=model, dataset=dataset, policy=site / "policy.yaml", ledger=ledger_url,
        options=FilterOptions("user_id"),
    ) as run:  # fmt: skip
        for batch in table.to_batches(max_chunksize=2):
            run.check(pa.Table.from_batches([batch]))
    return run


def test_consent_train_access_erase_and_nothing_comes_back(cg, site: Path, ledger_url: str) -> None:  # type: ignore[no-untyped-def]
    # 1. ann consents to training; bob does too; cat never answered (consent basis: not allowed).
    for who in ("ann", "bob"):
        ok(cg("record", "--subject", who, "--action", "grant", "--purpose", "train_chat", "--region", "DE",
              "--notice-version", "1"))  # fmt: skip
    ok(cg("link", "--alias", "c-ann", "--subject", "ann", "--kind", "cookie_id"))

    # 2. Their chats feed a filtered training run.
    filtered = site / "train.parquet"
    out = ok(cg("filter", "--purpose", "train_chat", "--subject-column", "user_id",
                "--input", str(site / "data" / "chats"), "--output", str(filtered), "--json"))  # fmt: skip
    assert json.loads(out.stdout)["counts"]["kept"] == 4  # ann twice, bob twice; cat dropped
    run = train(site, ledger_url, filtered, "support-bot-v1")
    assert run.status == "completed"

    # 3. Access: the run appears.
    req = ok(cg("requests", "file", "--kind", "access", "--subject", "ann")).stdout.strip()
    assert req.startswith("req-")
    report_file = site / "ann.json"
    ok(cg("requests", "complete", req, "--out", str(report_file)))
    report = json.loads(report_file.read_text())
    assert [r["model"] for r in report["training_runs"]] == ["support-bot-v1"]
    assert report["training_runs"][0]["run_id"] == run.run_id
    assert {s["id"]: s["records_held"] for s in report["sources"]} == {
        "chats": 2, "feedback": 2, "tickets": 1, "metrics": None,
    }  # fmt: skip
    shown = json.loads(ok(cg("requests", "show", req, "--json")).stdout)
    assert shown["status"] == "completed"
    assert shown["outcome"]["training_runs"] == [run.run_id]

    # 4. Erase.
    erase = ok(cg("requests", "file", "--kind", "erase", "--subject", "ann")).stdout.strip()
    done = json.loads(ok(cg("requests", "complete", erase, "--json")).stdout)
    assert done["status"] == "completed"
    affected = [(r["kind"], r["model"]) for r in done["outcome"]["affected_runs"]]
    assert sorted(affected, key=str) == sorted([("training", "support-bot-v1"), ("filter", None)], key=str)
    # the filtered training file still holds ann's records: the erasure says so
    [kept] = [r for r in done["outcome"]["affected_runs"] if r["kind"] == "filter"]
    assert "still holds the person's records" in kept["action_needed"]
    # Rows gone from every registered dataset (feedback is anonymised in place).
    assert "ann" not in pq.read_table(site / "data" / "chats").column("user_id").to_pylist()
    con = duckdb.connect(str(site / "data" / "feedback.duckdb"), read_only=True)
    assert con.execute(
        "SELECT count(*) FROM feedback WHERE user_id = 'ann' OR cookie_id = 'c-ann'"
    ).fetchone() == (0,)
    con.close()
    db = sqlite3.connect(site / "tickets" / "tickets.db")
    assert db.execute("SELECT count(*) FROM tickets WHERE customer = 'ann'").fetchone() == (0,)
    db.close()

    # 5. A re-ingested copy (the old training file) is dropped by the next filter…
    again = ok(cg("filter", "--purpose", "train_chat", "--subject-column", "user_id",
                  "--input", str(filtered), "--output", str(site / "again.parquet"), "--json"))  # fmt: skip
    counts = json.loads(again.stdout)["counts"]
    assert counts["kept"] == 2
    assert counts["dropped"]["suppressed"] == 2
    assert set(pq.read_table(site / "again.parquet").column("user_id").to_pylist()) == {"bob"}
    # …and the training-run guard stops on it.
    # (the file is traced to its filter run, whose snapshot predates the erasure: a warning first)
    with pytest.raises(ConsentViolation) as stopped, pytest.warns(StaleDataWarning, match="behind"):
        train(site, ledger_url, filtered, "support-bot-v2")
    assert stopped.value.reason == "suppressed"

    # 6. The ledger still verifies.
    assert "ledger intact" in ok(cg("ledger", "verify")).output

    # 7. The access report lists the erasure and the affected model.
    after = json.loads(ok(cg("requests", "report", "--subject", "ann")).stdout)
    assert after["erased"] is not None
    assert [(r["kind"], r["status"]) for r in after["requests"]] == [
        ("access", "completed"),
        ("erase", "completed"),
    ]
    models = {r["model"]: r for r in after["training_runs"]}
    assert models["support-bot-v1"]["flagged_by_erasure"] is True
    assert "has not forgotten" in models["support-bot-v1"]["model_status"]
    html = ok(cg("requests", "report", "--subject", "ann", "--html")).stdout
    assert "Your data was erased on" in html
    assert "support-bot-v1" in html
