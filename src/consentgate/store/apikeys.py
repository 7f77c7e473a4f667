"""The ``api_keys`` table: rows of key hashes and scopes. What a key is and how it is made is
``auth/apikeys.py``'s; this module only stores and finds them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update

from consentgate.ledger import schema as t
from consentgate.store.engine import writer


def add_key(engine: Engine, *, key_id: str, key_hash: str, scope: str, label: str | None) -> None:
    with writer(engine).begin() as conn:
        conn.execute(
            insert(t.api_keys).values(
                key_id=key_id,
                key_hash=key_hash,
                scope=scope,
                label=label,
                created_at=datetime.now(UTC).isoformat(),
            )
        )


def active_scope(engine: Engine, key_hash: str) -> str | None:
    """The scope of the key with this hash, or None when there is none or it was revoked."""
    with engine.connect() as conn:
        row = conn.execute(
            select(t.api_keys.c.scope, t.api_keys.c.revoked_at).where(t.api_keys.c.key_hash == key_hash)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return str(row.scope)


def active_scopes(engine: Engine, key_hashes: list[str]) -> dict[str, str]:
    """Hash → scope of the unrevoked keys among ``key_hashes`` (the others are unknown or revoked)."""
    c = t.api_keys.c
    out: dict[str, str] = {}
    with engine.connect() as conn:
        for start in range(0, len(key_hashes), 500):  # well under any database's bound-parameter limit
            chunk = key_hashes[start : start + 500]
            rows = conn.execute(
                select(c.key_hash, c.scope).where(c.key_hash.in_(chunk), c.revoked_at.is_(None))
            )
            out.update((str(h), str(s)) for h, s in rows)
    return out


def active_key(engine: Engine, key_hash: str) -> tuple[str, str] | None:
    """``(key_id, scope)`` of the unrevoked key with this hash, or None."""
    c = t.api_keys.c
    with engine.connect() as conn:
        row = conn.execute(
            select(c.key_id, c.scope).where(c.key_hash == key_hash, c.revoked_at.is_(None))
        ).first()
    return None if row is None else (str(row.key_id), str(row.scope))


def scope_by_id(engine: Engine, key_id: str) -> str | None:
    """The scope of the unrevoked key with this id, or None."""
    c = t.api_keys.c
    with engine.connect() as conn:
        row = conn.execute(select(c.scope).where(c.key_id == key_id, c.revoked_at.is_(None))).first()
    return None if row is None else str(row.scope)


def revoke(engine: Engine, key_id: str) -> bool:
    """Mark the key revoked; False when there is no such active key."""
    with writer(engine).begin() as conn:
        res = conn.execute(
            update(t.api_keys)
            .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC).isoformat())
        )
    return bool(res.rowcount)


def all_keys(engine: Engine) -> list[dict[str, str | None]]:
    """Every key's id, scope, label and dates (never a hash), oldest first."""
    c = t.api_keys.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.key_id, c.scope, c.label, c.created_at, c.revoked_at).order_by(c.created_at)
        )
        return [dict(r._mapping) for r in rows]
