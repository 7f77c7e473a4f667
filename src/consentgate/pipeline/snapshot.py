"""Consent snapshots: one purpose's decision for every known identifier, as an Arrow table.

A snapshot answers "who may be used for purpose P as of time T" for every identifier the ledger
knows (subjects and their aliases: each alias row carries its person's decision), computed with the
pure decision function (:func:`consentgate.decide.decide_timeline`; no rule is restated here). Its
schema metadata says which ledger state it reflects: the head seq and hash, the time ``at``, and a
fingerprint of the policy.

Incremental update: given the previous snapshot, only events after its head are read; the people
they touch (with every alias) are re-read and re-decided, and everyone else's rows are copied.
Time alone can flip a decision (consent expiring after ``max_age_days``, a notice version with
``reconsent: true`` taking effect, an event dated in the future coming due), so every row carries
``valid_until``: the instant from which its decision must be recomputed even without new events.
Alias links are re-read on every update and compared with each row's ``person``, so a new link (or
a removed one) re-decides the people it joins or splits. A changed policy, an earlier ``at`` or a
ledger whose chain no longer holds the previous head make the update a full rebuild.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from consentgate.decide import Decision, Timeline, at_micros, decide_timeline
from consentgate.errors import BadInput, shown
from consentgate.ledger.chain import GENESIS
from consentgate.ledger.events import Action, ConsentEvent
from consentgate.ledger.store import Ledger
from consentgate.pipeline.bulk import decide_all, next_reconsent_us
from consentgate.policy.models import Policy, Purpose
from consentgate.store import snapshots

SNAPSHOT_FORMAT = "consentgate-snapshot/1"
META_KEY = b"consentgate.snapshot"
_DAY_US = 86_400 * 1_000_000
# Subjects the ledger erased read back as "erased:<commitment prefix>" (ledger/store.py); they are
# nobody's identifier any more and never appear in data, so they get no row.
_ERASED_PREFIX = "erased:"

SNAPSHOT_SCHEMA = pa.schema(
    [
        pa.field("key", pa.string(), nullable=False),  # an identifier as it appears in data
        pa.field("person", pa.string(), nullable=False),  # smallest identifier of the person's group
        pa.field("allowed", pa.bool_(), nullable=False),
        pa.field("basis", pa.string()),
        pa.field("region", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("evidence_event", pa.string()),
        # Recompute this decision at or after this instant even if no event arrives; null = stable.
        pa.field("valid_until", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True, slots=True)
class SnapshotMeta:
    """What a snapshot reflects; stored as JSON in the Parquet/Arrow schema metadata."""

    purpose: str
    at: datetime
    head_seq: int
    head_hash: str
    policy_fingerprint: str
    created_at: datetime
    # The decision for an identifier the snapshot does not list (no events: region unknown, "*").
    default_allowed: bool
    default_basis: str | None
    default_reason: str
    rows: int
    persons: int
    built: str = "full"  # "full" or "incremental"
    recomputed_persons: int = 0
    rebuild_reason: str | None = None  # why an update fell back to a full rebuild

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["at"] = self.at.isoformat()
        body["created_at"] = self.created_at.isoformat()
        return {"format": SNAPSHOT_FORMAT, **body}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> SnapshotMeta:
        if raw.get("format") != SNAPSHOT_FORMAT:
            raise BadInput(f"not a consentgate snapshot (format {shown(raw.get('format'))})")
        body = {k: v for k, v in raw.items() if k != "format" and k in cls.__dataclass_fields__}
        body["at"] = datetime.fromisoformat(body["at"])
        body["created_at"] = datetime.fromisoformat(body["created_at"])
        return cls(**body)

    def head_json(self) -> dict[str, Any]:
        """The part a manifest records: which ledger state the decisions came from."""
        return {
            "purpose": self.purpose,
            "at": self.at.isoformat(),
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "policy_fingerprint": self.policy_fingerprint,
            "created_at": self.created_at.isoformat(),
            "rows": self.rows,
        }


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A snapshot table (rows sorted by key) and what it reflects."""

    table: pa.Table
    meta: SnapshotMeta

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def with_metadata(self) -> pa.Table:
        """The table with its metadata in the schema, as written to Parquet."""
        return self.table.replace_schema_metadata({META_KEY: json.dumps(self.meta.to_json()).encode()})

    def write(self, path: Path) -> None:
        """Write atomically: readers never see half a snapshot, and a failed write keeps the old one."""
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            pq.write_table(self.with_metadata(), tmp, compression="zstd")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def read(cls, path: Path) -> Snapshot:
        try:
            table = pq.read_table(path)
        except FileNotFoundError:
            raise BadInput(f"{path}: no such snapshot file") from None
        except (OSError, pa.ArrowInvalid) as exc:
            raise BadInput(f"{path}: not a readable Parquet snapshot: {exc}") from None
        return cls.from_table(table, where=str(path))

    @classmethod
    def from_table(cls, table: pa.Table, *, where: str = "table") -> Snapshot:
        raw = (table.schema.metadata or {}).get(META_KEY)
        if raw is None:
            raise BadInput(f"{where}: no consentgate snapshot metadata; make one with `consentgate snapshot`")
        meta = SnapshotMeta.from_json(json.loads(raw))
        missing = [f.name for f in SNAPSHOT_SCHEMA if f.name not in table.column_names]
        if missing:
            raise BadInput(f"{where}: snapshot lacks column(s) {', '.join(missing)}")
        return cls(table.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA).replace_schema_metadata(), meta)


def policy_fingerprint(policy: Policy) -> str:
    """sha256 over the policy's canonical JSON: any change to it forces a full rebuild."""
    body = json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def snapshot_table(policy: Policy, ledger: Ledger, purpose: str, at: datetime | None = None) -> pa.Table:
    """The snapshot as an Arrow table with its metadata in the schema (what the Parquet file holds)."""
    return build_snapshot(policy, ledger, purpose, at).with_metadata()


def build_snapshot(
    policy: Policy,
    ledger: Ledger,
    purpose: str,
    at: datetime | None = None,
    *,
    previous: Snapshot | None = None,
) -> Snapshot:
    """Decisions for every identifier the ledger knows, as of ``at`` (default now).

    With ``previous`` (an earlier snapshot of the same purpose) only the events after its head are
    read, unless something forces a full rebuild (see the module docstring; the reason is kept in
    ``meta.rebuild_reason``).
    """
    when = at or datetime.now(UTC)
    purpose_obj = policy.require_purpose(purpose)
    at_us = at_micros(when, {})
    ctx = _Context(policy, purpose_obj, when, at_us, policy_fingerprint(policy))
    if previous is not None:
        if previous.meta.purpose != purpose:
            raise BadInput(
                f"the previous snapshot is for purpose {previous.meta.purpose!r}, not {purpose!r}",
                purpose=purpose,
            )
        why_full = _why_full_rebuild(ledger, previous.meta, ctx)
        if why_full is None:
            return _update(ledger, previous, ctx)
        snap = _full(ledger, ctx)
        return replace(snap, meta=replace(snap.meta, rebuild_reason=why_full))
    return _full(ledger, ctx)


# -- internals -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    policy: Policy
    purpose: Purpose
    at: datetime
    at_us: int
    fingerprint: str

    def next_reconsent_us(self) -> int | None:
        """The next instant after ``at`` when a material notice change takes effect for this purpose."""
        return next_reconsent_us(self.policy, self.purpose, self.at_us)


class _Rows:
    """Column builders for the snapshot table."""

    def __init__(self) -> None:
        self.cols: dict[str, list[Any]] = {name: [] for name in SNAPSHOT_SCHEMA.names}
        self.persons = 0

    def add_person(self, ids: Iterable[str], d: Decision, valid_until: int | None) -> None:
        keys = sorted(ids)
        person = keys[0]
        reason = d.reason
        until = None if valid_until is None else _from_micros(valid_until)
        c = self.cols
        for key in keys:
            c["key"].append(key)
            c["person"].append(person)
            c["allowed"].append(d.allowed)
            c["basis"].append(d.basis)
            c["region"].append(d.region)
            c["reason"].append(reason)
            c["evidence_event"].append(d.evidence_event)
            c["valid_until"].append(until)
        self.persons += 1

    def table(self) -> pa.Table:
        return pa.table(self.cols, schema=SNAPSHOT_SCHEMA)


def _decide_person(
    ctx: _Context, events: Sequence[ConsentEvent], reconsent_us: int | None
) -> tuple[Decision, int | None]:
    """The person's decision and the instant from which it must be recomputed (None: stable).

    Conservative by design: recomputing early costs a re-decision, recomputing late would be wrong.
    Without new events a decision (and its reason) can change only when an event dated after ``at``
    comes due, or, when a grant is the evidence, as that grant ages past ``max_age_days`` or a
    material notice version takes effect (which also rewords a denial: "expired" → "ask again").
    """
    tl = Timeline(events)
    d = decide_timeline(ctx.policy, tl, ctx.purpose.id, ctx.at, None, at_us=ctx.at_us)
    candidates = [e.occurred_us for e in events if e.occurred_us > ctx.at_us]
    evidence = None
    if d.evidence_event is not None:
        evidence = next((e for e in events if e.event_id == d.evidence_event), None)
    if evidence is not None and evidence.action is Action.GRANT:
        if reconsent_us is not None:
            candidates.append(reconsent_us)
        if ctx.purpose.max_age_days is not None:
            expires = evidence.occurred_us + ctx.purpose.max_age_days * _DAY_US + 1
            if expires > ctx.at_us:
                candidates.append(expires)
    return d, min(candidates, default=None)


def _default_decision(ctx: _Context) -> Decision:
    """An identifier with no events and no aliases: no region, so the purpose's "*" basis decides.

    The one place the filter's treatment of unknown subjects comes from (consent → denied,
    opt_out / legitimate_interest / contract → allowed)."""
    return decide_timeline(ctx.policy, Timeline(()), ctx.purpose.id, ctx.at, None, at_us=ctx.at_us)


def _meta(ctx: _Context, head: tuple[int, str], table: pa.Table, persons: int, **extra: Any) -> SnapshotMeta:
    default = _default_decision(ctx)
    return SnapshotMeta(
        purpose=ctx.purpose.id,
        at=ctx.at,
        head_seq=head[0],
        head_hash=head[1],
        policy_fingerprint=ctx.fingerprint,
        created_at=datetime.now(UTC),
        default_allowed=default.allowed,
        default_basis=default.basis,
        default_reason=default.reason,
        rows=table.num_rows,
        persons=persons,
        **extra,
    )


def _events_until(ledger: Ledger, after_seq: int, head_seq: int) -> Iterator[ConsentEvent]:
    """Events with after_seq < seq <= head_seq: later appends belong to the next snapshot."""
    for ev in ledger.iter_events(after_seq, chunk=20_000):
        if ev.seq > head_seq:
            return
        yield ev


class _Groups:
    """Connected components of the alias graph; identifiers without links stand alone.

    ``canonical`` maps every linked identifier to its group's name (the group's smallest
    identifier). The usual shape, every alias linked to a subject that is not itself an alias, is
    grouped by subject in Arrow; anything else (chains, an identifier on both sides) by union-find.
    """

    def __init__(self, links: Sequence[tuple[str, str]]) -> None:
        self._members: dict[str, list[str]] | None = None
        self.canonical: dict[str, str] = self._stars(links)
        if links and not self.canonical:
            self.canonical = self._union_find(links)

    @staticmethod
    def _stars(links: Sequence[tuple[str, str]]) -> dict[str, str]:
        """Groups when every alias appears once and no subject is an alias (else ``{}``)."""
        if not links:
            return {}
        alias = pa.array([a for a, _ in links], pa.string())
        subject = pa.array([b for _, b in links], pa.string())
        if (
            pc.count_distinct(alias).as_py() != len(alias)
            or pc.any(pc.is_in(subject, value_set=alias)).as_py()
        ):
            return {}
        pairs = pa.table(
            {"node": pa.concat_arrays([alias, subject]), "group": pa.concat_arrays([subject, subject])}
        )
        low = pairs.group_by("group").aggregate([("node", "min")])
        named = pairs.join(low, "group")
        return dict(zip(named.column("node").to_pylist(), named.column("node_min").to_pylist(), strict=True))

    @staticmethod
    def _union_find(links: Sequence[tuple[str, str]]) -> dict[str, str]:
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            root = x
            while parent[root] != root:
                root = parent[root]
            while parent[x] != root:
                parent[x], x = root, parent[x]
            return root

        for a, b in links:
            parent.setdefault(a, a)
            parent.setdefault(b, b)
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
        members: dict[str, list[str]] = defaultdict(list)
        for x in parent:
            members[find(x)].append(x)
        # The smallest identifier names the group (the root above is not always the smallest).
        canonical: dict[str, str] = {}
        for ms in members.values():
            low = min(ms)
            for m in ms:
                canonical[m] = low
        return canonical

    @property
    def members(self) -> dict[str, list[str]]:
        """Group name → its identifiers (built on first use: a no-change refresh never needs it)."""
        if self._members is None:
            self._members = defaultdict(list)
            for m, name in self.canonical.items():
                self._members[name].append(m)
        return self._members

    def person(self, identifier: str) -> str:
        return self.canonical.get(identifier, identifier)

    def ids_of(self, person: str) -> list[str]:
        return self.members.get(person) or [person]


def _full(ledger: Ledger, ctx: _Context) -> Snapshot:
    """Every person decided at once on Arrow columns (pipeline/bulk.py); the rare shapes it leaves
    to the pure function are decided here, one person at a time, as an update would."""
    head = ledger.head()
    events = snapshots.event_columns(ledger.engine, ctx.purpose.id, head[0])
    groups = _Groups(snapshots.alias_links(ledger.engine))
    reconsent = ctx.next_reconsent_us()
    done = decide_all(events, groups.canonical, ctx.policy, ctx.purpose, ctx.at_us, reconsent)
    rows = _Rows()
    if done.fallback:
        by_id: dict[str, list[ConsentEvent]] = defaultdict(list)
        for ev in ledger.events_of(sorted({i for ids in done.fallback.values() for i in ids})):
            if ev.seq <= head[0]:
                by_id[ev.subject].append(ev)
        for ids in done.fallback.values():
            d, until = _decide_person(ctx, [e for i in ids for e in by_id.get(i, ())], reconsent)
            rows.add_person(ids, d, until)
    bulk = done.table.select(SNAPSHOT_SCHEMA.names).cast(SNAPSHOT_SCHEMA)
    table = _sorted(pa.concat_tables([bulk, rows.table()]))
    return Snapshot(table, _meta(ctx, head, table, done.persons + rows.persons))


def _full_per_person(ledger: Ledger, ctx: _Context) -> Snapshot:
    """The full build as it was before issue 20: every event as an object, every person through
    ``decide_timeline``. Kept as the reference the bulk build is measured and tested against."""
    head = ledger.head()
    by_id: dict[str, list[ConsentEvent]] = defaultdict(list)
    for ev in _events_until(ledger, 0, head[0]):
        if not ev.subject.startswith(_ERASED_PREFIX):
            by_id[ev.subject].append(ev)
    groups = _Groups(snapshots.alias_links(ledger.engine))
    reconsent = ctx.next_reconsent_us()
    rows = _Rows()
    done: set[str] = set()
    for ident in set(by_id) | set(groups.canonical):
        person = groups.person(ident)
        if person in done:
            continue
        done.add(person)
        ids = groups.ids_of(person)
        events = [e for i in ids for e in by_id.get(i, ())]
        d, until = _decide_person(ctx, events, reconsent)
        rows.add_person(ids, d, until)
    table = _sorted(rows.table())
    return Snapshot(table, _meta(ctx, head, table, rows.persons))


def _why_full_rebuild(ledger: Ledger, prev: SnapshotMeta, ctx: _Context) -> str | None:
    if prev.policy_fingerprint != ctx.fingerprint:
        return "the policy changed since the previous snapshot"
    if ctx.at < prev.at:
        return "'at' is earlier than the previous snapshot's"
    head_seq, _ = ledger.head()
    if prev.head_seq > head_seq:
        return "the ledger is shorter than the previous snapshot's head"
    found = snapshots.event_hash(ledger.engine, prev.head_seq) if prev.head_seq > 0 else GENESIS
    if found != prev.head_hash:
        return "the ledger no longer holds the previous snapshot's head (another ledger, or rewritten)"
    return None


def _update(ledger: Ledger, prev: Snapshot, ctx: _Context) -> Snapshot:
    head = ledger.head()
    touched = {
        ev.subject
        for ev in _events_until(ledger, prev.meta.head_seq, head[0])
        if not ev.subject.startswith(_ERASED_PREFIX)
    }
    groups = _Groups(snapshots.alias_links(ledger.engine))
    old = prev.table
    affected: set[str] = {groups.person(s) for s in touched}
    # Alias links added or removed: an identifier whose group name changed, or that is new.
    regrouped_old: set[str] = set()
    for was, now in _regrouped(old, groups):
        affected.add(now)
        if was is not None:
            regrouped_old.add(was)
    # Decisions whose time is up (expiry, a material notice change, an event dated in the future).
    due = pc.less_equal(
        old.column("valid_until"),
        pa.scalar(_from_micros(ctx.at_us), SNAPSHOT_SCHEMA.field("valid_until").type),
    )
    for key in old.filter(pc.fill_null(due, False)).column("key").to_pylist():
        affected.add(groups.person(key))
    if regrouped_old:
        # Everyone who shared a group with a regrouped identifier: a split changes them too.
        mates = old.filter(pc.is_in(old.column("person"), pa.array(sorted(regrouped_old), pa.string())))
        affected.update(groups.person(k) for k in mates.column("key").to_pylist())

    if not affected:
        # Nothing to re-decide: the previous rows are the snapshot (no copy, no re-sort).
        # The rows are the previous snapshot's, so are its person count.
        table = old if _is_sorted(old) else _sorted(old)
        meta = _meta(ctx, head, table, prev.meta.persons, built="incremental", recomputed_persons=0)
        return Snapshot(table, meta)

    ids = sorted({i for p in affected for i in groups.ids_of(p)})
    by_id: dict[str, list[ConsentEvent]] = defaultdict(list)
    for ev in ledger.events_of(ids):
        if ev.seq <= head[0]:
            by_id[ev.subject].append(ev)
    reconsent = ctx.next_reconsent_us()
    rows = _Rows()
    for person in sorted(affected):
        members = groups.ids_of(person)
        events = [e for i in members for e in by_id.get(i, ())]
        if not events and person not in groups.canonical:
            continue  # no events and no links: a full build would not list it either
        d, until = _decide_person(ctx, events, reconsent)
        rows.add_person(members, d, until)

    # Unaffected rows keep their decision. Every old row of an affected person is among ``ids``: its
    # key is a member of the person's group now, or its old group-mates made the group affected.
    drop = pa.array(ids, pa.string())
    kept = old.filter(pc.invert(pc.is_in(old.column("key"), value_set=drop)))
    table = _sorted(pa.concat_tables([kept, rows.table()]))
    meta = _meta(ctx, head, table, _persons(table), built="incremental", recomputed_persons=rows.persons)
    return Snapshot(table, meta)


def _regrouped(old: pa.Table, groups: _Groups) -> Iterator[tuple[str | None, str]]:
    """``(old person or None if it had no row, person now)`` for every identifier whose person
    differs between the previous snapshot and the current alias links.

    Vectorised: an identifier without a link is its own person, so among the rows whose key has no
    link only those with ``person != key`` changed (they lost their link); only identifiers that do
    appear in links are compared one by one with their old row (found by hash lookup in Arrow).
    """
    keys, persons = old.column("key"), old.column("person")
    linked_ids = list(groups.canonical)
    linked = pa.array(linked_ids, pa.string())
    now = pa.array([groups.canonical[i] for i in linked_ids], pa.string())
    # Each old row's position among the linked identifiers (null: the identifier has no link now).
    at = pc.index_in(keys, value_set=linked)
    in_links = pc.is_valid(at)
    # Rows whose identifier has no link now: their person must be the identifier itself.
    lone = old.filter(pc.and_(pc.invert(in_links), pc.not_equal(keys, persons)))
    for key, was in zip(lone.column("key").to_pylist(), lone.column("person").to_pylist(), strict=True):
        yield was, key
    if not linked_ids:
        return
    # Rows of linked identifiers: their old person against their group now.
    rows = old.select(["key", "person"]).filter(in_links).append_column("now", pc.take(now, pc.drop_null(at)))
    moved = rows.filter(pc.not_equal(rows.column("person"), rows.column("now")))
    yield from zip(moved.column("person").to_pylist(), moved.column("now").to_pylist(), strict=True)
    if rows.num_rows < len(linked_ids):
        # Linked identifiers without a row: new to the snapshot.
        new = pc.invert(pc.is_in(linked, value_set=rows.column("key")))
        for name in now.filter(new).to_pylist():
            yield None, name


def _is_sorted(table: pa.Table) -> bool:
    """Whether the rows are sorted by key (strictly: keys are unique), as every snapshot built here is."""
    if table.num_rows < 2:
        return True
    keys = table.column("key")
    return bool(pc.all(pc.less(keys.slice(0, len(keys) - 1), keys.slice(1))).as_py())


def _persons(table: pa.Table) -> int:
    return int(pc.count_distinct(table.column("person")).as_py()) if table.num_rows else 0


def _sorted(table: pa.Table) -> pa.Table:
    return table.sort_by([("key", "ascending")]).combine_chunks()


def _from_micros(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)
