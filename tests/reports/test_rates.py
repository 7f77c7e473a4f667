"""Consent rates against an independent computation, on generated ledgers on SQLite and PostgreSQL:
aliases, late events, re-consent (a material notice change), expiry, GPC and erasure."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from consentgate.errors import TransientStorageError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports import consent_rates, rollup
from consentgate.reports.replay import tally as full_tally
from consentgate.reports.rollup import tally as rollup_tally
from consentgate.requests import RequestDesk
from consentgate.service import ConsentService

from .ledgers import EPOCH, SPAN_DAYS, Generator, expected_rows, sorted_rows

ALL = ("purpose", "region", "notice_version", "source")
RECONSENT = datetime(2026, 5, 31, 22, 0, tzinfo=UTC)  # ai-training v2, effective 2026-06-01T00:00+02:00


@pytest.fixture
def led(ledger_url: str) -> Iterator[Ledger]:
    with Ledger.open(ledger_url) as ledger:
        yield ledger


def instants(seed: int, n: int) -> list[datetime]:
    """Random instants over the events' range, and the ones where decisions turn: the material notice
    change (and a microsecond either side), a UTC midnight, and after everything."""
    rng = random.Random(seed)
    out = [EPOCH + timedelta(seconds=rng.randrange(SPAN_DAYS * 86_400 + 200 * 86_400)) for _ in range(n)]
    out += [RECONSENT, RECONSENT - timedelta(microseconds=1), RECONSENT + timedelta(microseconds=1)]
    out += [datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC), EPOCH - timedelta(days=1)]
    return out


def rows_of(led: Ledger, policy: Policy, at: datetime, by: tuple[str, ...]) -> list[dict[str, object]]:
    return consent_rates(led.engine, policy, at=at, by=by).as_json()["rows"]


def test_rates_match_the_definition(led: Ledger, example_policy: Policy) -> None:
    gen = Generator(led, example_policy, seed=16)
    gen.add_people(120)
    gen.late_events(40)
    gen.erase(6)
    for at in instants(1, 6):
        for by in (("purpose", "region"), ALL, ("purpose",), ("purpose", "notice_version")):
            assert rows_of(led, example_policy, at, by) == expected_rows(led, example_policy, at, by), (
                at,
                by,
            )


def test_an_event_instant_counts_at_that_instant(led: Ledger, example_policy: Policy) -> None:
    """Reports at exactly an event's occurred_at (and a microsecond before) — where spans begin."""
    gen = Generator(led, example_policy, seed=3)
    gen.add_people(30, events_each=4)
    events = list(led.iter_events())
    for e in random.Random(5).sample(events, 5):
        for at in (e.occurred_at, e.occurred_at - timedelta(microseconds=1)):
            assert rows_of(led, example_policy, at, ALL) == expected_rows(led, example_policy, at, ALL)


@pytest.mark.parametrize("follow_links", [True, False], ids=["follow-links", "read-all-links"])
def test_the_rollup_stays_right_as_the_ledger_grows(
    led: Ledger, example_policy: Policy, follow_links: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Built once, then brought up to date after new people, late events, links that merge two people
    and erasures: the same figures as the definition and as a full recomputation. Both ways of
    finding the changed people: following their links, and (as for a bulk import) reading them all."""
    if not follow_links:
        monkeypatch.setattr(rollup, "FOLLOW_LINKS_UP_TO", 0)
    gen = Generator(led, example_policy, seed=20)
    gen.add_people(80)
    points = instants(2, 5)
    rollup_tally(led.engine, example_policy, points)  # builds the rollup
    gen.add_people(20)
    gen.late_events(30)
    gen.merge_people(10)
    gen.erase(4)
    assert rollup_tally(led.engine, example_policy, points) == full_tally(led.engine, example_policy, points)
    for at in points[:3]:
        assert rows_of(led, example_policy, at, ALL) == expected_rows(led, example_policy, at, ALL)
    # And once more, with only a late event about one person.
    gen.late_events(1)
    assert rollup_tally(led.engine, example_policy, points) == full_tally(led.engine, example_policy, points)


def test_a_series_is_the_report_at_each_of_its_instants(led: Ledger, example_policy: Policy) -> None:
    gen = Generator(led, example_policy, seed=8)
    gen.add_people(60)
    start, end = datetime(2025, 11, 15, 6, 30, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    report = consent_rates(led.engine, example_policy, start=start, end=end, interval="month", by=ALL)
    data = report.as_json()
    assert data["interval"] == "month"
    ats = sorted({r["at"] for r in data["rows"]})
    assert report.series is not None
    assert [p.isoformat() for p in report.series.points][: len(ats)] == ats[: len(ats)]
    assert len(report.series.points) == 10  # 2025-11-15 … 2026-08-15
    for point in report.series.points:
        got = [
            {k: v for k, v in r.items() if k != "at"} for r in data["rows"] if r["at"] == point.isoformat()
        ]
        assert sorted_rows(got, ALL) == expected_rows(led, example_policy, point, ALL), point


def test_a_series_through_its_end_adds_the_end_when_no_step_lands_on_it(
    led: Ledger, example_policy: Policy
) -> None:
    """The console's chart of "January to today by month" must reach today; the CLI's series stays
    regular (its end is a point only when a step lands on it)."""
    gen = Generator(led, example_policy, seed=9)
    gen.add_people(40)
    start, end = datetime(2025, 11, 15, 6, 30, tzinfo=UTC), datetime(2026, 9, 1, tzinfo=UTC)
    regular = consent_rates(led.engine, example_policy, start=start, end=end, interval="month", by=ALL)
    through = consent_rates(
        led.engine, example_policy, start=start, end=end, interval="month", by=ALL, through_end=True
    )
    assert regular.series is not None
    assert through.series is not None
    assert through.series.points == (*regular.series.points, end)
    assert through.at == end
    last = [{k: v for k, v in r.items() if k != "at"} for r in through.as_json()["rows"]
            if r["at"] == end.isoformat()]  # fmt: skip
    assert last
    assert sorted_rows(last, ALL) == expected_rows(led, example_policy, end, ALL)
    landed = datetime(2026, 8, 15, 6, 30, tzinfo=UTC)  # a step lands on it: no second point
    on_step = consent_rates(
        led.engine, example_policy, start=start, end=landed, interval="month", through_end=True
    )
    assert on_step.series is not None
    assert on_step.series.points[-1] == landed
    assert len(on_step.series.points) == len(set(on_step.series.points)) == 10


def test_a_new_policy_rebuilds_the_rollup(led: Ledger, example_policy: Policy) -> None:
    """The rollup is tied to the policy it was decided under: a changed basis changes past figures."""
    gen = Generator(led, example_policy, seed=11)
    gen.add_people(40)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    rows_of(led, example_policy, at, ALL)
    data = example_policy.model_dump(mode="json")
    for p in data["purposes"]:
        p["basis"] = {"*": "legitimate_interest"}
    changed = Policy.model_validate(data)
    assert rows_of(led, changed, at, ALL) == expected_rows(led, changed, at, ALL)
    assert all(r["allowed"] <= r["subjects"] for r in rows_of(led, changed, at, ALL))


def test_nobody_yet_is_an_empty_report_not_an_error(led: Ledger, example_policy: Policy) -> None:
    report = consent_rates(led.engine, example_policy, at=datetime(2026, 1, 1, tzinfo=UTC))
    assert report.as_json() == {"at": "2026-01-01T00:00:00+00:00", "rows": []}
    assert report.csv_rows() == [["purpose", "region", "subjects", "allowed", "rate"]]


def choice(subject: str, action: str, when: str, region: str = "DE", **over: object) -> tuple[str, object]:
    raw: dict[str, object] = {
        "subject": subject,
        "action": action,
        "purposes": ["train_support_chatbot"],
        "occurred_at": when,
        "region": region,
        "notice_id": "ai-training",
        "notice_version": 1,
        "locale": "en",
    }
    raw.update(over)
    if action == "gpc":
        raw.pop("purposes")
        raw.pop("notice_id")
        raw.pop("notice_version")
        raw["signals"] = {"gpc": True}
    return ("", raw)


def test_a_small_story_by_hand(led: Ledger, example_policy: Policy) -> None:
    """Figures worked out by hand: an alias, a material notice change, GPC under opt-out, an erasure,
    and an event recorded after a report whose instant it changes."""
    svc = ConsentService(example_policy, led)
    svc.record(
        [
            choice("c-ann", "grant", "2026-02-01T10:00:00+01:00"),  # ann's cookie, linked below
            choice("ann", "deny", "2026-01-20T10:00:00Z"),  # older than the cookie's grant
            choice("bob", "grant", "2026-02-01T10:00:00Z"),
            choice("cat", "grant", "2026-02-01T10:00:00Z", region="US-CA"),
            choice("cat", "gpc", "2026-02-10T10:00:00Z", region="US-CA"),
            choice("eve", "grant", "2026-02-01T10:00:00Z"),
        ],
        source="banner",
    )
    svc.link("c-ann", "ann", "cookie_id")
    desk = RequestDesk(svc, adapters={})
    desk.complete(desk.file("erase", "eve", verified_by="operator").request_id)
    march, july = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)
    by = ("purpose", "region")
    chatbot = {"purpose": "train_support_chatbot"}
    assert rows_of(led, example_policy, march, by) == [
        {**chatbot, "region": "EU", "subjects": 2, "allowed": 2, "rate": 1.0},
        {**chatbot, "region": "US-OPTOUT", "subjects": 1, "allowed": 0, "rate": 0.0},
    ]
    # v2 of the notice (2026-06-01, material) voids every v1 grant.
    assert rows_of(led, example_policy, july, by)[0] == {
        **chatbot,
        "region": "EU",
        "subjects": 2,
        "allowed": 0,
        "rate": 0.0,
    }
    # A choice recorded now, dated January: the March report changes with it.
    svc.record([choice("fay", "grant", "2026-01-15T08:00:00Z", region="FR")], source="import")
    assert rows_of(led, example_policy, march, by)[0] == {
        **chatbot,
        "region": "EU",
        "subjects": 3,
        "allowed": 3,
        "rate": 1.0,
    }
    assert rows_of(led, example_policy, march, ("purpose", "source")) == [
        {**chatbot, "source": "banner", "subjects": 3, "allowed": 2, "rate": 2 / 3},
        {**chatbot, "source": "import", "subjects": 1, "allowed": 1, "rate": 1.0},
    ]


def test_two_refreshes_at_once_leave_the_rollup_right(ledger_url: str, example_policy: Policy) -> None:
    """Two processes' reports refreshing together (here two threads, each with its own engine): they
    take turns per batch, and neither stores an older reading over a newer one."""
    with Ledger.open(ledger_url) as led:
        gen = Generator(led, example_policy, seed=31)
        gen.add_people(60)
        points = instants(4, 3)
        rollup_tally(led.engine, example_policy, points)
        gen.add_people(30)
        gen.late_events(40)
        gen.merge_people(8)
        errors: list[BaseException] = []

        def refresh() -> None:
            try:
                with Ledger.open(ledger_url) as other:
                    rollup.refresh(other.engine, example_policy)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        threads = [threading.Thread(target=refresh) for _ in range(2)]
        for th in threads:
            th.start()
        gen.late_events(10)  # and the ledger moves on meanwhile
        for th in threads:
            th.join()
        assert errors == []
        assert rollup_tally(led.engine, example_policy, points) == full_tally(
            led.engine, example_policy, points
        )


def test_a_damaged_rollup_is_refused_and_rebuilt(led: Ledger, example_policy: Policy) -> None:
    """Counts no ledger can produce (someone edited the table) are an error, never a figure; the next
    report rebuilds the rollup from the ledger."""
    gen = Generator(led, example_policy, seed=41)
    gen.add_people(30)
    at = datetime(2026, 8, 1, tzinfo=UTC)
    good = rows_of(led, example_policy, at, ALL)
    with led.engine.begin() as conn:
        conn.execute(text("UPDATE report_months SET allowed = subjects + 1"))
    with pytest.raises(TransientStorageError, match=r"rollup is inconsistent .* next report rebuilds it"):
        consent_rates(led.engine, example_policy, at=at, by=ALL)
    assert rows_of(led, example_policy, at, ALL) == good == expected_rows(led, example_policy, at, ALL)
