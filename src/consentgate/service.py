"""The consent service: record choices, decide, and show evidence — what the API and CLI share.

It wires the pure parts (policy, intake validation, ``decide``) to the stores (ledger, aliases). The
HTTP app and the CLI are thin shells around it, so both behave the same by construction.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from consentgate.auth import identity
from consentgate.decide import Decision, Query
from consentgate.deciding import BulkDecided, decide_all, resolve_people
from consentgate.errors import MissingExtra, UnknownSubject
from consentgate.ledger.erasure import ErasureKey, suppressed_identifiers
from consentgate.ledger.events import EVENT_STATE, ConsentEvent
from consentgate.ledger.groupcommit import GroupCommitter
from consentgate.ledger.intake import Intake, validate_batch
from consentgate.ledger.store import Ledger, iso
from consentgate.ledger.tcstring import TcfIssuer
from consentgate.policy.models import Policy
from consentgate.store.engine import Connection
from consentgate.store.secrets import erasure_key, find_erasure_key
from consentgate.web.tcf.gvl import gvl_dir, served_lists
from consentgate.web.tcf.used import used_under

EVIDENCE_SCHEMA = "consentgate-evidence/1"


def unknown_subject_message(subject: str, *, also: str = "") -> str:
    """The one way to say that consentgate has nothing under an identifier, and what to check."""
    return (
        f"the ledger knows nothing about {subject!r}: no events, no linked identifiers, no erasure{also}. "
        "Check the identifier; if it is another id of a known person, link it first (`consentgate link`)"
    )


def ledger_knows(ledger: Ledger, subject: str) -> bool:
    """Whether the ledger holds anything under this identifier: an event (its own or a linked
    identifier's), a link, or an erasure. Needs no policy, so ``runs`` can ask it too."""
    ids = identity.person(ledger.engine, subject)
    if len(ids) > 1:
        return True
    key = find_erasure_key(ledger.engine)
    if key is not None and suppressed_identifiers(ledger.engine, key, [subject]):
        return True
    return bool(ledger.events_of(ids))


def _bulk_path() -> Any:
    """pipeline/bulkquery.py, which decides many queries on Arrow columns; None without pyarrow
    (the ``pipeline`` extra), and then every query takes the per-person path, as before."""
    try:
        from consentgate.pipeline import bulkquery
    except (ImportError, MissingExtra):
        return None
    return bulkquery


def preload_bulk_path() -> bool:
    """Import the bulk path (pyarrow and the pipeline) now rather than on the first large batch;
    whether it is there. A server calls this before ``gc.freeze()`` (server/process.py): imported
    later, its ~10^5 module objects stayed in the collector's oldest generation and every full
    collection walked them again, about half of the collector's time per cold batch (1.5 of
    2.9 ms for 1,000 people, docs/benchmarks.md)."""
    return _bulk_path() is not None


def language_note(locale: str) -> str:
    """Evidence for an event recorded without a locale: the stored wording is the policy's default,
    which the person may never have read."""
    return (
        f"language not recorded: this is the policy's {locale!r} wording of that version; "
        "the person may have been shown another language"
    )


@dataclass(frozen=True)
class _StoreReads:
    """What a decision reads (:class:`consentgate.deciding.DecisionReads`), from the stores; over
    ``conn`` when given, one connection for all of a call's reads (see ``ConsentService._decide_all``)."""

    ledger: Ledger
    conn: Connection | None = None

    def people(self, subjects: Collection[str]) -> dict[str, set[str]]:
        return identity.people(self.conn or self.ledger.engine, subjects)

    def suppressed(self, key: ErasureKey, identifiers: Collection[str]) -> set[str]:
        return suppressed_identifiers(self.conn or self.ledger.engine, key, identifiers)

    def events_of(self, identifiers: Collection[str]) -> list[ConsentEvent]:
        return self.ledger.events_of(identifiers, self.conn)


@dataclass
class ConsentService:
    """``committer``: when set (the HTTP service sets one), appends from concurrent callers share
    durable transactions; see :mod:`consentgate.ledger.groupcommit`. ``gvl_directory``: the
    ``tcf_gvl_dir`` setting, where the Global Vendor Lists the service served are kept (TC strings in
    events must name one of them)."""

    policy: Policy
    ledger: Ledger
    committer: GroupCommitter | None = None
    gvl_directory: Path | None = None
    _erasure_key: ErasureKey | None = field(default=None, init=False, repr=False)

    # -- capture -----------------------------------------------------------------------------------

    def record(
        self,
        raws: Iterable[tuple[str, Any]],
        *,
        source: str = "api",
        allow_future: bool = False,
        strict: bool = True,
        erasure: bool = False,
    ) -> list[ConsentEvent]:
        """Validate every event first, then store all of them in one transaction, or none.

        ``strict`` are the rules of live capture (the API, ``record``): a grant names the notice
        version the person saw, and ``erase`` is refused, since only the requests flow, which passes
        ``erasure=True``, suppresses the person and reaches their data. ``strict=False`` is for
        historical imports (docs/ledger.md).
        """
        intake = self._validate(
            raws, source=source, allow_future=allow_future, strict=strict, erasure=erasure
        )
        if self.committer is not None:
            return self.committer.append(intake.events, intake.texts.values())
        return self.ledger.append(intake.events, intake.texts.values())

    def submit(self, raws: Iterable[tuple[str, Any]], *, source: str = "api") -> Future[list[ConsentEvent]]:
        """:meth:`record` (strict, live capture) for an event loop: validates now, in the caller's
        thread (pure, no I/O: intake reads only the policy), raising :class:`EventError` with nothing
        stored; then hands the append to the group committer and returns at once. The future holds
        the stored events once they are durable. Without a committer the append happens here,
        before it returns: an event loop then calls :meth:`record` in a thread instead.

        Why: ``await`` on it wakes the loop straight from the committer's thread. A threadpool thread
        in between (``run_in_threadpool(record)``) is two more thread wake-ups per record, and while a
        browser holds both cores after a click each wake-up waits for a CPU (benchmarks.md).
        """
        intake = self._validate(raws, source=source, allow_future=False, strict=True, erasure=False)
        if self.committer is not None:
            return self.committer.submit(intake.events, intake.texts.values())
        done: Future[list[ConsentEvent]] = Future()
        try:
            done.set_result(self.ledger.append(intake.events, intake.texts.values()))
        except BaseException as exc:  # handed to the caller, who awaits it
            done.set_exception(exc)
        return done

    def _validate(
        self, raws: Iterable[tuple[str, Any]], *, source: str, allow_future: bool, strict: bool, erasure: bool
    ) -> Intake:
        return validate_batch(
            self.policy,
            raws,
            now=datetime.now(UTC),
            default_source=source,
            allow_future=allow_future,
            require_notice_for_grant=strict,
            allow_erase=erasure or not strict,
            tcf=self.tcf_issuer(live=strict),
        )

    def tcf_issuer(self, *, live: bool = True) -> TcfIssuer | None:
        """What this service writes TC strings as, or None when the policy does not enable TCF."""
        tcf = self.policy.web.tcf
        if not tcf.enabled or tcf.cmp_id is None:
            return None
        directory = gvl_dir(self.gvl_directory)
        disclosed = functools.partial(used_under, tcf, directory)
        return TcfIssuer(tcf, served_lists(directory), disclosed, live=live)

    def link(self, alias: str, subject: str, kind: str = "other") -> bool:
        return identity.link(self.ledger.engine, alias, subject, kind, signer=self.ledger.signer)

    # -- decisions ---------------------------------------------------------------------------------

    def decide(
        self, subject: str, purpose: str, at: datetime | None = None, region: str | None = None
    ) -> Decision:
        return self.decide_many([Query(subject, purpose, at or datetime.now(UTC), region)])[0]

    def decide_many(self, queries: Sequence[Query]) -> list[Decision]:
        """Batch decisions: one alias resolution and one event read for all subjects."""
        return [d for d, _ in self._decide_all(queries, holding=False)]

    def decide_many_holding(self, queries: Sequence[Query]) -> list[tuple[Decision, int]]:
        """:meth:`decide_many`, each decision with the last instant (UTC microseconds) it holds unless
        something is recorded (:func:`consentgate.decide.holds_until`): what the HTTP decision cache
        keeps."""
        return self._decide_all(queries, holding=True)

    def _decide_all(self, queries: Sequence[Query], *, holding: bool) -> list[tuple[Decision, int]]:
        bulk = _bulk_path()
        key = self._find_erasure_key()
        # Every read of the call over one connection: aliases, suppressions and events were three
        # pooled checkouts, each a pre-ping and a rollback on PostgreSQL (docs/benchmarks.md, issue
        # 20, branch cold3). They read in one transaction; on PostgreSQL (read committed) each
        # statement still sees every commit made before it, as with three connections.
        with self.ledger.engine.connect() as conn:

            def in_bulk(
                queries: Sequence[Query], at_us: Sequence[int], persons: dict[str, set[str]]
            ) -> BulkDecided:
                decided = bulk.decide_queries(conn, self.policy, queries, at_us, persons)
                return decided.answers, decided.rest

            return decide_all(
                self.policy,
                _StoreReads(self.ledger, conn),
                key,
                queries,
                holding=holding,
                bulk=(in_bulk, bulk.MIN_GROUP) if bulk is not None else None,
            )

    def state(
        self, subject: str, at: datetime | None = None, region: str | None = None
    ) -> dict[str, Decision]:
        when = at or datetime.now(UTC)
        purposes = [p.id for p in self.policy.purposes]
        decisions = self.decide_many([Query(subject, p, when, region) for p in purposes])
        return dict(zip(purposes, decisions, strict=True))

    # -- evidence ----------------------------------------------------------------------------------

    # -- identity ----------------------------------------------------------------------------------

    @property
    def erasure_key(self) -> ErasureKey:
        if self._erasure_key is None:
            self._erasure_key = erasure_key(self.ledger.engine)
        return self._erasure_key

    def _find_erasure_key(self) -> ErasureKey | None:
        if self._erasure_key is None:
            # None until the first erasure anywhere made the key; looked up again until then.
            self._erasure_key = find_erasure_key(self.ledger.engine)
        return self._erasure_key

    def people(self, subjects: Collection[str]) -> dict[str, set[str]]:
        """Each identifier → every identifier of its person, including what an erasure left of them
        (:func:`consentgate.deciding.resolve_people`)."""
        return resolve_people(_StoreReads(self.ledger), self._find_erasure_key(), subjects)

    def person(self, subject: str) -> set[str]:
        return self.people([subject])[subject]

    def knows(self, subject: str) -> bool:
        return ledger_knows(self.ledger, subject)

    def require_known(self, subject: str) -> None:
        """Raise :class:`UnknownSubject` for an identifier :meth:`knows` says nothing about."""
        if not self.knows(subject):
            raise UnknownSubject(unknown_subject_message(subject), subject=subject)

    def history(self, subject: str) -> list[ConsentEvent]:
        ids = self.person(subject)
        return sorted(self.ledger.events_of(ids), key=lambda e: e.order_key)

    def evidence(self, subject: str, at: datetime | None = None) -> dict[str, Any]:
        """Everything needed to prove what this person chose: ISO/IEC TS 27560 field names where they map."""
        ids = self.person(subject)
        events = sorted(self.ledger.events_of(ids), key=lambda e: e.order_key)
        texts = self.ledger.texts({e.wording_hash for e in events if e.wording_hash})
        intact, problem = self.ledger.verify_events(sorted(events, key=lambda e: e.seq))
        head_seq, head_hash = self.ledger.head()
        org = self.policy.organization
        rows = []
        for e in events:
            purpose = self.policy.purpose(e.purpose) if e.purpose else None
            nt = texts.get(e.wording_hash or "")
            notice: dict[str, Any] | None = None
            if e.notice_id is not None:
                notice = {
                    "id": e.notice_id,
                    "version": e.notice_version,
                    "locale": nt.locale if nt else None,
                    "text": nt.text if nt else None,
                    "text_sha256": e.wording_hash,
                }
                if e.locale is None and nt is not None:
                    notice["note"] = language_note(nt.locale)
            rows.append(
                {
                    "event_id": e.event_id,
                    "seq": e.seq,
                    "pii_principal_id": e.subject,
                    "action": e.action.value,
                    "event_state": EVENT_STATE[e.action],
                    "purpose": e.purpose,
                    "purpose_title": purpose.title if purpose else None,
                    "event_time": e.occurred_at.isoformat(),
                    "recorded_at": e.recorded_at.isoformat(),
                    "region": e.region,
                    "language": e.locale,
                    "language_recorded": e.locale is not None,
                    "collection_method": e.source,
                    "withdrawal": e.action.value in ("withdraw", "object", "opt_out", "deny"),
                    "privacy_notice": notice,
                    "signals": dict(e.signals),
                    "prev_hash": e.prev_hash,
                    "hash": e.hash,
                }
            )
        current = self.state(subject, at)
        return {
            "schema_version": EVIDENCE_SCHEMA,
            "generated_at": iso(datetime.now(UTC)),
            "pii_principal_id": subject,
            # False: the ledger holds nothing under this identifier; the decisions below are then the
            # policy's defaults for a stranger, not a record of anything the person chose.
            "known": bool(events) or len(ids) > 1,
            "identifiers": sorted(ids),
            "aliases": identity.aliases_of(self.ledger.engine, ids),
            "pii_controllers": [{"party_name": org.name, "party_contact": org.contact}],
            "withdrawal_method": "the banner's settings link, the privacy center, or POST /v1/consents",
            "events": rows,
            "current": {p: d.to_json() for p, d in current.items()},
            "chain": {
                # null when there is nothing to check: "intact for 0 events" would assure nothing.
                "intact": intact if events else None,
                "checked_events": len(events),
                "problem": problem,
                "head": {"seq": head_seq, "hash": head_hash},
            },
        }
