"""Races between processes that share one ledger database, forced as hard as a test can.

The chain itself is serialised by SQLite's write lock and PostgreSQL's ``ledger_head`` row lock; these
tests pin the parts around it: storing a notice wording nobody stored before (several engines stand in
for several processes, which is the same thing to PostgreSQL), and several processes migrating an
empty database at the same moment, as servers behind a load balancer do on their first start.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

from consentgate.ledger import schema as t
from consentgate.ledger.chain import wording_hash
from consentgate.ledger.db import _alembic_config
from consentgate.ledger.events import Action, ConsentEvent, NewEvent, NoticeText
from consentgate.ledger.store import Ledger
from tests.support.pg import PgCluster

WORDING = "Use my support conversations to train and improve the support chatbot."


def _grant(subject: str) -> NewEvent:
    return NewEvent(
        subject=subject,
        action=Action.GRANT,
        occurred_at=datetime.now(UTC),
        purpose="train_support_chatbot",
        notice_id="ai-training",
        notice_version="1",
        wording_hash=wording_hash(WORDING),
        region="DE",
        locale="en",
    )


def _lock_waiters(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def two_ledgers(pg_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    first, second = Ledger.open(pg_url), Ledger.open(pg_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


@pytest.mark.postgres
def test_two_writers_storing_the_same_new_wording_both_succeed(
    pg_url: str, pg_cluster: PgCluster, two_ledgers: tuple[Ledger, Ledger]
) -> None:
    """Both writers find the wording missing and insert it: the second must not fail on the key.

    A third connection holds the chain head, so both appends are in flight at once; then it lets go.
    """
    text = NoticeText("ai-training", "1", "en", WORDING, wording_hash(WORDING))
    results: dict[str, list[ConsentEvent] | BaseException] = {}

    def append(name: str, ledger: Ledger) -> None:
        try:
            results[name] = ledger.append([_grant(name)], [text])
        except BaseException as exc:  # reported below, in the test's thread
            results[name] = exc

    admin_url = pg_cluster.url
    search_path = pg_url.split("search_path%3D", 1)[1]
    with psycopg.connect(admin_url) as blocker:
        blocker.execute(f"SET search_path TO {search_path}")
        blocker.execute("SELECT seq FROM ledger_head WHERE id = 1 FOR UPDATE")
        threads = [
            threading.Thread(target=append, args=(f"writer-{i}", led)) for i, led in enumerate(two_ledgers)
        ]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 60
        while _lock_waiters(admin_url) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _lock_waiters(admin_url) >= 2, "both appends should be waiting on a lock by now"
        blocker.rollback()
    for th in threads:
        th.join(timeout=60)
    failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    assert not failures, f"a concurrent append failed: {failures}"
    first = two_ledgers[0]
    assert first.verify().ok
    assert first.count() == 2
    with first.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.notice_texts)).scalar_one()
    assert stored == 1


# Each child imports everything once; then, per database, it says "ready" and migrates only when the
# parent says "go", so the migrations start together, not the interpreters.
_MIGRATE_CHILD = """
import sys
from consentgate.ledger.store import Ledger
for url in sys.argv[1:]:
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        Ledger.open(url).close()
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}".replace("\\n", " "), flush=True)
    else:
        print("ok", flush=True)
"""
PROCESSES = 4
TRIALS = 3


def _migrate_at_once(urls: list[str]) -> list[list[str]]:
    """Per database, what each process said after migrating it at the same moment as the others."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_CHILD, *urls],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]

    def say(p: subprocess.Popen[str], line: str) -> None:
        assert p.stdin is not None
        p.stdin.write(line)
        p.stdin.flush()

    def hear(p: subprocess.Popen[str]) -> str:
        assert p.stdout is not None
        line = p.stdout.readline().strip()
        if not line:
            p.wait(timeout=60)
            raise AssertionError(f"a child exited early: {p.stderr.read() if p.stderr else ''}")
        return line

    try:
        results = []
        for _ in urls:
            assert all(hear(p) == "ready" for p in procs)
            for p in procs:
                say(p, "go\n")
            results.append([hear(p) for p in procs])
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
        return results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """``TRIALS`` empty databases of one kind."""
    if request.param == "sqlite":
        yield [str(tmp_path / f"trial-{i}.db") for i in range(TRIALS)]
        return
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    schemas = [f"m_{uuid.uuid4().hex[:12]}" for _ in range(TRIALS)]
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        for s in schemas:
            conn.execute(f"CREATE SCHEMA {s}")
    yield [f"{cluster.url}?options=-csearch_path%3D{s}" for s in schemas]
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        for s in schemas:
            conn.execute(f"DROP SCHEMA {s} CASCADE")


@pytest.mark.slow
def test_processes_migrating_an_empty_database_at_once_all_succeed(empty_databases: list[str]) -> None:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    for url, said in zip(empty_databases, _migrate_at_once(empty_databases), strict=True):
        failed = [line for line in said if line != "ok"]
        assert not failed, f"{len(failed)} of {PROCESSES} processes failed to open {url}: {failed}"
        with Ledger.open(url, migrate_schema=False) as ledger, ledger.engine.connect() as conn:
            assert MigrationContext.configure(conn).get_current_revision() == head
            assert conn.execute(select(t.ledger_head.c.seq)).scalars().all() == [0]  # one head row
        assert ledger.verify().ok
