"""The erasure key and the pseudonyms it makes, without the database (``erasure.py`` has the SQL).

Apart so that the CLI's read path (``store/sqlite_reads.py``) can test identifiers against the
suppression list without importing SQLAlchemy; ``erasure.py`` explains the scheme.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

KEY_PURPOSE = "erasure"
PREFIX = "erased:"


class ErasureKey:
    """``identifier → HMAC-SHA256(key, identifier)``; the key never leaves the process."""

    __slots__ = ("_key", "key_id")

    def __init__(self, key: bytes) -> None:
        self._key = key
        self.key_id = key_id(key)

    def digest(self, identifier: str) -> bytes:
        return hmac.digest(self._key, identifier.encode("utf-8"), "sha256")

    def hash(self, identifier: str) -> str:
        return self.digest(identifier).hex()

    def pseudonym(self, identifier: str) -> str:
        """What the ledger holds instead of an erased identifier."""
        return PREFIX + self.hash(identifier)

    def __repr__(self) -> str:  # never the key
        return f"ErasureKey(key_id={self.key_id!r})"


def key_id(key: bytes) -> str:
    """A short public name for a key, so a list and a key can be checked to belong together."""
    return hashlib.sha256(b"consentgate-suppression-key:" + key).hexdigest()[:16]


def is_pseudonym(identifier: str) -> bool:
    return identifier.startswith(PREFIX)


def by_hash(key: ErasureKey, identifiers: Iterable[str]) -> dict[str, list[str]]:
    """Each identifier's keyed hash → the identifiers with it (what a suppression list lookup asks)."""
    out: dict[str, list[str]] = {}
    for i in identifiers:
        out.setdefault(key.hash(i), []).append(i)
    return out
