"""The request lifecycle, due dates in use, and bad input: unknown subjects, duplicates, wrong steps."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from consentgate.errors import BadInput, Conflict, NotFound
from consentgate.requests import RequestDesk, RequestKind, Status

from .conftest import Clock


def test_file_verify_complete_with_a_log_of_every_step(desk: RequestDesk, clock: Clock) -> None:
    req = desk.file("access", "ann", verified_by=None, actor="cli")
    assert req.status is Status.RECEIVED
    assert req.request_id.startswith("req-")
    assert req.due == date(2026, 4, 10)
    clock.when += timedelta(hours=2)
    req = desk.verify(req.request_id, method="signed-in account")
    assert (req.status, req.verified_by) == (Status.VERIFIED, "signed-in account")
    done = desk.complete(req.request_id)
    assert done.status is Status.COMPLETED
    assert done.closed_at == clock.when
    assert [e.status for e in done.log] == [
        Status.RECEIVED, Status.VERIFIED, Status.IN_PROGRESS, Status.COMPLETED,
    ]  # fmt: skip
    assert len(done.outcome["report_sha256"]) == 64
    # Final means final.
    with pytest.raises(Conflict, match="already completed"):
        desk.complete(req.request_id)
    with pytest.raises(Conflict, match="already completed"):
        desk.reject(req.request_id, reason="too late")


def test_an_unverified_request_cannot_be_carried_out(desk: RequestDesk) -> None:
    req = desk.file("erase", "ann")
    with pytest.raises(Conflict, match="not verified yet"):
        desk.complete(req.request_id)
    assert desk.get(req.request_id).status is Status.RECEIVED
    assert desk.service.decide("ann", "train_chat").allowed  # nothing was done


def test_rejection_needs_a_reason_and_closes_the_request(desk: RequestDesk) -> None:
    req = desk.file("erase", "bob")
    with pytest.raises(BadInput, match="needs the reason"):
        desk.reject(req.request_id, reason="  ")
    out = desk.reject(req.request_id, reason="identity could not be verified")
    assert (out.status, out.reason) == (Status.REJECTED, "identity could not be verified")
    # Closed requests no longer block a new one of the same kind.
    assert desk.file("erase", "bob").status is Status.RECEIVED


def test_a_second_open_request_of_the_same_kind_is_refused(desk: RequestDesk) -> None:
    first = desk.file("erase", "ann", verified_by="operator")
    with pytest.raises(Conflict, match=f"{first.request_id} is already an open erase request"):
        desk.file("erase", "ann", verified_by="operator")
    # Through an alias it is the same person, but the open-request key is per identifier as filed;
    # another kind is a different request.
    assert desk.file("access", "ann").kind is RequestKind.ACCESS


def test_unknown_subjects_and_bad_fields_are_refused_and_nothing_is_stored(desk: RequestDesk) -> None:
    with pytest.raises(NotFound, match="holds nothing about this subject"):
        desk.file("access", "nobody-we-know")
    with pytest.raises(BadInput, match="unknown request kind 'forget'"):
        desk.file("forget", "ann")
    with pytest.raises(BadInput, match="unknown purpose"):
        desk.file("object", "ann", purposes=["train_chat", "nope"])
    with pytest.raises(BadInput, match="give no purposes"):
        desk.file("erase", "ann", purposes=["train_chat"])
    with pytest.raises(BadInput, match="control"):
        desk.file("access", "ann\x00")
    with pytest.raises(BadInput, match="erasure leaves behind"):
        desk.file("access", "erased:abc")
    with pytest.raises(BadInput, match="channel"):
        desk.file("access", "ann", channel="Email Inbox")
    with pytest.raises(NotFound, match="no request 'req-0000'"):
        desk.get("req-0000")
    assert desk.find() == []


def test_someone_known_only_from_a_source_can_file(desk: RequestDesk) -> None:
    # cat never used the banner, but her chats are in the Parquet source.
    assert desk.locate("cat")["sources"]["chats"] == 1
    assert desk.file("access", "cat").status is Status.RECEIVED


def test_extension_once_with_a_reason_within_the_first_month(desk: RequestDesk, clock: Clock) -> None:
    req = desk.file("access", "ann", verified_by="operator")
    with pytest.raises(BadInput, match="needs a reason"):
        desk.extend(req.request_id, reason="")
    clock.when += timedelta(days=20)
    out = desk.extend(req.request_id, reason="records in many systems")
    assert out.due == date(2026, 6, 10)
    assert out.status is Status.VERIFIED
    assert out.log[-1].note == "extended: records in many systems"
    with pytest.raises(Conflict, match="already extended"):
        desk.extend(req.request_id, reason="again")
    late = desk.file("erase", "bob", verified_by="operator")
    clock.when += timedelta(days=40)
    with pytest.raises(Conflict, match="within the first month"):
        desk.extend(late.request_id, reason="too late")
    opt = desk.file("opt_out", "bob", verified_by="operator")
    with pytest.raises(Conflict, match="15 business days"):
        desk.extend(opt.request_id, reason="busy")


def test_the_overdue_list(desk: RequestDesk, clock: Clock) -> None:
    a = desk.file("access", "ann", verified_by="operator")  # due 10 April
    clock.when += timedelta(minutes=1)
    b = desk.file("erase", "bob")  # due 10 April, never verified
    c = desk.file("access", "bob", verified_by="operator")
    desk.complete(c.request_id)
    assert desk.find(overdue=True, today=date(2026, 4, 10)) == []  # due today is not overdue
    late = desk.find(overdue=True, today=date(2026, 4, 11))
    assert [r.request_id for r in late] == [a.request_id, b.request_id]
    assert all(r.overdue(date(2026, 4, 11)) for r in late)
    clock.when += timedelta(days=5)
    desk.extend(a.request_id, reason="complex")
    assert [r.request_id for r in desk.find(overdue=True, today=date(2026, 4, 11))] == [b.request_id]
    assert desk.find(kind=RequestKind.ERASE, subject="bob")[0].request_id == b.request_id


def test_objection_covers_every_ai_purpose_when_none_is_named(desk: RequestDesk) -> None:
    svc = desk.service
    assert svc.decide("ann", "tune_ranker").allowed  # legitimate interest, no objection yet
    req = desk.complete(desk.file("object", "ann", verified_by="operator").request_id)
    assert sorted(req.outcome["purposes"]) == ["train_chat", "tune_ranker"]
    assert not svc.decide("ann", "train_chat").allowed
    assert not svc.decide("ann", "tune_ranker").allowed
    assert svc.decide("ann", "analytics").allowed  # not an AI purpose: untouched
    # The events carry the request id, dated when the person asked.
    mine = [e for e in svc.history("ann") if e.signals.get("request_id") == req.request_id]
    assert {e.action.value for e in mine} == {"object"}
    assert all(e.occurred_at == req.received_at for e in mine)
    # Through the alias: the same person.
    assert not svc.decide("c-ann", "train_chat").allowed


def test_withdrawal_of_named_purposes_only(desk: RequestDesk) -> None:
    req = desk.complete(
        desk.file("withdraw", "ann", purposes=["analytics"], verified_by="operator").request_id
    )
    assert req.outcome["action"] == "withdraw"
    assert not desk.service.decide("ann", "analytics").allowed
    assert desk.service.decide("ann", "train_chat").allowed


def test_a_retried_choice_request_does_not_record_twice(desk: RequestDesk) -> None:
    req = desk.file("opt_out", "bob", verified_by="operator")
    first = desk._choices(req, "bob")
    again = desk._choices(req, "bob")
    assert first["events"] == again["events"]
    assert len([e for e in desk.service.history("bob") if e.signals.get("request_id")]) == 2


def test_two_operators_cannot_carry_out_one_request_at_once(desk: RequestDesk) -> None:
    req = desk.file("erase", "bob", verified_by="operator")
    # Both read it as verified; the first moves it on, the second finds it changed.
    desk.store.change(req, Status.IN_PROGRESS, actor="op-1", at=desk.now(), attempts=1)
    with pytest.raises(Conflict, match="changed while this step ran"):
        desk.store.change(req, Status.IN_PROGRESS, actor="op-2", at=desk.now(), attempts=1)
    running = desk.get(req.request_id)
    desk.store.change(running, Status.IN_PROGRESS, actor="op-1", at=desk.now(), attempts=2)
    with pytest.raises(Conflict, match="changed while this step ran"):
        desk.store.change(running, Status.IN_PROGRESS, actor="op-2", at=desk.now(), attempts=2)
    assert [e.actor for e in desk.get(req.request_id).log][-2:] == ["op-1", "op-1"]


def test_the_report_handed_over_is_the_one_whose_digest_is_recorded(desk: RequestDesk) -> None:
    import hashlib
    import json

    handed: list[dict[str, object]] = []
    done = desk.complete(
        desk.file("access", "ann", verified_by="operator").request_id, on_report=handed.append
    )
    (report,) = handed
    digest = hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()
    assert done.outcome["report_sha256"] == digest
    assert done.outcome["report_generated_at"] == report["generated_at"]
