"""The ``reservation_checks`` table: what each website reserved against text and data mining, when.

One row per URL and check, written by ``consentgate signals check`` from
:meth:`consentgate.scan.reservations.UrlCheck.to_json`. Rows are facts about publishers, not
about people: they never become ledger events and no consent decision reads them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from consentgate.errors import BadInput
from consentgate.ledger import schema as t

MECHANISMS = ("robots", "tdmrep", "noai")
VERDICTS = frozenset({"yes", "no", "unknown"})
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredCheck:
    """One stored check of one URL: a verdict per mechanism and the check's full JSON."""

    check_id: str
    origin: str
    url: str
    checked_at: str
    verdicts: dict[str, str]
    detail: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"check_id": self.check_id, **self.detail}


class ReservationStore:
    """Stored rights-reservation checks, newest first when read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = engine.execution_options(ledger_write=True)

    def add(self, checks: Sequence[Mapping[str, Any]]) -> list[str]:
        """Store checks (each with ``origin``, ``url``, ``checked_at`` and ``verdicts`` per mechanism),
        all in one transaction; returns their new ids. A malformed check stores nothing."""
        rows = [_row(check) for check in checks]
        with self._writer.begin() as conn:
            for i in range(0, len(rows), _CHUNK):
                conn.execute(insert(t.reservation_checks), rows[i : i + _CHUNK])
        return [r["check_id"] for r in rows]

    def checks(self, origin: str | None = None) -> list[StoredCheck]:
        """Every stored check, newest first; only those of ``origin`` when given."""
        c = t.reservation_checks.c
        query = select(t.reservation_checks).order_by(c.checked_at.desc(), c.origin, c.url)
        if origin is not None:
            query = query.where(c.origin == origin)
        with self.engine.connect() as conn:
            return [_stored(r._mapping) for r in conn.execute(query)]

    def latest(self, origins: Sequence[str]) -> dict[str, list[StoredCheck]]:
        """Per origin asked for, the newest check of each of its URLs (origins never checked are
        absent)."""
        c = t.reservation_checks.c
        found: dict[str, dict[str, StoredCheck]] = {}
        wanted = sorted(set(origins))
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                query = select(t.reservation_checks).where(c.origin.in_(wanted[i : i + _CHUNK]))
                for r in conn.execute(query.order_by(c.checked_at)):
                    check = _stored(r._mapping)
                    found.setdefault(check.origin, {})[check.url] = check  # later rows replace earlier
        return {o: sorted(urls.values(), key=lambda s: s.url) for o, urls in found.items()}


def _row(check: Mapping[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("origin", "url", "checked_at", "verdicts") if not check.get(k)]
    if missing:
        raise BadInput(f"a reservation check needs {', '.join(missing)}; nothing was stored")
    verdicts = check["verdicts"]
    for m in MECHANISMS:
        if verdicts.get(m) not in VERDICTS:
            raise BadInput(
                f"reservation check of {check['url']}: the {m} verdict must be yes, no or unknown; "
                "nothing was stored"
            )
    return {
        "check_id": uuid.uuid4().hex,
        "origin": check["origin"],
        "url": check["url"],
        "checked_at": check["checked_at"],
        **{m: verdicts[m] for m in MECHANISMS},
        "detail": json.dumps(dict(check), ensure_ascii=False, sort_keys=True),
    }


def _stored(m: Any) -> StoredCheck:
    return StoredCheck(
        check_id=m["check_id"],
        origin=m["origin"],
        url=m["url"],
        checked_at=m["checked_at"],
        verdicts={k: m[k] for k in MECHANISMS},
        detail=json.loads(m["detail"]),
    )
