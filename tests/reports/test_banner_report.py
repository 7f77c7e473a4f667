"""Banner outcomes and GPC share against an independent count of generated submissions, on SQLite
and PostgreSQL."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.banner import banner_outcomes, gpc_share
from consentgate.reports.periods import Period
from consentgate.reports.rates import Interval

from .ops_data import START, Submission, generate, record

# The example policy's region groups, written out here rather than asked of the policy.
GROUP = {
    "DE": "EU",
    "FR": "EU",
    "US-CA": "US-OPTOUT",
    "US-TX": "US-OPTOUT",
    "GB": "UK",
    "JP": "JP",
    "BR": "BR",
}
PERIOD = Period(START + timedelta(days=5), START + timedelta(days=30))


def group(code: str | None) -> str:
    return GROUP.get(code or "", "*")


def inside(s: Submission) -> bool:
    return PERIOD.start <= s.occurred_at < PERIOD.end


def expected_outcomes(subs: list[Submission], interval: str) -> dict[tuple[str, str], Counter[str]]:
    out: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for s in subs:
        if s.source != "banner" or s.action == "gpc" or not inside(s):
            continue
        day = s.occurred_at.date()
        if interval == "week":
            day -= timedelta(days=day.weekday())
        elif interval == "month":
            day = day.replace(day=1)
        out[(day.isoformat(), group(s.region))][s.signals.get("banner_choice") or "unattributed"] += 1
    return out


@pytest.mark.parametrize("interval", ["day", "week", "month"])
def test_banner_outcomes_match_an_independent_count(
    ledger_url: str, example_policy: Policy, interval: str
) -> None:
    subs = generate(seed=7)
    with Ledger.open(ledger_url) as ledger:
        record(ledger, example_policy, subs)
        report = banner_outcomes(ledger.engine, example_policy, PERIOD, interval=Interval(interval))
    want = expected_outcomes(subs, interval)
    got = {(r["period"], r["region"]): r for r in report["rows"]}
    assert set(got) == set(want)
    for key, counts in want.items():
        row = got[key]
        assert {k: row[k] for k in ("accept_all", "reject_all", "custom", "unattributed")} == {
            k: counts[k] for k in ("accept_all", "reject_all", "custom", "unattributed")
        }, key
        assert row["submissions"] == sum(counts.values())
        assert row["no_action"] is None  # not known, never 0
    assert sum(sum(c.values()) for c in want.values()) > 20  # the data exercised the report
    assert report["no_action"].startswith("not known")
    assert report["interval"] == interval


def test_gpc_share_matches_an_independent_count(ledger_url: str, example_policy: Policy) -> None:
    subs = generate(seed=11, visitors=80)
    with Ledger.open(ledger_url) as ledger:
        record(ledger, example_policy, subs)
        report = gpc_share(ledger.engine, example_policy, PERIOD)
    seen: dict[str, set[str]] = defaultdict(set)
    sent: dict[str, set[str]] = defaultdict(set)
    for s in subs:
        if not inside(s):
            continue
        on = s.signals.get("gpc") is True
        if s.source in ("banner", "toggle", "privacy_center") or on:
            seen[group(s.region)].add(s.subject)
        if on:
            sent[group(s.region)].add(s.subject)
    assert {r["region"]: (r["visitors"], r["gpc_visitors"]) for r in report["rows"]} == {
        g: (len(ids), len(sent[g])) for g, ids in seen.items()
    }
    for r in report["rows"]:
        assert r["share"] == pytest.approx(r["gpc_visitors"] / r["visitors"])
    assert any(r["gpc_visitors"] for r in report["rows"])


def test_an_empty_period_has_no_rows_and_still_does_not_claim_zero_no_action(
    ledger: Ledger, example_policy: Policy
) -> None:
    report = banner_outcomes(ledger.engine, example_policy, PERIOD)
    assert report["rows"] == []
    assert "cannot be counted" in report["no_action"]
    assert gpc_share(ledger.engine, example_policy, PERIOD)["rows"] == []
