"""The ``console_signouts`` table: console sessions signed out, read by every server process.

A console session is a signed cookie (server/sessions.py); without this table a sign-out could only be
remembered by the process that answered it, and another process on the same database would go on
accepting a copy of the cookie until it expired.
"""

from __future__ import annotations

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError

from consentgate.ledger import schema as t
from consentgate.store.engine import writer
from consentgate.store.errors import storage


def sign_out(engine: Engine, session_id: str, expires_at: int, now: int) -> None:
    """Record that ``session_id`` ended (idempotent); sessions past their expiry are swept on the way."""
    table = t.console_signouts
    try:
        with storage("record a console sign-out", integrity=False), writer(engine).begin() as conn:
            conn.execute(delete(table).where(table.c.expires_at <= now))
            conn.execute(table.insert().values(session_id=session_id, expires_at=expires_at))
    except IntegrityError:
        return  # signed out twice: it is ended either way


def signed_out(engine: Engine, session_id: str) -> bool:
    """Whether ``session_id`` was signed out, by any process."""
    table = t.console_signouts
    with storage("read the console sign-outs"), engine.connect() as conn:
        found = conn.execute(select(table.c.session_id).where(table.c.session_id == session_id)).first()
    return found is not None
