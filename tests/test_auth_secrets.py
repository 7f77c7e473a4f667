"""The token secret: from the setting, else generated once into the database and shared by every
process on it — on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine, func, select

from consentgate.auth.secrets import PURPOSE, load_keyring
from consentgate.auth.tokens import key_id
from consentgate.errors import BadInput, TransientStorageError
from consentgate.ledger import schema as t
from consentgate.ledger.store import Ledger
from consentgate.store.secrets import ensure_secret, stored_secrets

CONFIGURED = "c" * 16 + "-fictional-configured-secret"


def test_a_configured_secret_wins_and_is_never_stored(ledger: Ledger) -> None:
    ring = load_keyring(ledger.engine, SecretStr(CONFIGURED))
    assert ring.verify(ring.issue("u")).subject == "u"
    assert stored_secrets(ledger.engine, PURPOSE) == []
    # The CLI path: with a configured secret no database is needed at all.
    assert load_keyring(None, CONFIGURED).signing_kid == ring.signing_kid


def test_without_one_a_secret_is_generated_once_and_shared(ledger_url: str) -> None:
    with Ledger.open(ledger_url) as one, Ledger.open(ledger_url) as two:
        first = load_keyring(one.engine, None)
        second = load_keyring(two.engine, SecretStr("  "))  # blank counts as unset
        assert first.signing_kid == second.signing_kid
        assert second.verify(first.issue("user-1@example.com")).subject == "user-1@example.com"
        assert second.is_visitor_id(first.new_visitor_id())
        (secret,) = stored_secrets(one.engine, PURPOSE)
        assert len(secret) >= 32


def test_racing_processes_agree_on_one_secret(ledger: Ledger) -> None:
    """Two generators at once: the primary key lets exactly one insert win; both then read it."""
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def generate() -> None:
        try:
            barrier.wait()
            ensure_secret(ledger.engine, PURPOSE, key_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=generate) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    with ledger.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.service_secrets)).scalar_one() == 1
    assert len({load_keyring(ledger.engine, None).signing_kid for _ in range(3)}) == 1


def test_a_short_configured_secret_says_how_to_make_one(ledger: Ledger) -> None:
    with pytest.raises(BadInput, match="at least 32 characters"):
        load_keyring(ledger.engine, "too-short")


def test_no_engine_and_no_secret_is_a_usage_error() -> None:
    with pytest.raises(RuntimeError):
        load_keyring(None, None)


def test_a_database_failure_while_generating_is_a_storage_error(tmp_path: Path) -> None:
    """Token secrets share the get-or-create of every service secret, which wraps database errors:
    a database without the ledger's tables is a TransientStorageError, not a raw driver error."""
    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(TransientStorageError, match="subject_tokens key") as caught:
            load_keyring(engine, None)
        assert "no such table" in caught.value.message
        assert "SELECT" not in caught.value.message  # the driver's reason, never the statement
    finally:
        engine.dispose()
