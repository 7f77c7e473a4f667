"""Erasure: every registered source, the suppression list, the ledger's pseudonyms — and nothing
half-applied when a source fails."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from consentgate.errors import Incomplete
from consentgate.ledger import schema as t
from consentgate.pipeline import FilterOptions, filter_records
from consentgate.pipeline.snapshot import build_snapshot
from consentgate.pipeline.suppression import LedgerSuppression
from consentgate.requests import RequestDesk, Status, access_report

from .conftest import grant


def chats(site: Path) -> list[str]:
    return sorted(pq.read_table(site / "data" / "chats").column("user_id").to_pylist())


def feedback(site: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(site / "data" / "feedback.duckdb"), read_only=True)
    try:
        return con.execute("SELECT user_id, cookie_id, text, stars FROM feedback ORDER BY stars").fetchall()
    finally:
        con.close()


def tickets(site: Path) -> list[str]:
    db = sqlite3.connect(site / "tickets" / "tickets.db")
    try:
        return [r[0] for r in db.execute("SELECT customer FROM tickets ORDER BY id")]
    finally:
        db.close()


def test_erasure_reaches_every_source_and_the_ledger_forgets_the_ids(desk: RequestDesk, site: Path) -> None:
    svc = desk.service
    req = desk.complete(desk.file("erase", "ann", verified_by="operator").request_id)
    assert req.status is Status.COMPLETED
    out = req.outcome
    assert out["sources"] == {
        "chats": {"status": "done", "action": "deleted", "records": 2},
        "feedback": {"status": "done", "action": "anonymised", "records": 2},  # by user_id and by cookie
        "tickets": {"status": "done", "action": "deleted", "records": 1},
    }
    assert chats(site) == ["bob", "bob", "cat"]
    assert feedback(site) == [(None, None, None, 2), ("bob", None, "ok", 3), (None, None, None, 5)]
    assert tickets(site) == ["bob"]
    # Suppressed: both identifiers, as keyed hashes only.
    assert out["suppressed_identifiers"] == 2
    sup = LedgerSuppression(svc.ledger.engine)
    assert sup.matching(["ann", "c-ann", "bob"]) == {"ann", "c-ann"}
    # The ledger: no raw identifier anywhere, and the chain still verifies.
    with svc.ledger.engine.connect() as conn:
        subjects = set(conn.execute(select(t.events.c.subject)).scalars())
        aliases = conn.execute(select(t.aliases.c.alias, t.aliases.c.subject)).all()
        req_subjects = set(conn.execute(select(t.requests.c.subject)).scalars())
        salts = (
            conn.execute(select(t.events.c.subject_salt).where(t.events.c.subject.like("erased:%")))
            .scalars()
            .all()
        )
    assert "ann" not in subjects
    assert "c-ann" not in subjects
    assert "bob" in subjects
    assert all(a.startswith("erased:") and s.startswith("erased:") for a, s in aliases)
    assert all(s.startswith("erased:") for s in req_subjects)
    assert salts
    assert all(s is None for s in salts)
    assert svc.ledger.verify().ok
    assert out["ledger"]["pseudonymised"]["events"] == 3  # two grants and the erase event
    # Decisions: denied for every purpose, asked by the id or the alias, even after a new grant.
    svc.record([grant("ann", when="2026-03-11T00:00:00Z")])
    for who in ("ann", "c-ann"):
        for purpose in ("train_chat", "tune_ranker", "analytics"):
            d = svc.decide(who, purpose)
            assert not d.allowed, (who, purpose)
            assert d.evidence_event == out["erase_event"], (who, purpose)


def test_the_next_filter_drops_a_re_ingested_copy(desk: RequestDesk) -> None:
    svc = desk.service
    desk.complete(desk.file("erase", "ann", verified_by="operator").request_id)
    copy = pa.table({"user_id": ["ann", "bob", "c-ann", "dan"], "text": ["a", "b", "c", "d"]})
    snap = build_snapshot(svc.policy, svc.ledger, "tune_ranker")  # legitimate interest: unknowns pass
    result = filter_records(
        copy, snap, FilterOptions(subject_column="user_id", suppression=LedgerSuppression(svc.ledger.engine))
    )
    assert result.data.column("user_id").to_pylist() == ["bob", "dan"]
    assert result.manifest.counts.suppressed == 2


class Flaky:
    """An adapter that fails ``failures`` times, then erases nothing (the records are elsewhere)."""

    source_id = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    def count(self, identifiers: Collection[str]) -> int:
        return 0

    def erase(self, identifiers: Collection[str]) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise OSError("connection reset by peer")
        return 1


def test_a_failing_source_is_retried_reported_and_finished_by_a_later_run(
    desk: RequestDesk, site: Path
) -> None:
    flaky = Flaky(failures=4)
    assert desk.adapters is not None
    desk.adapters = {**desk.adapters, "flaky": flaky}
    req = desk.file("erase", "ann", verified_by="operator")
    with pytest.raises(Incomplete, match="could not reach flaky after 3 attempt") as caught:
        desk.complete(req.request_id)
    assert caught.value.problems == [("sources.flaky", "OSError: connection reset by peer")]
    assert flaky.calls == 3
    mid = desk.get(req.request_id)
    assert mid.status is Status.IN_PROGRESS
    assert mid.outcome["sources"]["flaky"]["status"] == "failed"
    assert mid.outcome["sources"]["chats"]["status"] == "done"
    # Protected already: erase event and suppression are in; the ledger still knows the identifiers
    # (a retry needs them), so nothing is half-pseudonymised.
    svc = desk.service
    assert not svc.decide("ann", "tune_ranker").allowed
    assert LedgerSuppression(svc.ledger.engine).matching(["ann"]) == {"ann"}
    with svc.ledger.engine.connect() as conn:
        assert conn.execute(select(t.events.c.subject).where(t.events.c.subject == "ann")).first() is not None
    # The retry finishes: one more erase event is not recorded, earlier counts are kept.
    done = desk.complete(req.request_id)
    assert done.status is Status.COMPLETED
    assert done.attempts == 2
    assert done.outcome["sources"]["chats"] == {"status": "done", "action": "deleted", "records": 2}
    assert done.outcome["sources"]["flaky"]["records"] == 1
    erase_events = [e for e in svc.history("ann") if e.action.value == "erase"]
    assert len(erase_events) == 1
    assert svc.ledger.verify().ok


def test_a_parquet_source_is_all_or_nothing(
    desk: RequestDesk, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob is in both files; the second rewrite fails, so neither original may change."""
    before = {p.name: p.read_bytes() for p in (site / "data" / "chats").iterdir()}
    real = pq.ParquetWriter.write_table
    calls = {"n": 0}

    def failing(self: pq.ParquetWriter, table: pa.Table, *a: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("No space left on device")
        real(self, table, *a, **kw)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", failing)
    desk.attempts = 1
    req = desk.file("erase", "bob", verified_by="operator")
    with pytest.raises(Incomplete, match="No space left on device"):
        desk.complete(req.request_id)
    after = {p.name: p.read_bytes() for p in (site / "data" / "chats").iterdir()}
    assert after == before  # no temporary file left, no original changed
    monkeypatch.setattr(pq.ParquetWriter, "write_table", real)
    assert desk.complete(req.request_id).status is Status.COMPLETED
    assert chats(site) == ["ann", "ann", "cat"]
    # The parquet files kept their compression.
    meta = pq.ParquetFile(site / "data" / "chats" / "part-0.parquet").metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_a_request_filed_after_erasure_needs_the_identifier_again(desk: RequestDesk, site: Path) -> None:
    desk.complete(desk.file("erase", "ann", verified_by="operator").request_id)
    # A copy of ann's chats shows up in the source again; she files another erasure.
    pq.write_table(
        pa.table({"user_id": ["ann"], "text": ["again"]}), site / "data" / "chats" / "part-2.parquet"
    )
    req = desk.file("erase", "ann", verified_by="operator")
    assert req.subject.startswith("erased:")  # the raw id is not stored again
    with pytest.raises(Exception, match="give it again"):
        desk.complete(req.request_id)
    with pytest.raises(Exception, match="not the subject"):
        desk.complete(req.request_id, subject="bob")
    done = desk.complete(req.request_id, subject="ann")
    assert done.outcome["sources"]["chats"]["records"] == 1
    assert "ann" not in chats(site)


def test_the_access_report_after_erasure_lists_the_erasure(desk: RequestDesk) -> None:
    req = desk.complete(desk.file("erase", "ann", verified_by="operator").request_id)
    report = access_report(desk, "ann")
    assert report["erased"]["event_id"] == req.outcome["erase_event"]
    assert [r["kind"] for r in report["requests"]] == ["erase"]
    assert report["requests"][0]["outcome"]["sources"]["chats"]["records"] == 2
    assert {e["action"] for e in report["consent_history"]} == {"grant", "erase"}
    assert all(not p["allowed"] for p in report["purposes"])
    assert report["chain"]["intact"]


def test_readers_of_a_ledger_that_never_erased_write_nothing(desk: RequestDesk) -> None:
    """Decisions and gates only read: the erasure key is made by the first erasure, not by them."""
    svc = desk.service
    assert svc.decide("ann", "train_chat").allowed
    assert len(LedgerSuppression(svc.ledger.engine)) == 0
    with svc.ledger.engine.connect() as conn:
        purposes = set(conn.execute(select(t.service_secrets.c.purpose)).scalars())
    assert "erasure" not in purposes
    desk.complete(desk.file("erase", "bob", verified_by="operator").request_id)
    with svc.ledger.engine.connect() as conn:
        assert "erasure" in set(conn.execute(select(t.service_secrets.c.purpose)).scalars())
    assert not svc.decide("bob", "train_chat").allowed  # the service finds the key made since
