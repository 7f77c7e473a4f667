"""The service on SQLite and PostgreSQL: record, aliases, decisions, state, evidence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from consentgate.decide import Query
from consentgate.errors import EventError, QueryError
from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.service import ConsentService

AT = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def service(example_policy: Policy, ledger: Ledger) -> ConsentService:
    return ConsentService(example_policy, ledger)


def _ev(subject: str, action: str, when: str, **over: Any) -> tuple[str, dict[str, Any]]:
    raw: dict[str, Any] = {"subject": subject, "action": action, "occurred_at": when, "region": "FR"}
    if action not in ("gpc", "erase"):
        raw["purposes"] = ["train_support_chatbot"]
    if action == "grant":
        raw.update(notice_id="ai-training", notice_version=2, locale="fr")
    raw.update(over)
    return ("", raw)


def test_choice_made_anonymously_follows_the_person_after_login(service: ConsentService) -> None:
    service.record([_ev("cookie-abc", "grant", "2026-07-01T10:00:00+02:00")], strict=False)
    assert not service.decide("acct-42", "train_support_chatbot", AT).allowed
    service.link("cookie-abc", "acct-42", "cookie_id")
    decision = service.decide("acct-42", "train_support_chatbot", AT)
    assert decision.allowed
    # A later withdrawal under the account id also reaches the cookie id.
    service.record([_ev("acct-42", "withdraw", "2026-08-01T10:00:00Z")], strict=False)
    assert not service.decide("cookie-abc", "train_support_chatbot", AT).allowed


def test_aliases_are_transitive(service: ConsentService) -> None:
    service.link("device-1", "acct-1", "device_id")
    service.link("cookie-1", "device-1", "cookie_id")
    service.record([_ev("cookie-1", "grant", "2026-07-01T10:00:00Z")], strict=False)
    assert service.decide("acct-1", "train_support_chatbot", AT).allowed
    assert service.link("device-1", "acct-1", "device_id") is False


def test_late_out_of_order_events_and_point_in_time(service: ConsentService) -> None:
    service.record([_ev("s", "grant", "2026-07-01T10:00:00Z")], strict=False)
    service.record([_ev("s", "withdraw", "2026-09-01T10:00:00Z")], strict=False)
    # Arrives last, happened in between: it does not override the later withdrawal.
    service.record([_ev("s", "grant", "2026-08-01T10:00:00-05:00")], strict=False)
    assert not service.decide("s", "train_support_chatbot", AT).allowed
    assert service.decide("s", "train_support_chatbot", datetime(2026, 8, 15, tzinfo=UTC)).allowed
    assert not service.decide("s", "train_support_chatbot", datetime(2026, 6, 1, tzinfo=UTC)).allowed


def test_a_failing_batch_stores_nothing(service: ConsentService, ledger: Ledger) -> None:
    before = ledger.count()
    with pytest.raises(EventError):
        service.record([_ev("s", "grant", "2026-07-01T10:00:00Z"), _ev("s", "grant", "not a time")])
    assert ledger.count() == before
    with ledger.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM notice_texts")).scalar_one() == 0


def test_batch_decisions_keep_order_and_match_single(service: ConsentService) -> None:
    service.record([_ev(f"s{i}", "grant", "2026-07-01T10:00:00Z") for i in range(0, 10, 2)], strict=False)
    queries = [Query(f"s{i}", p, AT, r) for i in range(10) for p in ("train_support_chatbot", "security")
               for r in (None, "US-CA")]  # fmt: skip
    batch = service.decide_many(queries)
    assert [d.allowed for d in batch] == [
        service.decide(q.subject, q.purpose, q.at, q.region).allowed for q in queries
    ]
    with pytest.raises(QueryError):
        service.decide_many([Query("s0", "unknown_purpose", AT)])


def test_state_covers_every_purpose(service: ConsentService, example_policy: Policy) -> None:
    state = service.state("nobody", AT, "DE")
    assert set(state) == {p.id for p in example_policy.purposes}
    assert state["service_delivery"].allowed
    assert state["service_delivery"].basis == "contract"
    assert not state["train_support_chatbot"].allowed


def test_evidence_holds_exact_wording_zones_and_chain_check(service: ConsentService, ledger: Ledger) -> None:
    service.record([_ev("s", "grant", "2026-07-01T10:00:00+02:00")])
    service.record([_ev("s", "withdraw", "2026-08-01T10:00:00-04:00")])
    service.record([_ev("other", "grant", "2026-07-01T10:00:00Z")])
    ev = service.evidence("s", AT)
    assert [e["action"] for e in ev["events"]] == ["grant", "withdraw"]
    grant = ev["events"][0]
    assert grant["event_time"] == "2026-07-01T10:00:00+02:00"
    assert grant["privacy_notice"]["version"] == "2"
    assert grant["privacy_notice"]["text"].startswith(
        "Utiliser mes conversations avec le support, pièces jointes"
    )
    assert ev["events"][1]["event_time"].endswith("-04:00")
    assert ev["events"][1]["withdrawal"] is True
    assert ev["chain"]["intact"] is True
    assert ev["current"]["train_support_chatbot"]["allowed"] is False
    with ledger.engine.begin() as conn:
        conn.execute(text("UPDATE events SET action = 'grant' WHERE seq = 2"))
    assert service.evidence("s", AT)["chain"]["intact"] is False
