"""Generated ledgers for the operator-report tests: banner submissions, GPC and other events.

Each generated *submission* is what one client post would store: one event per purpose, sharing the
identifier, the time it occurred, the region, the source and the signals. They are recorded in a
shuffled order (late events: occurred early, recorded last), and the expected figures are computed
here from the generated list alone, never from the database.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.service import ConsentService

START = datetime(2026, 9, 1, tzinfo=UTC)
REGIONS = ("DE", "FR", "US-CA", "US-TX", "GB", "JP", "BR", "ZA", None)  # ZA and None fall under "*"
PURPOSES = ("train_support_chatbot", "finetune_recommender", "product_analytics", "marketing")
CHOICES = ("accept_all", "reject_all", "custom", None)  # None: an older banner, no button named


@dataclass(frozen=True)
class Submission:
    subject: str
    occurred_at: datetime
    region: str | None
    source: str
    action: str  # grant / deny per purpose, or gpc
    purposes: tuple[str, ...]
    signals: dict[str, Any] = field(default_factory=dict)

    def raws(self) -> list[dict[str, Any]]:
        base = {
            "subject": self.subject,
            "occurred_at": self.occurred_at.isoformat(),
            "region": self.region,
            "source": self.source,
            "signals": self.signals,
        }
        if self.action == "gpc":
            return [{**base, "action": "gpc"}]
        return [{**base, "action": self.action, "purposes": [p]} for p in self.purposes]


def generate(seed: int, visitors: int = 60, days: int = 40) -> list[Submission]:
    rnd = random.Random(seed)
    out: list[Submission] = []
    for i in range(visitors):
        subject = f"visitor-{seed}-{i}@example.com"
        region = rnd.choice(REGIONS)
        gpc = rnd.random() < 0.3
        first = START + timedelta(days=rnd.randrange(days), seconds=rnd.randrange(86_400))
        if gpc:
            source = rnd.choice(("banner", "banner", "api"))
            out.append(Submission(subject, first, region, source, "gpc", (), {"gpc": True, "via": "dom"}))
        if rnd.random() < 0.1:  # a gpc event saying the signal was off: not a GPC visitor
            out.append(Submission(subject, first, region, "api", "gpc", (), {"gpc": False}))
        for n in range(rnd.choice((0, 1, 1, 2, 3))):
            when = first + timedelta(hours=n * rnd.randrange(1, 90), microseconds=n)
            choice = rnd.choice(CHOICES)
            purposes = tuple(rnd.sample(PURPOSES, rnd.randrange(1, len(PURPOSES) + 1)))
            action = "deny" if choice == "reject_all" else rnd.choice(("grant", "deny"))
            source = rnd.choice(("banner", "banner", "banner", "toggle", "api", "privacy_center"))
            signals = {"banner_choice": choice} if choice and source == "banner" else {}
            if rnd.random() < 0.2:
                signals["do_not_train"] = action == "deny"
            out.append(
                Submission(
                    subject, when, rnd.choice((region, region, "DE")), source, action, purposes, signals
                )
            )
    rnd.shuffle(out)  # recorded out of order: late events
    return out


def record(ledger: Ledger, policy: Policy, submissions: list[Submission]) -> None:
    """Store each submission as the API would: its events together, in one append."""
    service = ConsentService(policy, ledger)
    for s in submissions:
        service.record([(f"sub[{i}]", raw) for i, raw in enumerate(s.raws())], strict=False)
