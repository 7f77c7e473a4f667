"""An acknowledged event is never lost: SIGKILL the real server at random moments, many times.

Each round starts a real server process on the same database, lets several writer threads post single
and batch submissions, and kills the server with SIGKILL at a random moment while they do (on
PostgreSQL, twice the database itself is SIGKILLed mid-write and restarted, too). After every round,
and again at the end:

* every acknowledged event (a 201 receipt) is stored, exactly as its receipt said (seq, hash, subject,
  purpose, action);
* every request is all or nothing — whole submissions, whole batches — in consecutive seqs, even when
  its answer never arrived; nothing is stored that was never sent;
* the chain is gapless and linked, the head row agrees with it, ``Ledger.verify()`` passes, and so does
  ``consentgate ledger verify`` as a process.

Requests in flight at the kill may or may not be stored; only acknowledged ones must be.

``CG_CRASH_SEED`` replays a run's random choices (the seed is printed and in every failure message);
``CG_CRASH_ROUNDS`` changes the number of rounds (default 20 per database).
"""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from consentgate.auth.apikeys import create_key
from consentgate.ledger.db import make_engine
from consentgate.ledger.store import Ledger
from tests.durability.workload import (
    Book,
    LedgerView,
    Writer,
    check_against_book,
    stop_writers,
)
from tests.support.pg import PgCluster
from tests.support.servers import (
    NO_RATE_LIMITS,
    Launch,
    Server,
    client,
    kill_all,
    run_cli,
    spawn_server,
    start_server,
)

pytestmark = pytest.mark.slow

ROUNDS = int(os.environ.get("CG_CRASH_ROUNDS", "20"))
WRITERS = 4


def _seed() -> int:
    return int(os.environ.get("CG_CRASH_SEED") or random.SystemRandom().randrange(2**32))


@dataclass
class Round:
    n: int
    via: str
    warm: bool  # the server was started while the previous round was still writing
    group_commit: bool
    kill_after: float
    acked: int
    pg_crash: bool
    ready: float  # seconds until the server answered
    check: float  # seconds to check the ledger against the book
    seconds: float

    def __str__(self) -> str:
        start = "warm" if self.warm else "cold"
        pg = " +postgres SIGKILL" if self.pg_crash else ""
        return (
            f"round {self.n:2d}: {self.via:7s} {start} {'group' if self.group_commit else 'plain'} commits, "
            f"ready in {self.ready:.1f}s, SIGKILL "
            f"{self.kill_after:.2f}s after the first ack, {self.acked:4d} events acked, "
            f"checked in {self.check:.2f}s, {self.seconds:.1f}s{pg}"
        )


@dataclass
class Run:
    seed: int
    rounds: list[Round] = field(default_factory=list)

    def report(self) -> str:
        return f"seed {self.seed}\n" + "\n".join(map(str, self.rounds))


def _cli_round(n: int) -> bool:
    """Every fourth server is started with the command people run, the rest with uvicorn directly."""
    return n % 4 == 2


def _settings(n: int) -> dict[str, str]:
    """Every fourth server appends without group commit (each request its own transaction)."""
    return {**NO_RATE_LIMITS, "CONSENTGATE_GROUP_COMMIT": "false" if n % 4 == 1 else "true"}


def crash_rounds(
    db: str,
    policy: Path,
    log_dir: Path,
    *,
    rounds: int,
    seed: int,
    cluster: PgCluster | None = None,
    pg_crashes: frozenset[int] = frozenset(),
) -> tuple[Run, Book, LedgerView]:
    """Run the rounds; raise at the first round after which the ledger disagrees with the book."""
    rng = random.Random(seed)
    run = Run(seed)
    with Ledger.open(db) as ledger:
        _, key = create_key(ledger.engine, "admin")
    book, view = Book(), LedgerView(db)
    server: Server | None = None
    standby: Server | None = None
    writers: list[Writer] = []
    stop = threading.Event()
    try:
        for n in range(rounds):
            began = time.monotonic()
            warm = standby is not None
            via: Launch = "uvicorn"
            if standby is not None:
                server, standby = standby.wait_ready(), None
            else:
                via = "cli" if _cli_round(n) else "uvicorn"
                server = start_server(
                    db, policy, log_dir, name=f"round-{n:02d}", via=via, extra_env=_settings(n)
                )
            ready = time.monotonic() - began
            stop = threading.Event()
            writers = [
                Writer(
                    f"r{n:02d}w{i}",
                    server.base_url,
                    key,
                    book,
                    stop,
                    seed=rng.getrandbits(32),
                    server=server.name,
                )
                for i in range(WRITERS)
            ]
            acked_before = book.ack_count()
            for w in writers:
                w.start()
            # Mostly the next server starts while this one is busy, so the restart is quick and a
            # second process has the database open at the crash; every fourth restart is cold,
            # through the CLI, with nothing else holding the database.
            if n + 1 < rounds and not _cli_round(n + 1) and n not in pg_crashes:
                standby = spawn_server(
                    db, policy, log_dir, name=f"round-{n + 1:02d}", extra_env=_settings(n + 1)
                )
            book.wait_beyond(acked_before, 60, f"the first acknowledged write of round {n}")
            kill_after = rng.uniform(0.1, 0.8)
            time.sleep(kill_after)
            if n in pg_crashes:
                assert cluster is not None
                cluster.crash()
                time.sleep(rng.uniform(0.0, 0.3))
                cluster.restart()
                book.wait_beyond(book.ack_count(), 60, "an acknowledged write after the restart")
                time.sleep(rng.uniform(0.0, 0.3))
            server.kill()
            stop_writers(writers, stop)
            checking = time.monotonic()
            check_against_book(view, book).raise_if_any(f"after round {n}, seed {seed}\n{run.report()}")
            check = time.monotonic() - checking
            run.rounds.append(
                Round(
                    n,
                    via,
                    warm,
                    _settings(n)["CONSENTGATE_GROUP_COMMIT"] == "true",
                    kill_after,
                    book.ack_count() - acked_before,
                    n in pg_crashes,
                    ready,
                    check,
                    time.monotonic() - began,
                )
            )
    finally:
        stop.set()
        kill_all([server, standby])
    return run, book, view


def final_checks(db: str, policy: Path, log_dir: Path, run: Run, book: Book, view: LedgerView) -> None:
    findings = check_against_book(view, book)
    findings.raise_if_any(f"at the end, seed {run.seed}\n{run.report()}")
    lost = [a for a in book.acked.values() if a.event_id not in view.by_id]
    assert not lost, f"{len(lost)} acknowledged events lost"
    assert findings.acked_events >= len(run.rounds), "every round acknowledged at least one event"

    # A restarted server reports the head that is on disk.
    server = start_server(db, policy, log_dir, name="after-the-last-crash", extra_env=NO_RATE_LIMITS)
    try:
        with client(server.base_url) as c:
            assert c.get("/healthz").json()["ledger"]["seq"] == view.head_seq
    finally:
        server.stop()

    with Ledger.open(db, migrate_schema=False) as ledger:
        report = ledger.verify()
        assert report.ok, report.to_json()
        assert report.checked == view.head_seq == ledger.count()
    verified = run_cli(db, policy, "ledger", "verify")
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith(f"ledger intact: {view.head_seq} events")
    print(  # shown with -s / -rA; the numbers docs/benchmarks.md quotes
        f"\n{run.report()}\n{len(run.rounds)} rounds, {findings.acked_events} events acknowledged in "
        f"{findings.acked_requests} requests, 0 lost; {view.head_seq} stored; {findings.unanswered} requests "
        f"unanswered at kills/refusals, {findings.unanswered_stored} of them stored whole, none partially"
    )


def test_sqlite_survives_sigkill_of_the_server(tmp_path: Path, example_policy_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            # The settings the guarantee rests on (a SIGKILL alone would not need FULL; a power cut does).
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        engine.dispose()
    run, book, view = crash_rounds(db, example_policy_path, tmp_path / "logs", rounds=ROUNDS, seed=_seed())
    final_checks(db, example_policy_path, tmp_path / "logs", run, book, view)


@pytest.mark.postgres
def test_postgresql_survives_sigkill_of_the_server_and_of_postgres(
    tmp_path: Path, example_policy_path: Path, crashable_pg: PgCluster
) -> None:
    with psycopg.connect(crashable_pg.url) as conn:
        # initdb ran with --no-sync, but the server flushes its WAL at every commit: durable commits.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            row = conn.execute(f"SHOW {setting}").fetchone()
            assert row is not None
            assert row[0] == "on", f"{setting} must be on for this test to mean anything"
    seed = _seed()
    # Two rounds also SIGKILL PostgreSQL (postmaster and every backend) mid-write and restart it.
    pg_crashes = frozenset(random.Random(seed).sample(range(ROUNDS), min(2, ROUNDS)))
    db = crashable_pg.url
    run, book, view = crash_rounds(
        db,
        example_policy_path,
        tmp_path / "logs",
        rounds=ROUNDS,
        seed=seed,
        cluster=crashable_pg,
        pg_crashes=pg_crashes,
    )
    final_checks(db, example_policy_path, tmp_path / "logs", run, book, view)
