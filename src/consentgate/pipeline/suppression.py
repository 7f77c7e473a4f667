"""Erasure suppression: identifiers whose data must never be used again, kept only as keyed hashes.

After an erasure (GDPR Art. 17) the ledger drops the raw identifier (see ``ledger/chain.py``), so a
snapshot no longer lists the person. For a purpose whose default is *allowed* (opt_out,
legitimate_interest), an unlisted subject passes the filter — exactly the person who asked to be
forgotten. The suppression list closes that gap without keeping the identifier: it holds
``HMAC-SHA256(key, identifier)``, which can be matched against the identifiers in a dataset but not
reversed, and without the key not even guessed from a list of likely emails.

Every engine checks it the same way: the engine lists the distinct subject ids of its input, this
module hashes them, and the matches become ``suppressed`` verdicts in the filter plan.

Erasure requests (:mod:`consentgate.requests`) keep the list in the ledger database
(:class:`LedgerSuppression`); every gate that opens the ledger enforces it without being asked. A list
can also live in a JSON file (``consentgate-suppression/1``, :class:`Suppression`) for filtering
where the ledger cannot be reached; :func:`combine` enforces several at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from consentgate.errors import BadInput, TerminalStorageError, shown

if TYPE_CHECKING:
    from consentgate.ledger.erasure import ErasureKey
    from consentgate.store.engine import Engine

SUPPRESSION_FORMAT = "consentgate-suppression/1"


class SuppressionList(Protocol):
    """What the filter needs from a suppression store, wherever it is kept."""

    def matching(self, identifiers: Iterable[str]) -> set[str]:
        """The identifiers among ``identifiers`` that are suppressed."""
        ...

    def __len__(self) -> int: ...

    @property
    def digest(self) -> str:
        """Identifies the list's content, for manifests (sha256 over the sorted hashes)."""
        ...


class Suppression:
    """Keyed hashes (HMAC-SHA256) of suppressed identifiers; the key never leaves the process."""

    __slots__ = ("_hashes", "_key", "key_id")

    def __init__(self, key: bytes, hashes: Iterable[bytes] = ()) -> None:
        if len(key) < 16:
            raise BadInput("a suppression key needs at least 16 bytes (e.g. `openssl rand -hex 32`)")
        self._key = key
        self.key_id = key_id(key)
        self._hashes = set(hashes)

    def hash(self, identifier: str) -> bytes:
        return hmac.digest(self._key, identifier.encode("utf-8"), "sha256")

    def add(self, *identifiers: str) -> None:
        self._hashes.update(self.hash(i) for i in identifiers)

    def __contains__(self, identifier: object) -> bool:
        return isinstance(identifier, str) and self.hash(identifier) in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def matching(self, identifiers: Iterable[str]) -> set[str]:
        if not self._hashes:
            return set()
        key, hashes = self._key, self._hashes
        return {i for i in identifiers if hmac.digest(key, i.encode("utf-8"), "sha256") in hashes}

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for item in sorted(self._hashes):
            h.update(item)
        return h.hexdigest()

    # -- files -------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SUPPRESSION_FORMAT,
            "algorithm": "hmac-sha256",
            "key_id": self.key_id,
            "hashes": sorted(h.hex() for h in self._hashes),
        }

    def save(self, path: Path) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path, key: bytes) -> Suppression:
        """Read a list; the key must be the one it was made with (checked through ``key_id``)."""
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"{path}: no such suppression list") from None
        except (OSError, ValueError) as exc:
            raise BadInput(f"{path}: not a readable suppression list: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != SUPPRESSION_FORMAT:
            raise BadInput(f"{path}: not a suppression list (expected format {SUPPRESSION_FORMAT!r})")
        if raw.get("algorithm") != "hmac-sha256":
            raise BadInput(f"{path}: unsupported algorithm {shown(raw.get('algorithm'))}")
        made = cls(key)
        if raw.get("key_id") != made.key_id:
            # A wrong key would match nothing and silently let erased people through.
            raise BadInput(
                f"{path}: the list was made with key {shown(raw.get('key_id'))}, but the key given is "
                f"{made.key_id!r}; set CONSENTGATE_SUPPRESSION_KEY to the key the list was made with"
            )
        try:
            made._hashes = {bytes.fromhex(h) for h in raw.get("hashes", [])}
        except (TypeError, ValueError):
            raise BadInput(f"{path}: 'hashes' must be a list of hex strings") from None
        return made


def key_id(key: bytes) -> str:
    """A short public name for a key, so a list and a key can be checked to belong together."""
    return hashlib.sha256(b"consentgate-suppression-key:" + key).hexdigest()[:16]


class LedgerSuppression:
    """The suppression list of the ledger database (filled by erasure requests).

    It is read whole when made and on :meth:`refresh` — it holds one hash per identifier of each
    erased person, so it is small — and identifiers are hashed here, in the process: matching a
    dataset's millions of distinct ids costs no database round trips.
    """

    __slots__ = ("_engine", "_hashes", "_key")

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._key: ErasureKey | None = None
        self._hashes: frozenset[bytes] = frozenset()
        self.refresh()

    @property
    def key_id(self) -> str | None:
        return None if self._key is None else self._key.key_id

    def refresh(self) -> bool:
        """Re-read the list; True when it changed."""
        from consentgate.store.secrets import find_erasure_key
        from consentgate.store.suppressions import suppressed_hashes

        found = frozenset(suppressed_hashes(self._engine))
        if found and self._key is None:
            self._key = find_erasure_key(self._engine)  # the erasure that filled the list made it
            if self._key is None:
                raise TerminalStorageError(
                    "the suppression list has entries but the database has no erasure key "
                    "(service_secrets, purpose 'erasure'); it cannot be matched — restore the key"
                )
        changed = found != self._hashes
        self._hashes = found
        return changed

    def __len__(self) -> int:
        return len(self._hashes)

    def __contains__(self, identifier: object) -> bool:
        return bool(self.matching([identifier])) if isinstance(identifier, str) else False

    def matching(self, identifiers: Iterable[str]) -> set[str]:
        if not self._hashes or self._key is None:
            return set()
        digest, hashes = self._key.digest, self._hashes
        return {i for i in identifiers if digest(i) in hashes}

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for item in sorted(self._hashes):
            h.update(item)
        return h.hexdigest()


class Combined:
    """Several suppression lists enforced together (the ledger's and a file's)."""

    __slots__ = ("parts",)

    def __init__(self, *parts: SuppressionList) -> None:
        self.parts = parts

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def matching(self, identifiers: Iterable[str]) -> set[str]:
        ids = list(identifiers)
        out: set[str] = set()
        for p in self.parts:
            out |= p.matching(ids)
        return out

    def refresh(self) -> bool:
        changed = False
        for p in self.parts:
            refresh = getattr(p, "refresh", None)
            if refresh is not None:
                changed = bool(refresh()) or changed
        return changed

    @property
    def digest(self) -> str:
        # Empty lists add nothing: a run against the ledger's empty list and a file's list records the
        # file's digest, so runs stay comparable before and after the first erasure anywhere.
        parts = [p for p in self.parts if len(p)] or list(self.parts[:1])
        if len(parts) == 1:
            return parts[0].digest
        return hashlib.sha256("".join(p.digest for p in parts).encode()).hexdigest()


def combine(*lists: SuppressionList | None) -> SuppressionList | None:
    """One list enforcing all the given ones (None when none is given)."""
    present = [x for x in lists if x is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else Combined(*present)


def ledger_suppression(engine: Engine, extra: SuppressionList | None = None) -> SuppressionList:
    """The ledger's list, plus ``extra`` when given: what every gate that opens the ledger enforces."""
    found = combine(LedgerSuppression(engine), extra)
    assert found is not None
    return found
