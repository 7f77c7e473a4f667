"""API keys with scopes, stored only as sha256 hashes.

Scopes: ``collect`` may get anonymous visitor ids and submit choices for them (it is public: it sits
in every page with the banner); ``read`` may read decisions, state and evidence; ``admin`` may do
everything. Subject tokens (:mod:`consentgate.tokens`) let a browser act for one person; the full
matrix is in docs/security.md.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, insert, select, update

from consentgate.errors import BadInput
from consentgate.ledger import schema as t


class Scope(StrEnum):
    COLLECT = "collect"
    READ = "read"
    ADMIN = "admin"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(engine: Engine, scope: str, label: str | None = None) -> tuple[str, str]:
    """Create a key; returns ``(key_id, secret key)``. The secret is shown once and never stored."""
    try:
        sc = Scope(scope)
    except ValueError:
        raise BadInput(f"scope {scope!r} is not one of collect, read, admin") from None
    key_id = secrets.token_hex(6)
    key = f"cg_{sc.value}_{key_id}_{secrets.token_urlsafe(24)}"
    with engine.execution_options(ledger_write=True).begin() as conn:
        conn.execute(
            insert(t.api_keys).values(
                key_id=key_id,
                key_hash=_hash(key),
                scope=sc.value,
                label=label,
                created_at=datetime.now(UTC).isoformat(),
            )
        )
    return key_id, key


def authenticate(engine: Engine, key: str) -> Scope | None:
    """The key's scope, or None when it is unknown or revoked."""
    with engine.connect() as conn:
        row = conn.execute(
            select(t.api_keys.c.scope, t.api_keys.c.revoked_at).where(t.api_keys.c.key_hash == _hash(key))
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return Scope(row.scope)


def revoke_key(engine: Engine, key_id: str) -> bool:
    with engine.execution_options(ledger_write=True).begin() as conn:
        res = conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC).isoformat())
        )
    return bool(res.rowcount)


def list_keys(engine: Engine) -> list[dict[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                t.api_keys.c.key_id,
                t.api_keys.c.scope,
                t.api_keys.c.label,
                t.api_keys.c.created_at,
                t.api_keys.c.revoked_at,
            ).order_by(t.api_keys.c.created_at)
        )
        return [dict(r._mapping) for r in rows]
