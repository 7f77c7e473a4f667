"""``consentgate decide`` on SQLite reads with ``sqlite3`` alone (store/sqlite_reads.py): the same
reads, hence the same decisions, as the service's stores — links, erasures and all."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from consentgate.decide import Query
from consentgate.deciding import decide_all
from consentgate.ledger.db import downgrade
from consentgate.ledger.erasure import pseudonymise
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.service import ConsentService
from consentgate.store.engine import writer
from consentgate.store.secrets import erasure_key
from consentgate.store.sqlite_reads import SqliteReads, sqlite_file
from consentgate.store.suppressions import add_suppressions

from .conftest import Invoke, grant_args

AI = "train_support_chatbot"


def _ev(subject: str, action: str, when: str, purpose: str = AI, **over: Any) -> tuple[str, dict[str, Any]]:
    raw: dict[str, Any] = {"subject": subject, "action": action, "occurred_at": when, "region": "FR"}
    if action not in ("gpc", "erase"):
        raw["purposes"] = [purpose]
    if action == "grant":
        raw.update(notice_id="ai-training", notice_version=2, locale="fr")
    raw.update(over)
    return ("", raw)


@pytest.fixture
def history(tmp_path: Path, example_policy: Policy) -> str:
    """A SQLite ledger with linked identifiers, an erased person (who came back under a raw id),
    choices at several times, a GPC signal and people it never heard of."""
    url = str(tmp_path / "ledger.db")
    with Ledger.open(url) as ledger:
        service = ConsentService(example_policy, ledger)
        service.record(
            [
                _ev("cookie-1", "grant", "2026-07-01T10:00:00+02:00"),
                _ev("acct-1", "withdraw", "2026-09-01T10:00:00Z"),
                _ev("device-2", "grant", "2026-06-01T00:00:00Z"),
                _ev("acct-2", "gpc", "2026-06-02T00:00:00Z", signals={"gpc": True}, region="US-CA"),
                _ev("erased-1", "grant", "2026-05-01T00:00:00Z"),
                _ev("erased-1", "erase", "2026-06-01T00:00:00Z"),
                _ev("plain", "grant", "2026-05-01T00:00:00Z"),
                _ev("plain", "object", "2026-10-01T00:00:00Z", purpose="product_analytics"),
            ],
            strict=False,
        )
        service.link("cookie-1", "device-1", "cookie_id")
        service.link("device-1", "acct-1", "device_id")
        service.link("device-2", "acct-2", "device_id")
        service.link("erased-cookie", "erased-1", "cookie_id")
        key = erasure_key(ledger.engine)
        gone = ("erased-1", "erased-cookie")
        add_suppressions(
            ledger.engine, [key.hash(i) for i in gone], request_id=None, at=datetime.now(UTC), signer=None
        )
        with writer(ledger.engine).begin() as conn:  # the erasure's last step (requests/desk.py)
            pseudonymise(conn, key, gone)
        # Recorded under the raw id after the erasure: the erase event must still decide.
        service.record([_ev("erased-1", "grant", "2026-08-01T00:00:00Z")], strict=False)
    return url


SUBJECTS = ("cookie-1", "device-1", "acct-1", "device-2", "acct-2", "erased-1", "erased-cookie", "plain",
            "stranger")  # fmt: skip
TIMES = ("2026-05-15T00:00:00Z", "2026-07-15T00:00:00Z", "2026-11-01T00:00:00Z")


def test_the_sqlite_reads_decide_as_the_service_does(history: str, example_policy: Policy) -> None:
    queries = [
        Query(s, p, datetime.fromisoformat(t), r)
        for s in SUBJECTS
        for p in [purpose.id for purpose in example_policy.purposes]
        for t in TIMES
        for r in (None, "DE", "US-CA")
    ]
    with Ledger.open(history) as ledger:
        expected = ConsentService(example_policy, ledger).decide_many_holding(queries)
    reads = SqliteReads.open(history)
    assert reads is not None
    try:
        got = decide_all(example_policy, reads, reads.erasure_key(), queries, holding=True)
    finally:
        reads.close()
    assert got == expected
    # The history is one that tells the reads apart: links, the erasure and time all decide something.
    allowed = {
        (q.subject, q.purpose, q.at.isoformat(), q.region): d.allowed
        for q, (d, _) in zip(queries, got, strict=True)
    }
    late = "2026-11-01T00:00:00+00:00"
    assert allowed[("cookie-1", AI, "2026-07-15T00:00:00+00:00", None)]
    assert not allowed[("cookie-1", AI, late, None)]  # withdrawn under a linked id
    assert not allowed[("erased-1", AI, late, None)]  # granted again under the raw id, still erased
    assert not allowed[("erased-cookie", AI, late, None)]
    assert allowed[("plain", AI, late, None)]


def test_the_reads_match_the_stores_one_by_one(history: str, example_policy: Policy) -> None:
    with Ledger.open(history) as ledger:
        service = ConsentService(example_policy, ledger)
        people = service.people(SUBJECTS)
        events = ledger.events_of(set().union(*people.values()))
        key = erasure_key(ledger.engine)
    reads = SqliteReads.open(history)
    assert reads is not None
    try:
        found = reads.erasure_key()
        assert found is not None
        assert found.key_id == key.key_id
        assert reads.suppressed(found, SUBJECTS) == {"erased-1", "erased-cookie"}
        assert reads.people(SUBJECTS)["acct-1"] == {"cookie-1", "device-1", "acct-1"}
        assert reads.events_of(set().union(*people.values())) == events
    finally:
        reads.close()


def test_a_ledger_it_cannot_be_sure_of_goes_the_full_way(tmp_path: Path, history: str) -> None:
    assert SqliteReads.open(str(tmp_path / "missing.db")) is None
    not_a_ledger = tmp_path / "other.db"
    not_a_ledger.write_bytes(b"")
    assert SqliteReads.open(str(not_a_ledger)) is None
    with Ledger.open(history) as ledger:
        downgrade(ledger.engine, "0006")
    assert SqliteReads.open(history) is None  # a schema to migrate
    assert SqliteReads.open(f"sqlite:///{history}") is None


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("consentgate.db", Path("consentgate.db")),
        ("/srv/cg/ledger.db", Path("/srv/cg/ledger.db")),
        ("sqlite:///rel/ledger.db", Path("rel/ledger.db")),
        ("sqlite:////srv/cg/ledger.db", Path("/srv/cg/ledger.db")),
        ("sqlite:///ledger.db?mode=ro", None),
        ("sqlite:///led%20ger.db", None),
        ("sqlite://", None),
        (":memory:", None),
        ("postgresql://cg@db.example.com/consent", None),
        ("sqlite+pysqlite:///ledger.db", None),
    ],
)
def test_only_plain_sqlite_files_are_read_directly(url: str, path: Path | None) -> None:
    assert sqlite_file(url) == path


def test_decide_in_a_process_of_its_own_never_imports_sqlalchemy(
    cg: Invoke, db_file: Path, policy_file: Path
) -> None:
    assert cg(*grant_args("user-7")).exit_code == 0
    code = (
        "import sys\nfrom consentgate.cli import main\ntry:\n    main()\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code\nprint(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'sqlalchemy', 'alembic', 'rich', 'cryptography'}), file=sys.stderr)"
    )
    argv = [sys.executable, "-c", code, "--db", str(db_file), "--policy", str(policy_file), "decide",
            "--subject", "user-7", "--purpose", AI, "--json"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["allowed"] is True
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_decide_on_an_old_schema_migrates_and_answers(cg: Invoke, db_file: Path) -> None:
    assert cg(*grant_args("user-8")).exit_code == 0
    with Ledger.open(str(db_file)) as ledger:
        downgrade(ledger.engine, "0006")
    result = cg("decide", "--subject", "user-8", "--purpose", AI, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["allowed"] is True
    reads = SqliteReads.open(str(db_file))  # the full path brought the schema to the head
    assert reads is not None
    reads.close()
