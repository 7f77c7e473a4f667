"""What a data-subject request is: its kinds, its status lifecycle, and one stored request.

Lifecycle::

    received ──► verified ──► in_progress ──► completed
        │            │             │
        └────────────┴─────────────┴────────► rejected (with a reason)

``received``: filed, the requester's identity not yet checked. ``verified``: the identity is
established (a subject token for the subject, or an operator who checked it). ``in_progress``:
being carried out — an erasure that could not reach every source stays here until a retry
succeeds. ``completed`` and ``rejected`` are final.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class RequestKind(StrEnum):
    ACCESS = "access"  # Art. 15: what is held, what it was used for, who received it
    OBJECT = "object"  # Art. 21: stop processing based on legitimate interest (and here: any AI use)
    WITHDRAW = "withdraw"  # Art. 7(3): withdraw consent
    ERASE = "erase"  # Art. 17: delete, and never let it back in
    OPT_OUT = "opt_out"  # US state laws: opt out (of sale/sharing, of AI training)


class Status(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


OPEN = frozenset({Status.RECEIVED, Status.VERIFIED, Status.IN_PROGRESS})
FINAL = frozenset({Status.COMPLETED, Status.REJECTED})

# Which status may follow which (anything open may be rejected).
NEXT: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VERIFIED, Status.REJECTED}),
    Status.VERIFIED: frozenset({Status.IN_PROGRESS, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.REJECTED}),
    Status.COMPLETED: frozenset(),
    Status.REJECTED: frozenset(),
}

# Kinds that change choices: the ledger action each records per purpose.
CHOICE_ACTIONS = {
    RequestKind.OBJECT: "object",
    RequestKind.WITHDRAW: "withdraw",
    RequestKind.OPT_OUT: "opt_out",
}


@dataclass(frozen=True, slots=True)
class LogEntry:
    step: int
    at: datetime
    status: Status
    actor: str
    note: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "at": self.at.isoformat(),
            "status": self.status.value,
            "actor": self.actor,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class DataRequest:
    """One request as stored. ``subject`` is the erasure pseudonym once the person was erased."""

    request_id: str
    kind: RequestKind
    subject: str
    purposes: tuple[str, ...]
    status: Status
    channel: str
    received_at: datetime
    due_on: date
    extended_due_on: date | None
    extension_reason: str | None
    verified_by: str | None
    closed_at: datetime | None
    reason: str | None
    attempts: int
    outcome: dict[str, Any]
    log: tuple[LogEntry, ...] = field(default=())

    @property
    def due(self) -> date:
        """The date that counts: the extended one when the request was extended."""
        return self.extended_due_on or self.due_on

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def overdue(self, today: date) -> bool:
        return self.is_open and today > self.due

    def to_json(self, *, today: date | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": self.request_id,
            "kind": self.kind.value,
            "subject": self.subject,
            "purposes": list(self.purposes),
            "status": self.status.value,
            "channel": self.channel,
            "received_at": self.received_at.isoformat(),
            "due_on": self.due_on.isoformat(),
            "extended_due_on": None if self.extended_due_on is None else self.extended_due_on.isoformat(),
            "extension_reason": self.extension_reason,
            "due": self.due.isoformat(),
            "verified_by": self.verified_by,
            "closed_at": None if self.closed_at is None else self.closed_at.isoformat(),
            "reason": self.reason,
            "attempts": self.attempts,
            "outcome": self.outcome,
            "log": [e.to_json() for e in self.log],
        }
        if today is not None:
            out["overdue"] = self.overdue(today)
        return out


def dump(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
