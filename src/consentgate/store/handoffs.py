"""The ``share_redemptions`` table: which cross-domain hand-offs have been redeemed (one use each)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert
from sqlalchemy.exc import IntegrityError

from consentgate.ledger import schema as t
from consentgate.store.engine import writer
from consentgate.store.errors import storage


def claim(engine: Engine, token_id: str, expires_at: datetime) -> bool:
    """Mark the hand-off used; False when it already was (a replay). The primary key decides, so two
    concurrent redemptions of one link cannot both win. Expired rows are swept on the way."""
    now = datetime.now(UTC)
    try:
        with storage("record a redeemed hand-off", integrity=False), writer(engine).begin() as conn:
            conn.execute(
                delete(t.share_redemptions).where(t.share_redemptions.c.expires_at < now.isoformat())
            )
            conn.execute(
                insert(t.share_redemptions).values(
                    token_id=token_id, redeemed_at=now.isoformat(), expires_at=expires_at.isoformat()
                )
            )
    except IntegrityError:
        return False
    return True
