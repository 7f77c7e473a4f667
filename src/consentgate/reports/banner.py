"""Banner outcomes and GPC share, from the banner's own events (docs/reports.md).

**Outcomes.** One banner *submission* — a click that recorded choices — is the set of choice
events one identifier recorded with source ``banner``, one ``occurred_at``, one region and one set
of signals (the banner posts all the purposes of one click together, and they share all four). Its
outcome is the button the banner names in ``signals.banner_choice``: ``accept_all``,
``reject_all`` or ``custom`` ("Save" after setting the switches). A submission without it (a
banner from before the signal, or another client posting with source ``banner``) is counted as
``unattributed``, never guessed from its purposes: a "Save" with every switch on grants what
"Accept all" grants.

``no_action`` (the banner was shown and left alone) is ``None``: the banner records nothing until the
visitor acts, so views without a choice leave no trace to count. Zero would claim every visitor chose.

**GPC share**, per region: of the identifiers the web collection points (banner, toggle, privacy
center) saw in the period, how many sent Global Privacy Control. The banner records a ``gpc`` event
on a GPC browser's first view even without a click, but a visitor without GPC reaches the ledger
only by choosing, so the share is of the visitors who reached the ledger, not of all visitors.

Regions are the policy's region groups of each event's own ISO code (``*`` for none or unmapped);
periods are UTC calendar buckets of ``occurred_at``. Erased people's clicks still count: they
happened, and the pseudonymised events say nothing about who made them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

from consentgate.policy import Policy
from consentgate.reports.periods import EPOCH_DAY, Period, bucket
from consentgate.reports.rates import Interval
from consentgate.store.activity import banner_clicks, gpc_signals, web_visitors
from consentgate.store.engine import Engine

OUTCOMES = ("accept_all", "reject_all", "custom")
UNATTRIBUTED = "unattributed"
# The fields of a row, in the order tables and CSV show them.
OUTCOME_COLUMNS = ("period", "region", *OUTCOMES, UNATTRIBUTED, "no_action", "submissions")
GPC_COLUMNS = ("region", "visitors", "gpc_visitors", "share")
WEB_SOURCES = frozenset({"banner", "toggle", "privacy_center"})
NO_ACTION_UNKNOWN = (
    "not known: the banner records nothing when it is shown and left alone, so views without a "
    "choice cannot be counted"
)
GPC_NOTE = (
    "share of the identifiers seen by the banner, toggle or privacy center that sent Global Privacy "
    "Control; visitors without GPC reach the ledger only by choosing, so this is not a share of all visitors"
)


def banner_outcomes(
    engine: Engine, policy: Policy, period: Period, *, interval: Interval = Interval.day
) -> dict[str, Any]:
    """Banner submissions per (period bucket, region) by the button that made them."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    choices: dict[str, str] = {}  # signals JSON → outcome: a handful of distinct strings
    for day, region, signals, clicks in banner_clicks(engine, period.start_us, period.end_us):
        choice = choices.get(signals)
        if choice is None:
            named = json.loads(signals).get("banner_choice")
            choice = choices[signals] = named if named in OUTCOMES else UNATTRIBUTED
        key = (bucket(EPOCH_DAY + timedelta(days=day), interval), policy.region_group(region))
        counts[key][choice] += clicks
    rows = [
        {
            "period": when,
            "region": region,
            **{name: c[name] for name in (*OUTCOMES, UNATTRIBUTED)},
            "no_action": None,
            "submissions": sum(c.values()),
        }
        for (when, region), c in sorted(counts.items())
    ]
    return {**period.to_json(), "interval": interval.value, "rows": rows, "no_action": NO_ACTION_UNKNOWN}


def gpc_share(engine: Engine, policy: Policy, period: Period) -> dict[str, Any]:
    """Per region: identifiers seen by the web collection points, and those that sent GPC."""
    seen: dict[str, set[str]] = defaultdict(set)
    gpc: dict[str, set[str]] = defaultdict(set)
    for region, who in web_visitors(engine, period.start_us, period.end_us, WEB_SOURCES):
        seen[policy.region_group(region)].add(who)
    for region, who, signals in gpc_signals(engine, period.start_us, period.end_us, WEB_SOURCES):
        if signals.get("gpc") is True:
            group = policy.region_group(region)
            seen[group].add(who)
            gpc[group].add(who)
    rows = [
        {
            "region": region,
            "visitors": len(ids),
            "gpc_visitors": len(gpc[region]),
            "share": round(len(gpc[region]) / len(ids), 6),
        }
        for region, ids in sorted(seen.items())
    ]
    return {**period.to_json(), "rows": rows, "note": GPC_NOTE}
