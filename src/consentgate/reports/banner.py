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

Both reports read the rollup of ``reports/web_rollup.py`` (kept up to date from the ledger head);
``recount_banner_outcomes`` and ``recount_gpc_share`` count the same from the events themselves, the
oracle the rollup is tested against and the baseline it is benchmarked against.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from consentgate.policy import Policy
from consentgate.reports import web_rollup
from consentgate.reports.periods import EPOCH_DAY, Period, bucket
from consentgate.reports.rates import Interval
from consentgate.reports.web_rollup import OUTCOMES, UNATTRIBUTED, WEB_SOURCES, outcome
from consentgate.store.activity import banner_clicks, gpc_signals, web_visitors
from consentgate.store.engine import Engine

# The fields of a row, in the order tables and CSV show them.
OUTCOME_COLUMNS = ("period", "region", *OUTCOMES, UNATTRIBUTED, "no_action", "submissions")
GPC_COLUMNS = ("region", "visitors", "gpc_visitors", "share")
NO_ACTION_UNKNOWN = (
    "not known: the banner records nothing when it is shown and left alone, so views without a "
    "choice cannot be counted"
)
GPC_NOTE = (
    "share of the identifiers seen by the banner, toggle or privacy center that sent Global Privacy "
    "Control; visitors without GPC reach the ledger only by choosing, so this is not a share of all visitors"
)
ClickRows = Iterable[tuple[int, str | None, str, int]]  # (UTC day number, region code, outcome, clicks)


def banner_outcomes(
    engine: Engine, policy: Policy, period: Period, *, interval: Interval = Interval.day
) -> dict[str, Any]:
    """Banner submissions per (period bucket, region) by the button that made them."""
    rows = web_rollup.clicks(engine, policy, period.start_us, period.end_us)
    return _outcomes(rows, policy, period, interval)


def gpc_share(engine: Engine, policy: Policy, period: Period) -> dict[str, Any]:
    """Per region: identifiers seen by the web collection points, and those that sent GPC."""
    counts = web_rollup.visitors(engine, policy, period.start_us, period.end_us)
    return _share(counts, period)


def recount_banner_outcomes(
    engine: Engine, policy: Policy, period: Period, *, interval: Interval = Interval.day
) -> dict[str, Any]:
    """:func:`banner_outcomes` counted from the period's events, without the rollup."""
    rows = banner_clicks(engine, period.start_us, period.end_us)
    return _outcomes(((d, r, outcome(sig), n) for d, r, sig, n in rows), policy, period, interval)


def recount_gpc_share(engine: Engine, policy: Policy, period: Period) -> dict[str, Any]:
    """:func:`gpc_share` counted from the period's events, without the rollup."""
    seen: dict[str, set[str]] = defaultdict(set)
    gpc: dict[str, set[str]] = defaultdict(set)
    for region, who in web_visitors(engine, period.start_us, period.end_us, WEB_SOURCES):
        seen[policy.region_group(region)].add(who)
    for region, who, signals in gpc_signals(engine, period.start_us, period.end_us, WEB_SOURCES):
        if signals.get("gpc") is True:
            group = policy.region_group(region)
            seen[group].add(who)
            gpc[group].add(who)
    counts: Counter[tuple[str, str]] = Counter()
    for group, ids in seen.items():
        counts[(group, "seen")] = len(ids)
        counts[(group, "gpc")] = len(gpc[group])
    return _share(counts, period)


def _outcomes(rows: ClickRows, policy: Policy, period: Period, interval: Interval) -> dict[str, Any]:
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for day, region, choice, clicks in rows:
        key = (bucket(EPOCH_DAY + timedelta(days=day), interval), policy.region_group(region))
        counts[key][choice] += clicks
    rows_out = [
        {
            "period": when,
            "region": region,
            **{name: c[name] for name in (*OUTCOMES, UNATTRIBUTED)},
            "no_action": None,
            "submissions": sum(c.values()),
        }
        for (when, region), c in sorted(counts.items())
        if sum(c.values())
    ]
    return {**period.to_json(), "interval": interval.value, "rows": rows_out, "no_action": NO_ACTION_UNKNOWN}


def _share(counts: Counter[tuple[str, str]], period: Period) -> dict[str, Any]:
    rows = [
        {
            "region": group,
            "visitors": n,
            "gpc_visitors": counts[(group, "gpc")],
            "share": round(counts[(group, "gpc")] / n, 6),
        }
        for (group, kind), n in sorted(counts.items())
        if kind == "seen" and n
    ]
    return {**period.to_json(), "rows": rows, "note": GPC_NOTE}
