"""The sign-out table on SQLite and PostgreSQL: written once, read by anyone, swept after expiry."""

from __future__ import annotations

from consentgate.ledger.store import Ledger
from consentgate.store.signouts import sign_out, signed_out


def test_a_sign_out_is_kept_until_the_session_would_have_expired(ledger: Ledger) -> None:
    engine = ledger.engine
    assert not signed_out(engine, "s-1")
    sign_out(engine, "s-1", expires_at=2_000, now=1_000)
    sign_out(engine, "s-1", expires_at=2_000, now=1_000)  # twice: still one ended session
    assert signed_out(engine, "s-1")
    assert not signed_out(engine, "s-2")
    sign_out(engine, "s-2", expires_at=3_000, now=2_000)  # s-1 has expired by now: swept
    assert not signed_out(engine, "s-1")
    assert signed_out(engine, "s-2")
