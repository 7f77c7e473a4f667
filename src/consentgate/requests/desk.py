"""The request desk: file, verify, extend, reject and carry out data-subject requests.

What each kind does when it is completed (``complete``):

* ``access`` — builds the access report (:mod:`.report`) and records its digest and what it listed.
* ``object``, ``withdraw``, ``opt_out`` — records one ledger event of that action per purpose (the
  request's purposes, or every AI purpose when it names none), dated when the person asked, with the
  request id in ``signals``. The decision function already honours them, so the next snapshot, filter
  and training-run refresh drop the person.
* ``erase`` — in this order, each step safe to repeat: an ``erase`` event in the ledger (denies every
  purpose from then on); every identifier of the person onto the suppression list (every gate checks
  it, so re-ingested copies never come back); the person's records deleted or anonymised in every
  source that declares a ``store`` (each source all-or-nothing, retried, failures reported and the
  request left ``in_progress`` for a retry); the training runs and exports that used the data noted
  for the team's retraining decision; and last, the person's identifiers in the ledger replaced by
  keyed pseudonyms (:mod:`consentgate.ledger.erasure`) so the chain still verifies.

The identifiers stop being stored at that last step, so a retry after a failed source still knows
whose records to look for.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from consentgate.auth import identity
from consentgate.errors import BadInput, Conflict, Incomplete, NotFound, QueryError
from consentgate.ledger.erasure import is_pseudonym, purge_residue, suppressed_identifiers
from consentgate.ledger.intake import control_chars_problem
from consentgate.requests.adapters import ErasureAdapter, adapters_for
from consentgate.requests.dates import can_extend, due_on, extended_due_on
from consentgate.requests.models import (
    CHOICE_ACTIONS,
    FINAL,
    NEXT,
    DataRequest,
    RequestKind,
    Status,
)
from consentgate.requests.report import access_report
from consentgate.requests.report_locale import ReportLocale
from consentgate.requests.scrub import scrubber, verified_by_method
from consentgate.service import ConsentService
from consentgate.store.requests import RequestStore, forget_identifiers, new_request_id
from consentgate.store.runs import RunRecord, RunStore
from consentgate.store.suppressions import add_suppressions

_WORD = re.compile(r"[a-z][a-z0-9_]{0,31}")


def parse_kind(kind: str | RequestKind) -> RequestKind:
    try:
        return RequestKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in RequestKind)
        raise BadInput(f"unknown request kind {kind!r}; use one of {kinds}") from None


@dataclass
class RequestDesk:
    """``base_dir``: where relative source paths in the policy start (the policy file's folder).
    ``adapters``: erasure adapters by source id (default: one per source declaring a ``store``).
    ``attempts`` and ``backoff``: how often and how patiently a failing source is retried."""

    service: ConsentService
    base_dir: Path = field(default_factory=Path.cwd)
    adapters: Mapping[str, ErasureAdapter] | None = None
    attempts: int = 3
    backoff: float = 0.5
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.store = RequestStore(self.service.ledger.engine)
        if self.adapters is None:
            self.adapters = adapters_for(self.service.policy.sources, self.base_dir)

    @property
    def engine(self) -> Any:
        return self.service.ledger.engine

    # -- filing ------------------------------------------------------------------------------------

    def file(
        self,
        kind: str | RequestKind,
        subject: str,
        *,
        purposes: Sequence[str] = (),
        channel: str = "api",
        verified_by: str | None = None,
        actor: str = "api",
        note: str | None = None,
    ) -> DataRequest:
        """Record a new request; ``verified_by`` names how the requester's identity was established
        (a subject token, an operator's check), else the request waits in ``received``."""
        k = parse_kind(kind)
        _check_subject(subject)
        if not _WORD.fullmatch(channel):
            raise BadInput(
                f"channel {channel!r} must be a short lowercase word such as api, privacy_center, email"
            )
        if verified_by is not None:
            verified_by = verified_by_method(verified_by)
        wanted = self._purposes(k, purposes)
        where = self.locate(subject)
        if not where["known"]:
            raise NotFound(
                "consentgate holds nothing about this subject: no consent events, aliases, training "
                "runs, exports or records in the policy's sources. Check the identifier; if it is an "
                "alias of a known person, link it first (`consentgate link`)"
            )
        stored_subject = self._stored_subject(subject)
        if note and is_pseudonym(stored_subject):  # already erased: nothing of theirs is stored again
            note = scrubber({subject: stored_subject})(note)
        received = self.now()
        req = DataRequest(
            request_id=new_request_id(),
            kind=k,
            subject=stored_subject,
            purposes=tuple(wanted),
            status=Status.VERIFIED if verified_by else Status.RECEIVED,
            channel=channel,
            received_at=received,
            due_on=due_on(k.value, received.astimezone(UTC).date()),
            extended_due_on=None,
            extension_reason=None,
            verified_by=verified_by,
            closed_at=None,
            reason=None,
            attempts=0,
            outcome={},
        )
        self.store.add(req, actor=actor, note=note)
        return self.store.get(req.request_id)

    def _purposes(self, kind: RequestKind, purposes: Sequence[str]) -> list[str]:
        if kind not in CHOICE_ACTIONS:
            if purposes:
                raise BadInput(f"a {kind.value} request covers the whole person; give no purposes")
            return []
        for p in purposes:
            try:
                self.service.policy.require_purpose(p)
            except QueryError as exc:  # the request's input, not a decision query: invalid_input
                raise BadInput(exc.message, purpose=p) from None
        return sorted(set(purposes))

    def ai_purposes(self) -> list[str]:
        return [p.id for p in self.service.policy.purposes if p.is_ai]

    # -- reading -----------------------------------------------------------------------------------

    def get(self, request_id: str) -> DataRequest:
        return self.store.get(request_id)

    def find(
        self,
        *,
        status: Sequence[Status] = (),
        kind: RequestKind | None = None,
        subject: str | None = None,
        overdue: bool = False,
        today: date | None = None,
    ) -> list[DataRequest]:
        """Requests, oldest first; ``overdue``: only open ones whose due date has passed."""
        subjects: list[str] = []
        if subject is not None:
            subjects = sorted(self._all_ids(subject))
        if overdue:
            open_ = [Status.RECEIVED, Status.VERIFIED, Status.IN_PROGRESS]
            status = [s for s in status if s in open_] if status else open_
            return self.store.find(
                status=status, kind=kind, subjects=subjects, due_before=today or self.today()
            )
        return self.store.find(status=status, kind=kind, subjects=subjects)

    def today(self) -> date:
        return self.now().astimezone(UTC).date()

    def requests_of(self, subject: str) -> list[DataRequest]:
        return self.store.find(subjects=sorted(self._all_ids(subject)))

    # -- lifecycle ---------------------------------------------------------------------------------

    def verify(self, request_id: str, *, method: str, actor: str = "operator") -> DataRequest:
        """The requester's identity was established by ``method`` (e.g. "subject_token", "email link")."""
        if not method.strip():
            raise BadInput("say how the identity was verified, e.g. --method 'signed-in account'")
        method = verified_by_method(method)
        req = self.store.get(request_id)
        self._step(req, Status.VERIFIED)
        return self.store.change(
            req, Status.VERIFIED, actor=actor, at=self.now(), note=method, verified_by=method
        )

    def extend(self, request_id: str, *, reason: str, actor: str = "operator") -> DataRequest:
        """Two further months (Art. 12(3)), once, with a reason, decided within the first month."""
        if not reason.strip():
            raise BadInput(
                "an extension needs a reason the person will be told, e.g. --reason 'complex request'"
            )
        req = self.store.get(request_id)
        if not req.is_open:
            raise Conflict(f"{req.request_id} is {req.status.value}; only an open request can be extended")
        if not can_extend(req.kind.value):
            raise Conflict(
                "an opt_out request cannot be extended: it must be honoured within 15 business days"
            )
        if req.extended_due_on is not None:
            raise Conflict(
                f"{req.request_id} was already extended to {req.extended_due_on.isoformat()}; "
                "the law allows one extension of two months"
            )
        if self.today() > req.due_on:
            raise Conflict(
                f"{req.request_id} was due on {req.due_on.isoformat()}: an extension must be decided and "
                "told to the person within the first month"
            )
        return self.store.change(
            req,
            req.status,
            actor=actor,
            at=self.now(),
            note=f"extended: {reason.strip()}",
            extended_due_on=extended_due_on(req.received_at.astimezone(UTC).date()).isoformat(),
            extension_reason=reason.strip(),
        )

    def reject(self, request_id: str, *, reason: str, actor: str = "operator") -> DataRequest:
        if not reason.strip():
            raise BadInput(
                "a rejection needs the reason the person will be told, e.g. --reason 'identity not verified'"
            )
        req = self.store.get(request_id)
        self._step(req, Status.REJECTED)
        return self.store.change(
            req, Status.REJECTED, actor=actor, at=self.now(), note=reason, reason=reason.strip()
        )

    def _step(self, req: DataRequest, to: Status) -> None:
        if to not in NEXT[req.status]:
            if req.status in FINAL:
                raise Conflict(
                    f"{req.request_id} is already {req.status.value}; nothing more can be done with it"
                )
            raise Conflict(f"{req.request_id} is {req.status.value}; it cannot become {to.value}")

    # -- carrying out ------------------------------------------------------------------------------

    def complete(
        self,
        request_id: str,
        *,
        actor: str = "operator",
        subject: str | None = None,
        on_report: Callable[[dict[str, Any]], None] | None = None,
        locale: ReportLocale | None = None,
    ) -> DataRequest:
        """Carry out what the request asks and record the outcome.

        ``subject``: the person's identifier, needed only when the request was filed after they were
        erased (the request then holds a pseudonym, and the raw identifier is needed to find their
        records). ``on_report``: for an access request, receives the report whose digest the outcome
        records (to hand it over as it was, rather than a second one built later), written in
        ``locale`` (default: the policy's default locale)."""
        req = self.store.get(request_id)
        if req.status is Status.RECEIVED:
            raise Conflict(
                f"{req.request_id} is not verified yet: check the requester's identity first "
                f"(`consentgate requests verify {req.request_id} --method …`) or reject it"
            )
        if req.status in FINAL:
            raise Conflict(
                f"{req.request_id} is already {req.status.value}; nothing more can be done with it"
            )
        raw = self._raw_subject(req, subject)
        req = self.store.change(
            req,
            Status.IN_PROGRESS,
            actor=actor,
            at=self.now(),
            note=None if req.attempts == 0 else f"attempt {req.attempts + 1}",
            attempts=req.attempts + 1,
        )
        if req.kind is RequestKind.ACCESS:
            outcome = self._access(raw, on_report, locale)
        elif req.kind is RequestKind.ERASE:
            outcome = self._erase(req, raw, actor=actor)
        else:
            outcome = self._choices(req, raw)
        return self.store.change(
            req, Status.COMPLETED, actor=actor, at=self.now(), outcome=outcome, reason=None
        )

    def _raw_subject(self, req: DataRequest, given: str | None) -> str:
        if not is_pseudonym(req.subject):
            if given is not None and given != req.subject and given not in self._all_ids(req.subject):
                raise BadInput(f"--subject {given!r} is not the subject of {req.request_id}")
            return req.subject
        if given is None:
            raise BadInput(
                f"{req.request_id} is for a person who was erased, so it no longer holds their identifier; "
                "give it again to carry the request out (`--subject ID`)"
            )
        if req.subject not in self.service.person(given):
            raise BadInput(f"--subject {given!r} is not the subject of {req.request_id}")
        return given

    def _access(
        self,
        subject: str,
        on_report: Callable[[dict[str, Any]], None] | None,
        locale: ReportLocale | None,
    ) -> dict[str, Any]:
        report = access_report(self, subject, locale=locale)
        if on_report is not None:
            on_report(report)
        digest = hashlib.sha256(json.dumps(report, sort_keys=True, default=str).encode()).hexdigest()
        return {
            "report_sha256": digest,
            "report_generated_at": report["generated_at"],
            "training_runs": [r["run_id"] for r in report["training_runs"]],
            "vendors": sorted({v["vendor"] for v in report["vendors"]}),
        }

    def _choices(self, req: DataRequest, subject: str) -> dict[str, Any]:
        action = CHOICE_ACTIONS[req.kind]
        purposes = list(req.purposes) or self.ai_purposes()
        if not purposes:
            raise BadInput("the policy declares no AI purposes; name the purposes the request is about")
        done = self._events_of_request(subject, req.request_id)
        raws = [
            (
                f"{req.request_id} {p}",
                {
                    "subject": subject,
                    "action": action,
                    "purposes": [p],
                    "occurred_at": req.received_at.isoformat(),
                    "source": req.channel,
                    "signals": {"request_id": req.request_id},
                },
            )
            for p in purposes
            if p not in done
        ]
        events = self.service.record(raws, source=req.channel) if raws else []
        return {
            "action": action,
            "purposes": purposes,
            "events": sorted([*done.values(), *(e.event_id for e in events)]),
        }

    def _events_of_request(self, subject: str, request_id: str) -> dict[str, str]:
        """Events an earlier attempt of this request already recorded: purpose (or "*") → event id."""
        out: dict[str, str] = {}
        for ev in self.service.history(subject):
            if ev.signals.get("request_id") == request_id:
                out[ev.purpose or "*"] = ev.event_id
        return out

    def _erase(self, req: DataRequest, subject: str, *, actor: str) -> dict[str, Any]:
        key = self.service.erasure_key
        ids = {i for i in identity.person(self.engine, subject) if not is_pseudonym(i)}
        outcome: dict[str, Any] = dict(req.outcome)
        # 1. The erase event: from now on every purpose is denied.
        done = self._events_of_request(subject, req.request_id)
        if "*" in done:
            outcome["erase_event"] = done["*"]
        else:
            raw = {
                "subject": subject,
                "action": "erase",
                "occurred_at": req.received_at.isoformat(),
                "source": req.channel,
                "signals": {"request_id": req.request_id},
            }
            stored = self.service.record([(req.request_id, raw)], source=req.channel, erasure=True)
            outcome["erase_event"] = stored[0].event_id
        # 2. Suppression: every gate drops these identifiers, whatever copy of the data they come in.
        added = add_suppressions(
            self.engine,
            {key.hash(i) for i in ids},
            request_id=req.request_id,
            at=self.now(),
            signer=self.service.ledger.signer,
        )
        outcome["suppressed_identifiers"] = outcome.get("suppressed_identifiers", 0) + added
        # 3. The sources.
        results: dict[str, Any] = dict(outcome.get("sources", {}))
        failed: list[tuple[str, str]] = []
        assert self.adapters is not None
        for sid, adapter in sorted(self.adapters.items()):
            previous = results.get(sid, {})
            try:
                n = self._with_retries(partial(adapter.erase, ids))
            except Exception as exc:
                problem = _describe(exc)
                results[sid] = {"status": "failed", "error": problem, "records": previous.get("records", 0)}
                failed.append((f"sources.{sid}", problem))
                continue
            action = "deleted" if _on_erase(self.service, sid) == "delete" else "anonymised"
            results[sid] = {"status": "done", "action": action, "records": previous.get("records", 0) + n}
        outcome["sources"] = results
        if failed:
            names = ", ".join(w.removeprefix("sources.") for w, _ in failed)
            note = f"could not erase from {names}: {failed[0][1]}"
            self.store.change(
                req, Status.IN_PROGRESS, actor=actor, at=self.now(), note=note, outcome=outcome, reason=note
            )
            raise Incomplete(
                f"{req.request_id}: the erasure could not reach {names} after {self.attempts} attempt(s) "
                f"({failed[0][1]}). Everything else is done and the person is already suppressed in every "
                f"gate; fix the source and run `consentgate requests complete {req.request_id}` again",
                problems=failed,
            )
        # 4. What was already trained on the data: the team decides about retraining or unlearning.
        runs = RunStore(self.engine).used(ids)
        outcome["affected_runs"] = [_run_note(r) for r in runs]
        # 5. Last: the ledger forgets the identifiers (the chain still verifies), and the person's
        # requests their contact data, in the same transaction.
        pseudonyms = {i: key.pseudonym(i) for i in ids}
        scrubbed, counts = forget_identifiers(
            self.engine, key, pseudonyms, scrubber(pseudonyms), self.service.ledger.signer
        )
        outcome["ledger"] = {"pseudonymised": counts, "scrubbed_texts": scrubbed, "key_id": key.key_id}
        outcome["identifiers"] = len(ids)
        # 6. What the database keeps of the old values outside its tables (free pages, the WAL).
        outcome["storage"] = purge_residue(self.engine)
        return outcome

    def _with_retries(self, call: Callable[[], int]) -> int:
        for attempt in range(1, self.attempts + 1):
            try:
                return call()
            except BadInput:
                raise  # a declaration error: retrying cannot help
            except Exception:
                if attempt == self.attempts:
                    raise
                self.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    # -- where a person is known -------------------------------------------------------------------

    def _all_ids(self, subject: str) -> set[str]:
        """The person's identifiers, pseudonyms of erased ones included."""
        ids = self.service.person(subject)
        key = self.service.erasure_key
        return ids | {key.pseudonym(subject)}

    def _stored_subject(self, subject: str) -> str:
        """What a new request stores: the pseudonym for a person who was already erased."""
        key = self.service.erasure_key
        if suppressed_identifiers(self.engine, key, [subject]):
            return key.pseudonym(subject)
        return subject

    def locate(self, subject: str) -> dict[str, Any]:
        """Where consentgate knows this person from; ``known`` is False when nowhere."""
        ids = self.service.person(subject)
        raw = {i for i in ids if not is_pseudonym(i)}
        events = self.service.ledger.count(ids)
        erased = bool(suppressed_identifiers(self.engine, self.service.erasure_key, [subject]))
        runs = RunStore(self.engine).used(raw) if raw else []
        sources: dict[str, int | None] = {}
        assert self.adapters is not None
        for sid, adapter in sorted(self.adapters.items()):
            try:
                sources[sid] = adapter.count(raw)
            except Exception:
                sources[sid] = None
        known = bool(events or len(ids) > 1 or erased or runs or any(sources.values()))
        return {"known": known, "events": events, "identifiers": len(ids), "erased": erased,
                "runs": len(runs), "sources": sources}  # fmt: skip


def _check_subject(subject: str) -> None:
    if not isinstance(subject, str) or not subject or len(subject) > 256:
        raise BadInput("subject must be a non-empty identifier of at most 256 characters")
    if (problem := control_chars_problem(subject)) is not None:
        raise BadInput(f"subject {problem}")
    if is_pseudonym(subject):
        raise BadInput(
            "'erased:…' identifiers are what an erasure leaves behind; file requests with the person's own id"
        )


def _on_erase(service: ConsentService, source_id: str) -> str:
    src = next((s for s in service.policy.sources if s.id == source_id), None)
    return "delete" if src is None or src.store is None else src.store.on_erase.value


def _describe(exc: BaseException) -> str:
    """A failure in one line, without SQL parameters (they would hold the identifiers)."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


_ACTIONS = {
    "training": "retraining or unlearning decision by the team: the model was trained on this data "
    "and has not forgotten it",
    # A filtered file made before the erasure still holds the records; later filters drop them.
    "filter": "delete or re-filter the dataset file this run wrote: it still holds the person's records",
}


def _run_note(r: RunRecord) -> dict[str, Any]:
    return {
        "run_id": r.run_id,
        "kind": r.kind,
        "purpose": r.purpose,
        "model": r.model,
        "vendor": r.vendor,
        "started_at": r.started_at.isoformat(),
        "finished_at": None if r.finished_at is None else r.finished_at.isoformat(),
        "status": r.status,
        "action_needed": _ACTIONS.get(r.kind, "ask the vendor to delete what it received"),
    }
