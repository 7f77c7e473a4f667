"""Concurrent writers against real servers, a book of what was acknowledged, and ledger checks.

Every request carries submissions whose subjects are unique (``<request id>.<n>``), so whatever ends
up in the ledger can be traced to the request and submission it came from — including requests that
were in flight when the server died and whose answer never arrived.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from consentgate.ledger.chain import GENESIS
from consentgate.ledger.store import Ledger
from tests.support.servers import client

# Purposes of the example policy and the notice versions a grant may cite.
NOTICED = {
    "train_support_chatbot": ("1", "2"),
    "finetune_recommender": ("1", "2"),
    "product_analytics": ("1",),
    "personalisation": ("1",),
    "marketing": ("1",),
}
UNNOTICED = ("security", "service_delivery")
NEGATIVE = ("deny", "withdraw", "object", "opt_out")
REGIONS = ("DE", "FR", "IE", "GB", "US-CA", "US", "BR", "JP")
LOCALES = ("en", "de", "fr", "es")


@dataclass(frozen=True)
class Sent:
    """One request as sent: its submissions as ``(subject, purposes)``, in request order."""

    request_id: str
    batch: bool
    submissions: tuple[tuple[str, tuple[str, ...]], ...]
    server: str

    @property
    def events(self) -> int:
        return sum(len(p) for _, p in self.submissions)


@dataclass(frozen=True)
class Acked:
    """One event the server acknowledged (201), as its receipt described it."""

    event_id: str
    seq: int
    hash: str
    subject: str
    purpose: str | None
    action: str
    request_id: str
    server: str


def _choice(rng: random.Random, purpose: str) -> dict[str, Any]:
    if purpose in NOTICED and rng.random() < 0.5:
        return {"purpose": purpose, "action": "grant", "notice_version": rng.choice(NOTICED[purpose])}
    return {"purpose": purpose, "action": rng.choice(NEGATIVE)}


def _submission(rng: random.Random, subject: str, most: int) -> dict[str, Any]:
    purposes = rng.sample([*NOTICED, *UNNOTICED], rng.randint(1, most))
    return {
        "subject": subject,
        "occurred_at": (datetime.now(UTC) - timedelta(seconds=rng.randint(0, 3600))).isoformat(),
        "region": rng.choice(REGIONS),
        "locale": rng.choice(LOCALES),
        "source": rng.choice(("banner", "toggle", "api")),
        "choices": [_choice(rng, p) for p in purposes],
    }


def make_request(rng: random.Random, request_id: str, server: str, batch: bool) -> tuple[str, Any, Sent]:
    """``(path, JSON body, Sent)``: one submission of 1 to 4 choices, or a batch of 2 to 6 submissions."""
    count = rng.randint(2, 6) if batch else 1
    subs = [_submission(rng, f"{request_id}.{i}", 3 if batch else 4) for i in range(count)]
    sent = Sent(
        request_id,
        batch,
        tuple((s["subject"], tuple(c["purpose"] for c in s["choices"])) for s in subs),
        server,
    )
    if batch:
        return "/v1/consents/batch", {"submissions": subs}, sent
    return "/v1/consents", subs[0], sent


@dataclass
class Book:
    """Thread-safe record of every request sent and every event acknowledged."""

    sent: dict[str, Sent] = field(default_factory=dict)
    acked: dict[str, Acked] = field(default_factory=dict)
    acked_requests: set[str] = field(default_factory=set)
    outcomes: Counter[str] = field(default_factory=Counter)
    bad_answers: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def will_send(self, sent: Sent) -> None:
        with self._lock:
            self.sent[sent.request_id] = sent

    def outcome(self, what: str) -> None:
        with self._lock:
            self.outcomes[what] += 1

    def answer(self, sent: Sent, response: httpx.Response) -> None:
        """Book a 201: each receipt event belongs to the submission and choice in the same position."""
        body = response.json()
        groups = [g["events"] for g in body["submissions"]] if sent.batch else [body["events"]]
        problems = []
        if len(groups) != len(sent.submissions):
            problems.append(f"{len(groups)} receipt groups for {len(sent.submissions)} submissions")
        acks = []
        for (subject, purposes), events in zip(sent.submissions, groups, strict=False):
            if [e["purpose"] for e in events] != list(purposes):
                problems.append(f"{subject}: receipt purposes {[e['purpose'] for e in events]} != {purposes}")
            for e in events:
                acks.append(
                    Acked(
                        e["event_id"],
                        e["seq"],
                        e["hash"],
                        subject,
                        e["purpose"],
                        e["action"],
                        sent.request_id,
                        sent.server,
                    )
                )
        with self._lock:
            self.outcomes["201"] += 1
            self.acked_requests.add(sent.request_id)
            for a in acks:
                self.acked[a.event_id] = a
            self.bad_answers.extend(f"{sent.request_id}: {p}" for p in problems)

    def bad(self, sent: Sent, response: httpx.Response) -> None:
        with self._lock:
            self.outcomes[str(response.status_code)] += 1
            self.bad_answers.append(f"{sent.request_id}: {response.status_code} {response.text[:500]}")

    def ack_count(self) -> int:
        with self._lock:
            return len(self.acked)

    def wait_beyond(self, count: int, timeout: float, what: str) -> None:
        """Until more than ``count`` events are acknowledged."""
        wait_for(lambda: self.ack_count() > count, timeout, what)


class Writer(threading.Thread):
    """Posts single and batch submissions to one server until told to stop (or ``limit`` requests).

    Connection errors and 5xx/429 answers are expected around a crash: the request is then neither
    acknowledged nor known to have failed. Any other answer is a bug in the test or the server and is
    booked in ``Book.bad_answers``.
    """

    def __init__(
        self,
        name: str,
        base_url: str,
        key: str,
        book: Book,
        stop: threading.Event,
        *,
        seed: int,
        batch_share: float = 0.3,
        limit: int | None = None,
        server: str = "",
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.base_url, self.key, self.book, self.stop = base_url, key, book, stop
        self.rng = random.Random(seed)
        self.batch_share, self.limit, self.server = batch_share, limit, server or base_url
        self.requests = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with client(self.base_url, self.key, timeout=60.0) as c:
                while not self.stop.is_set() and (self.limit is None or self.requests < self.limit):
                    self._one(c)
        except BaseException as exc:  # surfaced by the test through .error
            self.error = exc

    def _one(self, c: httpx.Client) -> None:
        request_id = f"{self.name}-{self.requests:05d}"
        self.requests += 1
        batch = self.rng.random() < self.batch_share
        path, body, sent = make_request(self.rng, request_id, self.server, batch)
        self.book.will_send(sent)
        try:
            response = c.post(path, json=body)
        except httpx.TransportError as exc:
            self.book.outcome(type(exc).__name__)
            self.stop.wait(0.02)  # the server is gone; the test kills and restarts it
            return
        if response.status_code == 201:
            self.book.answer(sent, response)
        elif response.status_code in (429, 500, 502, 503, 504):
            self.book.outcome(str(response.status_code))
            self.stop.wait(0.02)
        else:
            self.book.bad(sent, response)


def stop_writers(writers: Sequence[Writer], stop: threading.Event, timeout: float = 120.0) -> None:
    stop.set()
    deadline = time.monotonic() + timeout
    for w in writers:
        w.join(max(0.1, deadline - time.monotonic()))
    stuck = [w.name for w in writers if w.is_alive()]
    if stuck:
        raise AssertionError(f"writers still running {timeout:.0f} s after stop: {stuck}")
    errors = {w.name: w.error for w in writers if w.error is not None}
    if errors:
        raise AssertionError(f"writer threads crashed: {errors!r}")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.01)


# -- checking the ledger against the book -----------------------------------------------------------


@dataclass
class Stored:
    seq: int
    event_id: str
    hash: str
    subject: str
    purpose: str | None
    action: str


@dataclass
class LedgerView:
    """What is stored, read incrementally (the chain only grows), with the chain links checked."""

    url: str
    head_seq: int = 0
    head_hash: str = GENESIS
    by_id: dict[str, Stored] = field(default_factory=dict)
    by_subject: dict[str, list[Stored]] = field(default_factory=lambda: defaultdict(list))

    def refresh(self) -> list[str]:
        """Read the events after the last one seen; problems with their seqs or links, if any."""
        problems: list[str] = []
        with Ledger.open(self.url, migrate_schema=False) as ledger:
            for ev in ledger.iter_events(after_seq=self.head_seq):
                if ev.seq != self.head_seq + 1:
                    problems.append(f"gap: seq {ev.seq} follows seq {self.head_seq}")
                if ev.prev_hash != self.head_hash:
                    problems.append(f"fork: seq {ev.seq} does not link to the hash of seq {self.head_seq}")
                row = Stored(ev.seq, ev.event_id, ev.hash, ev.subject, ev.purpose, ev.action.value)
                self.by_id[ev.event_id] = row
                self.by_subject[ev.subject].append(row)
                self.head_seq, self.head_hash = ev.seq, ev.hash
            seq, digest = ledger.head()
        if (seq, digest) != (self.head_seq, self.head_hash):
            problems.append(
                f"ledger_head says seq {seq} {digest[:12]}…, the chain ends at seq {self.head_seq} "
                f"{self.head_hash[:12]}…"
            )
        return problems


@dataclass
class Findings:
    problems: list[str]
    acked_events: int
    acked_requests: int
    unanswered: int  # requests sent without a 201 (in flight at a crash, refused, …)
    unanswered_stored: int  # of those, how many were stored anyway (all of their events)

    def raise_if_any(self, context: str) -> None:
        if self.problems:
            shown = "\n  ".join(self.problems[:30])
            more = f"\n  … and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
            raise AssertionError(f"{context}: {len(self.problems)} problem(s):\n  {shown}{more}")


def check_against_book(view: LedgerView, book: Book) -> Findings:
    """Every acknowledged event stored exactly as acknowledged; every request all or nothing and in one
    piece (consecutive seqs); nothing stored that was never sent."""
    problems = view.refresh()
    problems += book.bad_answers
    for ack in list(book.acked.values()):
        row = view.by_id.get(ack.event_id)
        if row is None:
            problems.append(f"LOST: acknowledged event {ack.event_id} (seq {ack.seq}, {ack.request_id})")
        elif (row.seq, row.hash, row.subject, row.purpose, row.action) != (
            ack.seq, ack.hash, ack.subject, ack.purpose, ack.action,
        ):  # fmt: skip
            problems.append(f"acknowledged event {ack.event_id} is stored differently: {row} != {ack}")
    unanswered = unanswered_stored = 0
    sent_subjects: set[str] = set()
    for sent in list(book.sent.values()):
        seqs: list[int] = []
        partial = []
        for subject, purposes in sent.submissions:
            sent_subjects.add(subject)
            rows = view.by_subject.get(subject, [])
            seqs += [r.seq for r in rows]
            if rows and sorted(r.purpose or "" for r in rows) != sorted(purposes):
                partial.append(f"{subject}: stored {sorted(r.purpose or '' for r in rows)} of {purposes}")
        if partial:
            problems.append(f"PARTIAL submission(s) in {sent.request_id}: {partial}")
        if seqs and len(seqs) != sent.events:
            problems.append(f"PARTIAL request {sent.request_id}: {len(seqs)} of {sent.events} events stored")
        if seqs and sorted(seqs) != list(range(min(seqs), min(seqs) + len(seqs))):
            problems.append(f"request {sent.request_id} is not one transaction: seqs {sorted(seqs)}")
        if sent.request_id not in book.acked_requests:
            unanswered += 1
            unanswered_stored += bool(seqs)
    phantoms = [s for s in view.by_subject if s not in sent_subjects]
    if phantoms:
        problems.append(f"{len(phantoms)} stored subject(s) nobody sent, e.g. {phantoms[:5]}")
    return Findings(problems, len(book.acked), len(book.acked_requests), unanswered, unanswered_stored)
