"""Requests and their status log in the ledger database (the request desk's store).

The rules — which status may follow which, what completing a request does — are
``requests/desk.py``'s; the rows are this module's.

Every status change is a conditional update (``WHERE status = <the status it was read in>``) plus a
log row, in one transaction: two operators completing the same request at once cannot both win, and
the log holds exactly the changes that happened.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from consentgate.errors import Conflict, NotFound
from consentgate.ledger import schema as t
from consentgate.ledger.erasure import ErasureKey, pseudonymise
from consentgate.ledger.signing import Signer
from consentgate.requests.models import OPEN, DataRequest, LogEntry, RequestKind, Status, dump
from consentgate.store.engine import writer
from consentgate.store.errors import storage

_R, _L = t.requests, t.request_log


def new_request_id() -> str:
    """``req-`` and 16 hex digits: short enough to read out on the phone, too many to guess."""
    return "req-" + secrets.token_hex(8)


class RequestStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)

    def add(self, req: DataRequest, *, actor: str, note: str | None = None) -> None:
        """Store a new request with its first log entries (one per status it passed through)."""
        row = {
            "request_id": req.request_id,
            "kind": req.kind.value,
            "subject": req.subject,
            "purposes": dump(list(req.purposes)),
            "status": req.status.value,
            "channel": req.channel,
            "received_at": req.received_at.isoformat(),
            "due_on": req.due_on.isoformat(),
            "extended_due_on": None,
            "extension_reason": None,
            "verified_by": req.verified_by,
            "closed_at": None,
            "reason": None,
            "attempts": 0,
            "outcome": dump(req.outcome),
            "open_key": f"{req.kind.value}:{req.subject}",
        }
        steps = [Status.RECEIVED] + ([Status.VERIFIED] if req.status is Status.VERIFIED else [])
        try:
            with storage("store the request", integrity=False), self._writer.begin() as conn:
                conn.execute(insert(_R).values(**row))
                for i, status in enumerate(steps, start=1):
                    conn.execute(
                        insert(_L).values(
                            request_id=req.request_id,
                            step=i,
                            at=req.received_at.isoformat(),
                            status=status.value,
                            actor=actor if status is Status.RECEIVED else (req.verified_by or actor),
                            note=note if status is Status.RECEIVED else None,
                        )
                    )
        except IntegrityError:
            existing = self.open_request(req.kind, req.subject)
            if existing is None:  # pragma: no cover - the id collided (2^64) or a race just closed it
                raise Conflict("the request could not be stored; file it again") from None
            raise Conflict(
                f"{existing.request_id} is already an open {req.kind.value} request for this person "
                f"(status {existing.status.value}, due {existing.due.isoformat()}); follow that one "
                f"(`consentgate requests show {existing.request_id}`) instead of filing another",
                problems=[("request_id", existing.request_id), ("due", existing.due.isoformat())],
            ) from None

    def open_request(self, kind: RequestKind, subject: str) -> DataRequest | None:
        with storage("read requests"), self.engine.connect() as conn:
            row = conn.execute(select(_R).where(_R.c.open_key == f"{kind.value}:{subject}")).first()
            return None if row is None else _request(conn, row._mapping)

    def get(self, request_id: str) -> DataRequest:
        with storage("read the request"), self.engine.connect() as conn:
            row = conn.execute(select(_R).where(_R.c.request_id == request_id)).first()
            if row is None:
                raise NotFound(
                    f"no request {request_id!r}; `consentgate requests list` shows the requests there are"
                )
            return _request(conn, row._mapping)

    def find(
        self,
        *,
        status: Sequence[Status] = (),
        kind: RequestKind | None = None,
        subjects: Sequence[str] = (),
        due_before: date | None = None,
    ) -> list[DataRequest]:
        q = select(_R)
        if status:
            q = q.where(_R.c.status.in_([s.value for s in status]))
        if kind is not None:
            q = q.where(_R.c.kind == kind.value)
        if subjects:
            q = q.where(_R.c.subject.in_(list(subjects)))
        if due_before is not None:
            due = func.coalesce(_R.c.extended_due_on, _R.c.due_on)
            q = q.where(due < due_before.isoformat())
        q = q.order_by(_R.c.received_at, _R.c.request_id)
        with storage("read requests"), self.engine.connect() as conn:
            return [_request(conn, r._mapping) for r in conn.execute(q)]

    def received_between(self, start: datetime, end: datetime) -> list[DataRequest]:
        """Requests received in ``[start, end)``, oldest first, without their logs (one query, for
        reports over many requests)."""
        # received_at is stored as written (ISO with the offset it was filed in), so the range is
        # checked on the parsed times: a string comparison across offsets would misplace some.
        with storage("read requests"), self.engine.connect() as conn:
            rows = conn.execute(select(_R).order_by(_R.c.received_at, _R.c.request_id)).mappings().all()
        found = [_request(None, r) for r in rows]
        return sorted(
            (r for r in found if start <= r.received_at < end), key=lambda r: (r.received_at, r.request_id)
        )

    def change(
        self,
        req: DataRequest,
        to: Status,
        *,
        actor: str,
        at: datetime,
        note: str | None = None,
        **values: Any,
    ) -> DataRequest:
        """Move ``req`` from the status it was read in to ``to``; Conflict if someone moved it first."""
        values = {k: (dump(v) if k == "outcome" else v) for k, v in values.items()}
        values["status"] = to.value
        if to not in OPEN:
            values["open_key"] = None
            values.setdefault("closed_at", at.isoformat())
        with storage("update the request"), self._writer.begin() as conn:
            changed = conn.execute(
                update(_R)
                .where(
                    _R.c.request_id == req.request_id,
                    _R.c.status == req.status.value,
                    _R.c.attempts == req.attempts,  # two retries of one request cannot both run
                )
                .values(**values)
            ).rowcount
            if changed != 1:
                raise Conflict(
                    f"{req.request_id} changed while this step ran (someone else moved it on); "
                    "look at it again with `consentgate requests show`"
                )
            _log(conn, req.request_id, to, actor=actor, at=at, note=note)
        return self.get(req.request_id)


def scrub_requests(conn: Connection, subjects: Collection[str], scrub: Callable[[str], str]) -> int:
    """Scrub the free text of the requests filed for ``subjects`` and of their logs, in the caller's
    transaction (the erasure's last step); returns how many texts changed."""
    changed = 0
    texts = ("reason", "extension_reason", "verified_by")
    rows = conn.execute(select(_R).where(_R.c.subject.in_(sorted(subjects)))).mappings().all()
    for row in rows:
        values: dict[str, Any] = {c: scrub(row[c]) for c in texts if row[c]}
        values["outcome"] = dump(_scrub_json(json.loads(row["outcome"]), scrub))
        values = {c: v for c, v in values.items() if v != row[c]}
        if values:
            conn.execute(update(_R).where(_R.c.request_id == row["request_id"]).values(**values))
            changed += len(values)
        log_rows = conn.execute(select(_L).where(_L.c.request_id == row["request_id"])).mappings().all()
        for entry in log_rows:
            log = {c: scrub(entry[c]) for c in ("note", "actor") if entry[c]}
            log = {c: v for c, v in log.items() if v != entry[c]}
            if log:
                where = (_L.c.request_id == entry["request_id"]) & (_L.c.step == entry["step"])
                conn.execute(update(_L).where(where).values(**log))
                changed += len(log)
    return changed


def forget_identifiers(
    engine: Engine,
    key: ErasureKey,
    pseudonyms: Mapping[str, str],
    scrub: Callable[[str], str],
    signer: Signer | None,
) -> tuple[int, dict[str, int]]:
    """An erasure's last step, in one transaction: scrub the person's requests (filed under an
    identifier or its pseudonym) and replace the identifiers (``pseudonyms``' keys, made with
    ``key``) by their pseudonyms in the ledger. Returns the number of scrubbed texts and the
    pseudonymised rows per table."""
    with writer(engine).begin() as conn:
        scrubbed = scrub_requests(conn, {*pseudonyms, *pseudonyms.values()}, scrub)
        counts = pseudonymise(conn, key, set(pseudonyms), signer)
    return scrubbed, counts


def _log(
    conn: Connection, request_id: str, status: Status, *, actor: str, at: datetime, note: str | None
) -> None:
    last = conn.execute(select(func.max(_L.c.step)).where(_L.c.request_id == request_id)).scalar() or 0
    conn.execute(
        insert(_L).values(
            request_id=request_id,
            step=last + 1,
            at=at.isoformat(),
            status=status.value,
            actor=actor,
            note=note,
        )
    )


def _request(conn: Connection | None, m: Any) -> DataRequest:
    """The request of row ``m``, with its log read over ``conn`` (none without one)."""
    log = tuple(
        LogEntry(r.step, datetime.fromisoformat(r.at), Status(r.status), r.actor, r.note)
        for r in (
            conn.execute(select(_L).where(_L.c.request_id == m["request_id"]).order_by(_L.c.step))
            if conn is not None
            else ()
        )
    )
    return DataRequest(
        request_id=m["request_id"],
        kind=RequestKind(m["kind"]),
        subject=m["subject"],
        purposes=tuple(json.loads(m["purposes"])),
        status=Status(m["status"]),
        channel=m["channel"],
        received_at=datetime.fromisoformat(m["received_at"]),
        due_on=date.fromisoformat(m["due_on"]),
        extended_due_on=None if m["extended_due_on"] is None else date.fromisoformat(m["extended_due_on"]),
        extension_reason=m["extension_reason"],
        verified_by=m["verified_by"],
        closed_at=None if m["closed_at"] is None else datetime.fromisoformat(m["closed_at"]),
        reason=m["reason"],
        attempts=m["attempts"],
        outcome=json.loads(m["outcome"]),
        log=log,
    )


def _scrub_json(value: Any, scrub: Callable[[str], str]) -> Any:
    """Every string in a JSON value (a request's outcome) scrubbed; keys are the program's words."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_json(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_json(v, scrub) for k, v in value.items()}
    return value
