"""``Ledger.verify``: hold every table a decision or the evidence reads to the chains and the seals.

One streaming pass over each chain (rows are read in chunks of 5,000, so memory does not grow with
the number of events), then the side tables against what the record chain commits to:

* ``events``: seq, links and hash of every row; the derived ``occurred_us``/``recorded_us`` recomputed
  from the hashed strings; the subject against its salted commitment, or, once erased, against the
  pseudonym a ``pseudonymise`` record names for that seq.
* ``ledger_records``: the record chain itself, and ``ledger_head`` against both chain ends.
* ``notice_texts``, ``aliases``, ``suppressions``: exactly the rows the records commit to — an added,
  altered or deleted row is named; a wording an event shows must be there and agree with it.
* ``ledger_seals``: each seal's heads are really in the chains and its Ed25519 signature verifies
  under a trusted public key; the last seal must cover both heads, or the report is *unsigned*.

Memory grows with the number of aliases, suppression entries, erased events and distinct wordings
(the side state), never with the number of events.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from consentgate.ledger import schema as t
from consentgate.ledger.chain import (
    GENESIS,
    alias_commit,
    commit_subject,
    event_hash,
    record_hash,
    seal_message,
    wording_hash,
)
from consentgate.ledger.signing import PublicKeys
from consentgate.policy.models import to_micros

if TYPE_CHECKING:
    from sqlalchemy import Engine

_CHUNK = 5000
_RECORD_KINDS = frozenset({"text", "link", "suppress", "pseudonymise"})


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed head kept outside the database (``ledger checkpoint --out FILE``)."""

    events_seq: int
    events_hash: str
    records_seq: int
    records_hash: str
    signed_at: str
    key_id: str
    signature: str

    def message(self) -> bytes:
        return seal_message(
            self.events_seq, self.events_hash, self.records_seq, self.records_hash, self.signed_at
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "consentgate-checkpoint/1",
            "events": {"seq": self.events_seq, "hash": self.events_hash},
            "records": {"seq": self.records_seq, "hash": self.records_hash},
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, data: Any) -> Checkpoint:
        """Raises KeyError/TypeError/ValueError on a malformed file (the CLI words them)."""
        if data.get("format") != "consentgate-checkpoint/1":
            raise ValueError("its format is not consentgate-checkpoint/1")
        return cls(
            int(data["events"]["seq"]),
            str(data["events"]["hash"]),
            int(data["records"]["seq"]),
            str(data["records"]["hash"]),
            str(data["signed_at"]),
            str(data["key_id"]),
            str(data["signature"]),
        )


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What ``verify`` found. ``ok``: nothing altered was found. ``signed``: and the seals prove the
    heads were written with the ledger key. Only both together (``intact``) is an assurance.

    ``verified_seq``/``verified_hash`` name the last event checked: pass them back as ``resume`` to
    re-verify only what was appended since."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    bad_event: str | None = None
    problem: str | None = None
    table: str | None = None
    signed: bool = False
    signature_note: str = ""
    verified_seq: int = 0
    verified_hash: str = GENESIS

    @property
    def intact(self) -> bool:
        return self.ok and self.signed

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "signed": self.signed,
            "intact": self.intact,
            "checked": self.checked,
            "head": {"seq": self.head_seq, "hash": self.head_hash},
            "signature": self.signature_note,
            "verified": {"seq": self.verified_seq, "hash": self.verified_hash},
            "first_bad": None
            if self.ok
            else {
                "table": self.table,
                "seq": self.bad_seq,
                "event_id": self.bad_event,
                "problem": self.problem,
            },
        }


class _Broken(Exception):
    def __init__(self, table: str, problem: str, seq: int | None = None, event_id: str | None = None) -> None:
        super().__init__(problem)
        self.table, self.problem, self.seq, self.event_id = table, problem, seq, event_id


@dataclass
class _Side:
    """What the record chain commits the side tables to."""

    texts: dict[str, dict[str, Any]]
    links: dict[int, str]
    alias_pseudonyms: dict[int, str]
    suppressions: dict[str, tuple[Any, Any]]
    erased: dict[int, str | None]


def check_event_row(row: Any, expected_seq: int, prev: str) -> str | None:
    """The problem with one stored event given the hash before it, or None."""
    if row["seq"] != expected_seq:
        return (
            f"expected event seq {expected_seq} next but found seq {row['seq']}: "
            f"event(s) {expected_seq}..{row['seq'] - 1} were deleted"
        )
    if row["prev_hash"] != prev:
        return "its prev_hash is not the previous event's hash: events were deleted, reordered or rewritten"
    record = dict(row)
    try:
        record["signals"] = json.loads(row["signals"])
    except (TypeError, ValueError):
        return "its signals are no longer valid JSON: the row was altered"
    if event_hash(prev, record) != row["hash"]:
        return "its content no longer matches its hash: the row was altered"
    # Decisions order by these integers; they must say what the hashed strings say.
    for name in ("occurred", "recorded"):
        try:
            micros = to_micros(datetime.fromisoformat(row[f"{name}_at"]))
        except (TypeError, ValueError):
            return f"its {name}_at is not a timestamp: the row was altered"
        if row[f"{name}_us"] != micros:
            return f"its {name}_us disagrees with the hashed {name}_at (the row was altered)"
    return None


def check_subject(row: Any, erased: dict[int, str | None]) -> str | None:
    subject, salt, seq = row["subject"], row["subject_salt"], row["seq"]
    if salt is None:
        if seq not in erased:
            return "its subject salt was removed, but no erasure recorded a pseudonym for it"
        if subject != erased[seq]:
            return "its subject is not the pseudonym its erasure recorded: the subject was altered"
        return None
    if seq in erased:
        return "it was erased, but a subject and salt are back in the row"
    if subject is None or commit_subject(subject, salt) != row["subject_commit"]:
        return "its subject was altered (it no longer matches the chained commitment)"
    return None


class Verification:
    def __init__(
        self,
        engine: Engine,
        keys: PublicKeys | None,
        resume: tuple[int, str] | None,
        checkpoint: Checkpoint | None,
    ) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self.keys = keys
        self.resume = resume
        self.checkpoint = checkpoint
        self.checked = 0
        self.last = (0, GENESIS)

    def run(self) -> VerifyReport:
        """One read transaction for the whole walk, so the head and every table are read at the same
        instant: a writer appending meanwhile (the server's chain monitor verifies while it serves)
        must not make its new rows look like an alteration. SQLite in WAL mode gives a read
        transaction a snapshot; PostgreSQL does with REPEATABLE READ. Writers are not blocked."""
        with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                self._conn = conn
                try:
                    return self._run()
                finally:
                    self._conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        assert self._conn is not None, "Verification reads only inside run()"
        yield self._conn

    def _run(self) -> VerifyReport:
        head = self._head()
        if head is None:
            return VerifyReport(
                False, 0, 0, GENESIS, table="ledger_head",
                problem="the ledger_head table no longer holds exactly its one row (id 1)",
            )  # fmt: skip
        seq, h, rseq, rhash = head
        try:
            side, last_seal = self._records(rseq, rhash)
            refs = self._events(seq, h, side)
            self._texts(side, refs)
            self._aliases(side)
            self._suppressions(side)
            signed, note = self._signed(head, last_seal)
            self._checkpoint()
        except _Broken as b:
            return VerifyReport(
                False, self.checked, seq, h, b.seq, b.event_id, b.problem, b.table,
                verified_seq=self.last[0], verified_hash=self.last[1],
            )  # fmt: skip
        return VerifyReport(
            True, self.checked, seq, h, signed=signed, signature_note=note,
            verified_seq=self.last[0], verified_hash=self.last[1],
        )  # fmt: skip

    def _head(self) -> tuple[int, str, int, str] | None:
        h = t.ledger_head.c
        with self._read() as conn:
            rows = conn.execute(select(h.id, h.seq, h.hash, h.records_seq, h.records_hash).limit(2)).all()
        if len(rows) != 1 or rows[0][0] != 1:
            return None
        row = rows[0]
        return int(row[1]), str(row[2]), int(row[3]), str(row[4])

    def _rows(self, table: Any, key: Any, after: Any = 0, where: Any = True) -> Iterator[Any]:
        last = after
        while True:
            with self._read() as conn:
                q = select(table).where(key > last, where).order_by(key).limit(_CHUNK)
                rows = [r._mapping for r in conn.execute(q)]
            if not rows:
                return
            yield from rows
            last = rows[-1][key.name]

    def _records(self, head_seq: int, head_hash: str) -> tuple[_Side, Any]:
        """Walk the record chain (and every seal along it); returns what it commits to, and the last seal."""
        side = _Side({}, {}, {}, {}, {})
        expected, prev = 1, GENESIS
        seals = _SealMerge(self._rows(t.ledger_seals, t.ledger_seals.c.id), "records", None)
        seals.at(0, GENESIS)
        for row in self._rows(t.ledger_records, t.ledger_records.c.seq):
            seq = row["seq"]
            where = f"record {seq} ({row['kind']})"
            if seq != expected:
                raise _Broken(
                    "ledger_records",
                    f"expected record {expected} next but found {seq}: records were deleted",
                    seq,
                )
            if row["prev_hash"] != prev:
                raise _Broken(
                    "ledger_records", f"{where}: its prev_hash does not match the previous record", seq
                )
            try:
                body = json.loads(row["body"])
            except ValueError:
                raise _Broken(
                    "ledger_records", f"{where}: its body is not JSON: the record was altered", seq
                ) from None
            if row["kind"] not in _RECORD_KINDS or record_hash(prev, seq, row["kind"], body) != row["hash"]:
                raise _Broken("ledger_records", f"{where}: its content no longer matches its hash", seq)
            self._apply(side, seq, row["kind"], body)
            prev, expected = row["hash"], expected + 1
            seals.at(seq, prev)
        seals.end()
        _head_matches("records", head_seq, head_hash, expected - 1, prev)
        return side, seals.last

    @staticmethod
    def _apply(side: _Side, seq: int, kind: str, body: dict[str, Any]) -> None:
        if kind == "text":
            side.texts[body["text_hash"]] = body
        elif kind == "link":
            side.links[seq] = body["row"]
        elif kind == "suppress":
            for id_hash, request_id, added_at in body["rows"]:
                side.suppressions[id_hash] = (request_id, added_at)
        else:  # pseudonymise
            side.erased.update((int(s), p) for s, p in body["events"])
            side.alias_pseudonyms.update((int(s), d) for s, d in body["aliases"])

    def _events(self, head_seq: int, head_hash: str, side: _Side) -> dict[str, set[tuple[str, str]]]:
        """Walk the events; returns, per wording hash, the (notice, version) pairs shown with it."""
        start = 0
        refs: dict[str, set[tuple[str, str]]] = {}
        prev = GENESIS
        if self.resume is not None:
            start, prev = self.resume
            self._resume_refs(start, refs)
        self.last = (start, prev)
        expected = start + 1
        sc = t.ledger_seals.c
        # Seals from the resume point on (older ones were checked by the verification it resumes).
        seals = _SealMerge(
            self._rows(t.ledger_seals, sc.id, where=sc.events_seq >= start), "events", self._sig
        )
        seals.at(start, prev)
        for row in self._rows(t.events, t.events.c.seq, start):
            problem = check_event_row(row, expected, prev) or check_subject(row, side.erased)
            if problem:
                raise _Broken("events", problem, row["seq"], row["event_id"])
            if row["wording_hash"] is not None:
                refs.setdefault(row["wording_hash"], set()).add((row["notice_id"], row["notice_version"]))
            prev, expected = row["hash"], expected + 1
            self.checked += 1
            self.last = (row["seq"], prev)
            seals.at(row["seq"], prev)
        seals.end()
        _head_matches("events", head_seq, head_hash, expected - 1, prev)
        return refs

    def _resume_refs(self, start: int, refs: dict[str, set[tuple[str, str]]]) -> None:
        e = t.events.c
        with self._read() as conn:
            row = conn.execute(select(t.events).where(e.seq == start)).first() if start else None
            # The resume point itself is re-hashed: its successor's link only vouches for its hash column.
            if start and (
                row is None
                or row.hash != self.resume[1]  # type: ignore[index]
                or check_event_row(row._mapping, start, row.prev_hash) is not None
            ):
                raise _Broken(
                    "events", f"event seq {start}, verified before, is no longer what it was", start
                )
            q = (
                select(e.wording_hash, e.notice_id, e.notice_version)
                .where(e.seq <= start, e.wording_hash.is_not(None))
                .distinct()
            )
            for h, nid, ver in conn.execute(q):
                refs.setdefault(h, set()).add((nid, ver))

    def _texts(self, side: _Side, refs: dict[str, set[tuple[str, str]]]) -> None:
        committed = dict(side.texts)
        for row in self._rows(t.notice_texts, t.notice_texts.c.text_hash, ""):
            h = row["text_hash"]
            name = f"stored wording {h[:12]}… (notice_texts)"
            body = committed.pop(h, None)
            if body is None:
                raise _Broken("notice_texts", f"{name} was added: no record commits to it")
            if wording_hash(row["text"]) != h:
                raise _Broken("notice_texts", f"{name}: its text was altered (it no longer has that hash)")
            for col in ("notice_id", "notice_version", "locale", "first_recorded_at"):
                if row[col] != body[col]:
                    raise _Broken(
                        "notice_texts", f"{name}: its {col} was altered (the record says {body[col]!r})"
                    )
            shown = refs.get(h)
            # Not the locale: an event keeps the locale the person asked for, the wording row the
            # policy locale it resolved to (en-GB → en).
            if shown and (row["notice_id"], row["notice_version"]) not in shown:
                raise _Broken(
                    "notice_texts", f"{name}: its notice and version disagree with every event that shows it"
                )
        if committed:
            h = min(committed)
            raise _Broken(
                "notice_texts",
                f"stored wording {h[:12]}… was deleted from notice_texts (a record commits to it)",
            )
        have = side.texts.keys()
        for h in refs:
            if h not in have:
                raise _Broken(
                    "notice_texts", f"the wording {h[:12]}… that events show is missing from notice_texts"
                )

    def _aliases(self, side: _Side) -> None:
        seen: set[int] = set()
        for row in self._rows(t.aliases, t.aliases.c.alias, ""):
            rs = row["record_seq"]
            name = f"aliases row {row['alias']!r}"
            if rs is None or rs not in side.links or rs in seen:
                raise _Broken("aliases", f"{name} was added: no link record commits to it")
            seen.add(rs)
            values = (row["alias"], row["subject"], row["kind"], row["linked_at"])
            if row["salt"] is None:
                ok = rs in side.alias_pseudonyms and alias_commit("", *values) == side.alias_pseudonyms[rs]
            else:
                ok = rs not in side.alias_pseudonyms and alias_commit(row["salt"], *values) == side.links[rs]
            if not ok:
                raise _Broken("aliases", f"{name} was altered: it no longer matches link record {rs}", rs)
        missing = side.links.keys() - seen
        if missing:
            raise _Broken("aliases", f"the alias of link record {min(missing)} was deleted", min(missing))

    def _suppressions(self, side: _Side) -> None:
        committed = dict(side.suppressions)
        for row in self._rows(t.suppressions, t.suppressions.c.id_hash, ""):
            name = f"suppressions row {row['id_hash'][:12]}…"
            want = committed.pop(row["id_hash"], None)
            if want is None:
                raise _Broken("suppressions", f"{name} was added: no suppress record commits to it")
            if (row["request_id"], row["added_at"]) != want:
                raise _Broken("suppressions", f"{name} was altered (request or time differ from its record)")
        if committed:
            h = min(committed)
            raise _Broken(
                "suppressions",
                f"suppressions row {h[:12]}… was deleted: an erased person is no longer suppressed",
            )

    def _sig(self, seal: Any) -> None:
        if self.keys is not None:
            problem = self.keys.verify(seal["key_id"], seal["signature"], _seal_bytes(seal))
            if problem:
                raise _Broken("ledger_seals", f"seal {seal['id']}: {problem}")

    def _signed(self, head: tuple[int, str, int, str], last: Any) -> tuple[bool, str]:
        """Whether the last seal proves both heads; every seal was already held to the chains."""
        if last is None:
            return (
                False,
                "UNSIGNED: no seal in the ledger; anyone with write access to the database could have "
                "rewritten it",
            )
        if (last["events_seq"], last["events_hash"], last["records_seq"], last["records_hash"]) != head:
            return False, (
                f"UNSIGNED TAIL: the last seal covers events to seq {last['events_seq']} and records to "
                f"{last['records_seq']}; what came after was written without the ledger key"
            )
        if self.keys is None:
            return False, "signatures NOT CHECKED: no public key given (--public-key FILE)"
        return True, f"signed: the head is sealed by key {last['key_id']} ({last['signed_at']})"

    def _checkpoint(self) -> None:
        cp = self.checkpoint
        if cp is None:
            return
        if self.keys is not None:
            problem = self.keys.verify(cp.key_id, cp.signature, cp.message())
            if problem:
                raise _Broken("checkpoint", f"the checkpoint itself does not verify: {problem}")
        e, r = t.events.c, t.ledger_records.c
        with self._read() as conn:
            for col, seq_col, hash_col, n, want in (
                ("events", e.seq, e.hash, cp.events_seq, cp.events_hash),
                ("records", r.seq, r.hash, cp.records_seq, cp.records_hash),
            ):
                have = GENESIS if n == 0 else conn.execute(select(hash_col).where(seq_col == n)).scalar()
                if have != want:
                    what = "no longer has it (rewritten)" if have else "is shorter (cut off)"
                    raise _Broken(
                        "checkpoint",
                        f"the ledger no longer extends the checkpoint of {cp.signed_at}: it sealed {col} "
                        f"seq {n} as {want[:12]}…, and the ledger {what}",
                        n,
                    )


def _head_matches(chain: str, head_seq: int, head_hash: str, last_seq: int, last_hash: str) -> None:
    if last_seq != head_seq or last_hash != head_hash:
        raise _Broken(
            "ledger_head",
            f"the ledger head records {head_seq} {chain} ending in {head_hash[:12]}…, but the {chain} "
            f"end after {last_seq} in {last_hash[:12]}…: {chain} were deleted from the end or the head moved",
            last_seq + 1,
        )


class _SealMerge:
    """The seals in id order, matched against one chain's walk by seq in the same pass.

    Both heads only grow, so seals in id order name non-decreasing seqs: one cursor suffices, with
    no lookup per seal. ``at(seq, hash)`` is called for each entry the walk verified."""

    def __init__(self, rows: Iterator[Any], chain_name: str, check: Callable[[Any], None] | None) -> None:
        self.rows, self.chain, self.check = rows, chain_name, check
        self.pending: Any = next(rows, None)
        self.last: Any = None

    def at(self, seq: int, digest: str) -> None:
        while self.pending is not None and self.pending[f"{self.chain}_seq"] <= seq:
            seal = self.pending
            if self.last is not None and (
                seal["events_seq"] < self.last["events_seq"] or seal["records_seq"] < self.last["records_seq"]
            ):
                raise _Broken(
                    "ledger_seals", f"seal {seal['id']} goes back in the chain: seals were reordered"
                )
            n, want = seal[f"{self.chain}_seq"], seal[f"{self.chain}_hash"]
            if n < seq:
                raise _Broken("ledger_seals", f"seal {seal['id']} names {self.chain} seq {n} out of order")
            if want != digest:
                raise _Broken(
                    "ledger_seals",
                    f"seal {seal['id']} signed {self.chain} seq {n} as {want[:12]}…, but the ledger now has "
                    f"{digest[:12]}… there: it was rewritten",
                    n,
                )
            if self.check is not None:
                self.check(seal)
            self.last, self.pending = seal, next(self.rows, None)

    def end(self) -> None:
        """After the walk: a seal naming a seq beyond the chain's end means the end was cut off."""
        seal = self.pending
        if seal is not None:
            n = seal[f"{self.chain}_seq"]
            raise _Broken(
                "ledger_seals",
                f"seal {seal['id']} signed {self.chain} up to seq {n}, but the ledger ends before it: "
                f"{self.chain} were deleted from the end",
                n,
            )


def _seal_bytes(row: Any) -> bytes:
    return seal_message(
        row["events_seq"], row["events_hash"], row["records_seq"], row["records_hash"], row["signed_at"]
    )
