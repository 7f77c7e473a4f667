"""Batches of decision queries are decided on Arrow columns (pipeline/bulkquery.py) where they can
be; the pure function stays the definition. On random ledgers, on both databases, every answer of
``ConsentService.decide_many_holding`` must be ``decide``'s for the person's events gathered here from
the links, and every "holds until" must be an instant at which ``decide`` still gives that answer.
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentgate import service as service_module
from consentgate.decide import _FOREVER, Decision, Query, decide
from consentgate.ledger.db import list_param, prefer_index_scans
from consentgate.ledger.erasure import pseudonymise, suppress
from consentgate.ledger.events import Action, NewEvent
from consentgate.ledger.store import Ledger
from consentgate.pipeline import bulkquery
from consentgate.policy import Policy
from consentgate.policy.models import to_micros
from consentgate.service import ConsentService
from consentgate.store.secrets import erasure_key
from consentgate.store.snapshots import event_columns_of, events_of_sql
from tests.pipeline.test_snapshot_bulk import (
    ALIASES,
    AT_CHOICES,
    IDS,
    PURPOSES,
    _random_event,
    events,
    fill,
    links_strategy,
    persons,
    policy,
)


@pytest.fixture
def service(ledger_url: str) -> Iterator[ConsentService]:
    ledger = Ledger.open(ledger_url)
    try:
        yield ConsentService(policy(), ledger)
    finally:
        ledger.close()


def _used(decision: Decision) -> tuple[Any, ...]:
    return (decision.allowed, decision.basis, decision.region, decision.reason, decision.evidence_event)


def check(
    service: ConsentService, queries: Sequence[Query], suppressed: dict[str, str] | None = None
) -> None:
    """Each answer is the pure function's, and still is at the last instant it claims to hold.
    ``suppressed``: identifiers on the suppression list → their pseudonyms; such an identifier is also
    the person its pseudonym is (the erase event filed under it denies every purpose)."""
    pol: Policy = service.policy
    group = persons(service.ledger)
    for raw, pseudonym in (suppressed or {}).items():
        group[raw] = group.get(raw, {raw}) | group.get(pseudonym, {pseudonym})
    by_subject: dict[str, list[Any]] = {}
    for ev in service.ledger.iter_events():
        by_subject.setdefault(ev.subject, []).append(ev)
    answers = service.decide_many_holding(queries)
    assert len(answers) == len(queries)
    for q, (got, holds) in zip(queries, answers, strict=True):
        evs = [e for m in group.get(q.subject, {q.subject}) for e in by_subject.get(m, ())]
        expected = decide(pol, evs, q.subject, q.purpose, q.at, q.region)
        assert _used(got) == _used(expected), q
        at_us = to_micros(q.at)
        assert holds >= at_us, q
        for instant in _turning_points(pol, evs, q.purpose, at_us, holds):
            later = q.at + timedelta(microseconds=instant - at_us)
            again = decide(pol, evs, q.subject, q.purpose, later, q.region)
            assert _used(again) == _used(expected), (q, later)
    assert [_used(d) for d in service.decide_many(queries)] == [_used(d) for d, _ in answers]


def _turning_points(pol: Policy, evs: Sequence[Any], purpose: str, at_us: int, holds: int) -> list[int]:
    """The instants in (at, holds] where a decision can change without a write — an event coming
    due, a notice version taking effect, a grant reaching ``max_age_days`` — and ``holds`` itself:
    the answer must be the same at each of them for the span to be right."""
    points = {e.occurred_us for e in evs}
    points |= {to_micros(v.effective_from) for n in pol.notices for v in n.versions}
    age = pol.require_purpose(purpose).max_age_days
    if age is not None:
        points |= {e.occurred_us + age * 86_400_000_000 + d for e in evs for d in (0, 1)}
    if holds < _FOREVER:
        points.add(holds)
    return sorted(p for p in points if at_us < p <= holds)


def _tagged(tag: str, name: str) -> str:
    return f"{tag}-{name}"


def _examples(n: int) -> Any:
    """Hypothesis settings for examples that share one ledger per database (the service fixture)."""
    return settings(
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


@_examples(40)
@given(
    evs=st.lists(events(), max_size=14),
    links=links_strategy,
    at=st.sampled_from(AT_CHOICES),
    regions=st.lists(st.sampled_from([None, None, None, "DE", "US-CA", "JP"]), min_size=1, max_size=4),
)
def test_batches_are_the_pure_function_on_random_ledgers(
    service: ConsentService,
    monkeypatch: pytest.MonkeyPatch,
    evs: list[NewEvent],
    links: dict[str, str],
    at: datetime,
    regions: list[str | None],
) -> None:
    """Every example on its own identifiers (one ledger per database for all of them); every group
    of queries goes the bulk way (the size threshold lowered), except what it leaves to the pure path."""
    monkeypatch.setattr(bulkquery, "MIN_GROUP", 1)
    tag = uuid.uuid4().hex[:8]
    fill(
        service.ledger,
        [replace(e, subject=_tagged(tag, e.subject)) for e in evs],
        {_tagged(tag, a): _tagged(tag, s) for a, s in links.items()},
    )
    asked = [_tagged(tag, i) for i in (*IDS, *ALIASES, "nobody")]
    queries = [
        Query(subject, purpose, at, regions[n % len(regions)])
        for n, (subject, purpose) in enumerate((s, p) for s in asked for p in PURPOSES)
    ]
    queries += [Query(asked[0], PURPOSES[0], at - timedelta(days=40))]  # a second instant
    check(service, queries)


def _random_people(service: ConsentService, rnd: random.Random, people: int, events: int) -> list[str]:
    """``people`` identifiers with ``events`` random events among them, appended 100 at a time."""
    names = [f"user-{i:04d}@example.com" for i in range(people)]
    drawn = [_random_event(rnd, names) for _ in range(events)]
    for start in range(0, len(drawn), 100):
        service.ledger.append(drawn[start : start + 100])
    return names


def test_a_large_batch_with_an_erasure_takes_the_bulk_path_and_stays_exact(
    service: ConsentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of people, links (chains too), one person erased for real, asked at several instants
    (groups of 316 queries, the threshold lowered below that); the bulk path answers most of it,
    and the rest is exact too."""
    monkeypatch.setattr(bulkquery, "MIN_GROUP", 100)
    rnd = random.Random(7)
    names = _random_people(service, rnd, 250, 700)
    links = {f"cookie-{i:03d}": rnd.choice(names) for i in range(50)}
    links.update({f"device-{i:03d}": f"cookie-{rnd.randrange(50):03d}" for i in range(15)})
    fill(service.ledger, [], links)
    with service.ledger.engine.begin() as conn:
        pseudonymise(conn, erasure_key(service.ledger.engine), {names[0], "cookie-000"})
    asked = [*names, *links, "never-seen@example.com"]
    queries = [Query(s, p, at) for at in AT_CHOICES[1:3] for p in PURPOSES for s in asked]
    queries += [Query(s, "chat", AT_CHOICES[2], "US-CA") for s in asked[:30]]  # the query's region
    bulk_answers = bulkquery.decide_queries(
        service.ledger.engine,
        service.policy,
        queries,
        [to_micros(q.at) for q in queries],
        service.people({q.subject for q in queries}),
    )
    assert len(bulk_answers.answers) > len(queries) * 0.8  # the bulk path did answer most of it
    assert {i for i, q in enumerate(queries) if q.region is not None} <= set(bulk_answers.rest)
    check(service, queries)


def test_a_non_empty_suppression_list_keeps_the_erased_denied_in_a_large_batch(
    service: ConsentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Erased as the requests flow erases (the identifiers' hashes on the suppression list, the
    ledger pseudonymised), then choices recorded again under an erased id and its cookie: a batch
    asking about them, their other alias and hundreds of others is still the pure function's, on
    the bulk path for everyone the list does not name."""
    monkeypatch.setattr(bulkquery, "MIN_GROUP", 100)
    names = _random_people(service, random.Random(11), 200, 400)
    fill(service.ledger, [], {"cookie-a": names[0], "device-a": "cookie-a", "cookie-b": names[1]})
    service.ledger.append([NewEvent(names[0], Action.ERASE, AT_CHOICES[0] - timedelta(days=3))])
    key = erasure_key(service.ledger.engine)
    erased = {names[0], "cookie-a", "device-a"}
    with service.ledger.engine.begin() as conn:
        suppress(conn, [key.hash(x) for x in erased], request_id=None, at=AT_CHOICES[0])
        pseudonymise(conn, key, erased)
    when = AT_CHOICES[0] - timedelta(days=1)
    service.ledger.append(
        [
            NewEvent(x, Action.GRANT, when, purpose="chat", notice_id="ai", notice_version="4", region="DE")
            for x in erased
        ]
    )
    asked = [*names, "cookie-a", "device-a", "cookie-b", "never-seen@example.com"]
    queries = [Query(s, p, at) for at in AT_CHOICES[1:3] for p in PURPOSES for s in asked]
    people = service.people({q.subject for q in queries})
    assert all(any(i.startswith("erased:") for i in people[x]) for x in erased)
    bulk_answers = bulkquery.decide_queries(
        service.ledger.engine, service.policy, queries, [to_micros(q.at) for q in queries], people
    )
    assert len(bulk_answers.answers) > len(queries) * 0.8
    assert {i for i, q in enumerate(queries) if q.subject in erased} <= set(bulk_answers.rest)
    check(service, queries, {x: key.pseudonym(x) for x in erased})
    assert not any(
        d.allowed for q, d in zip(queries, service.decide_many(queries), strict=True) if q.subject in erased
    )


def test_without_enough_queries_for_a_group_every_query_takes_the_pure_path(service: ConsentService) -> None:
    at = AT_CHOICES[2]
    service.ledger.append([NewEvent("ann", Action.DENY, at - timedelta(days=1), purpose="chat", region="DE")])
    queries = [Query("ann", "chat", at), Query("ben", "chat", at)]
    at_us = [to_micros(at)] * 2
    left = bulkquery.decide_queries(service.ledger.engine, service.policy, queries, at_us, {})
    assert left.answers == {}
    assert left.rest == [0, 1]
    check(service, queries)


def test_without_pyarrow_a_large_batch_is_decided_one_person_at_a_time(
    service: ConsentService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server needs no ``pipeline`` extra: then ``_bulk_path`` finds no Arrow, and a batch over
    the threshold still gets every answer, from the per-person path."""
    at = AT_CHOICES[2]
    service.ledger.append(
        [
            NewEvent(f"p{i}", Action.DENY, at - timedelta(days=1), purpose="chat", region="US")
            for i in range(50)
        ]
    )
    for name in [
        m for m in sys.modules if m == "consentgate.pipeline" or m.startswith("consentgate.pipeline.")
    ]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert service_module._bulk_path() is None
    queries = [Query(f"p{i % 60}", "chat", at) for i in range(bulkquery.MIN_GROUP + 10)]
    check(service, queries)


# Identifiers the PostgreSQL array literal must quote or escape (ledger/db.list_param), and text drawn
# freely besides: the lists of identifiers travel as one text parameter on PostgreSQL.
_AWKWARD = ['a"b', "c\\d", '\\"', "{x,y}", "NULL", " sp ", "é-ß-漢", "'q'", ",", "}", "a b"]
_identifier = st.sampled_from(_AWKWARD) | st.text(
    st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=12
)


@_examples(25)
@given(
    evs=st.lists(events(), max_size=10),
    links=links_strategy,
    names=st.lists(_identifier, min_size=len(set(IDS) | set(ALIASES)), max_size=8, unique=True),
    at=st.sampled_from(AT_CHOICES),
)
def test_batches_about_identifiers_that_need_quoting_are_the_pure_function(
    service: ConsentService,
    monkeypatch: pytest.MonkeyPatch,
    evs: list[NewEvent],
    links: dict[str, str],
    names: list[str],
    at: datetime,
) -> None:
    """Quotes, backslashes, commas, braces, spaces, "NULL" and non-ASCII letters in identifiers: the
    alias and event reads of a batch find exactly their rows (the bulk path and the pure path)."""
    monkeypatch.setattr(bulkquery, "MIN_GROUP", 1)
    tag = uuid.uuid4().hex[:8]
    name = {x: _tagged(tag, n) for x, n in zip(sorted(set(IDS) | set(ALIASES)), names, strict=False)}
    fill(
        service.ledger,
        [replace(e, subject=name[e.subject]) for e in evs],
        {name[a]: name[s] for a, s in links.items()},
    )
    asked = [*name.values(), _tagged(tag, "nobody")]
    check(service, [Query(s, p, at) for s in asked for p in PURPOSES])


@pytest.mark.postgres
def test_the_batch_event_read_uses_the_index_before_postgresql_analyzed_the_table(pg_url: str) -> None:
    """A ledger just filled (autovacuum has not analyzed it; here it never will): the planner's
    default guess scans the whole table for 1,000 identifiers. The batch read asks for the index."""
    ledger = Ledger.open(pg_url)
    try:
        with ledger.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE events SET (autovacuum_enabled = false)")
        when = AT_CHOICES[0]
        for start in range(0, 3000, 500):
            ledger.append(
                [
                    NewEvent(f"p{i:05d}@example.com", Action.GRANT, when, purpose="chat", region="DE")
                    for i in range(start, start + 500)
                ]
            )
        params = {
            "p": "chat",
            "ids": list_param("postgresql", [f"p{i:05d}@example.com" for i in range(1000)]),
        }

        def plan(index_first: bool) -> str:
            with ledger.engine.connect() as conn:
                if index_first:
                    prefer_index_scans(conn)
                rows = conn.exec_driver_sql("EXPLAIN " + events_of_sql("postgresql"), params)
                return "\n".join(str(r[0]) for r in rows)

        assert "Seq Scan on events" in plan(index_first=False)  # the hazard, on this ledger
        chosen = plan(index_first=True)
        assert "Seq Scan" not in chosen, chosen
        assert "ix_events_subject" in chosen, chosen
        table = event_columns_of(ledger.engine, "chat", [f"p{i:05d}@example.com" for i in range(0, 3000, 3)])
        assert sorted(table.column("subject").to_pylist()) == [
            f"p{i:05d}@example.com" for i in range(0, 3000, 3)
        ]
    finally:
        ledger.close()
