"""The ``suppressions`` table: keyed hashes of erased identifiers, which every gate checks.

What the list means and how it is matched is ``pipeline/suppression.py``'s; adding entries is a
chained ledger record (``ledger/erasure.py``), done here in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, select

from consentgate.ledger import schema as t
from consentgate.ledger.erasure import suppress
from consentgate.ledger.signing import Signer
from consentgate.store.engine import writer


def suppressed_hashes(engine: Engine) -> list[bytes]:
    """Every hash on the list (one per identifier of each erased person, so the list is small)."""
    with engine.connect() as conn:
        return [bytes.fromhex(h) for h in conn.execute(select(t.suppressions.c.id_hash)).scalars()]


def add_suppressions(
    engine: Engine, hashes: Iterable[str], *, request_id: str | None, at: datetime, signer: Signer | None
) -> int:
    """Put these hashes on the list, sealed by a ``suppress`` record; returns how many were new."""
    with writer(engine).begin() as conn:
        return suppress(conn, hashes, request_id=request_id, at=at, signer=signer)
