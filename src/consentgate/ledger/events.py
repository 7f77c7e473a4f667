"""Consent events: facts about what a person chose, never updated or deleted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from consentgate.policy.models import to_micros


class Action(StrEnum):
    GRANT = "grant"
    DENY = "deny"
    WITHDRAW = "withdraw"
    OBJECT = "object"
    OPT_OUT = "opt_out"
    GPC = "gpc"
    ERASE = "erase"


PURPOSE_ACTIONS = frozenset({Action.GRANT, Action.DENY, Action.WITHDRAW, Action.OBJECT, Action.OPT_OUT})
SUBJECT_ACTIONS = frozenset({Action.GPC, Action.ERASE})
NEGATIVE_ACTIONS = frozenset({Action.DENY, Action.WITHDRAW, Action.OBJECT, Action.OPT_OUT})

# ISO/IEC TS 27560 ``event_state`` (DPV consent status) after each action.
EVENT_STATE = {
    Action.GRANT: "given",
    Action.DENY: "refused",
    Action.WITHDRAW: "withdrawn",
    Action.OBJECT: "objected",
    Action.OPT_OUT: "opted_out",
    Action.GPC: "signal",
    Action.ERASE: "erasure_requested",
}


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One stored fact. Per-purpose actions carry one ``purpose``; ``gpc`` and ``erase`` carry none.

    ``occurred_at`` keeps the offset the person's device or the caller gave (evidence needs the zone);
    ``occurred_us``/``recorded_us`` are UTC microseconds so ordering ignores offsets.
    """

    subject: str
    action: Action
    occurred_at: datetime
    recorded_at: datetime
    purpose: str | None = None
    notice_id: str | None = None
    notice_version: str | None = None
    wording_hash: str | None = None
    region: str | None = None
    locale: str | None = None
    source: str = "api"
    signals: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0
    event_id: str = ""
    prev_hash: str = ""
    hash: str = ""
    occurred_us: int = field(default=-1, compare=False, repr=False)
    recorded_us: int = field(default=-1, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Stores pass the UTC microseconds they already hold; everyone else gets them computed.
        if self.occurred_us == -1:
            object.__setattr__(self, "occurred_us", to_micros(self.occurred_at))
        if self.recorded_us == -1:
            object.__setattr__(self, "recorded_us", to_micros(self.recorded_at))

    @property
    def order_key(self) -> tuple[int, int, int]:
        """docs/decisions.md, rule 4: occurred_at, then recorded_at, then recording order."""
        return (self.occurred_us, self.recorded_us, self.seq)

    @property
    def gpc_on(self) -> bool:
        return self.action is Action.GPC and self.signals.get("gpc") is True


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A validated event not yet stored: the ledger assigns seq, id, recorded_at and the hashes."""

    subject: str
    action: Action
    occurred_at: datetime
    purpose: str | None = None
    notice_id: str | None = None
    notice_version: str | None = None
    wording_hash: str | None = None
    region: str | None = None
    locale: str | None = None
    source: str = "api"
    signals: Mapping[str, Any] = field(default_factory=dict)
    recorded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NoticeText:
    """The exact wording of one (notice, version, locale), stored once and referenced by hash."""

    notice_id: str
    notice_version: str
    locale: str
    text: str
    text_hash: str
