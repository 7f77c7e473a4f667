"""Gate 1, at collection: stamp each outgoing event or transcript message with the subject's consent.

A stamp adds two fields to a record:

``do_not_train``
    ``true`` unless the subject is allowed for the purpose right now. Later gates drop or refuse
    flagged records even if the person's state changes again (the dataset filter's ``do_not_train``
    rule), so a message written while someone had opted out never trains a model.
``consent_version``
    ``"<notice id>@<version>"`` of the grant that decided (e.g. ``"ai-training@2"``), so the exact
    wording the person agreed to can be found for any record; ``null`` when no grant decided (an
    opt-out basis with no objection, a refusal, no record at all).

Two stampers: :meth:`consentgate.client.ConsentgateClient.stamp` asks the service (with a short
cache), :class:`SnapshotStamper` reads snapshot files (``consentgate snapshot``) and needs no network.
Both **fail closed**: when the answer is unknown (the service unreachable, a snapshot decision past
its ``valid_until``), the stamp says ``do_not_train: true``.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from consentgate.errors import BadInput

if TYPE_CHECKING:
    import pyarrow as pa

    from consentgate.ledger.store import Ledger
    from consentgate.pipeline.snapshot import Snapshot, SnapshotMeta

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class Stamp:
    """``do_not_train`` and ``consent_version`` for one (subject, purpose); ``degraded`` is true when
    the stamp failed closed because the decision could not be made (not written into records)."""

    do_not_train: bool
    consent_version: str | None
    degraded: bool = False

    def fields(self) -> dict[str, Any]:
        return {"do_not_train": self.do_not_train, "consent_version": self.consent_version}

    def apply(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of ``record`` with the two fields set (the input is not changed)."""
        return {**record, **self.fields()}


UNKNOWN = Stamp(do_not_train=True, consent_version=None, degraded=True)


def version_label(notice_id: str, version: object) -> str:
    """``"ai-training@2"``: notice ids cannot contain ``@`` (policy ids are ``[A-Za-z0-9_.-]``)."""
    return f"{notice_id}@{version}"


class Bounded(Generic[_K, _V]):
    """A small thread-safe LRU map, optionally with a time to live per entry."""

    def __init__(
        self, max_entries: int, ttl: float | None = None, clock: Callable[[], float] = time.monotonic
    ):
        self._items: OrderedDict[_K, tuple[float, _V]] = OrderedDict()
        self._max = max_entries
        self._ttl = ttl
        self._clock = clock
        self._lock = Lock()

    def get(self, key: _K) -> tuple[bool, _V | None]:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return False, None
            born, value = found
            if self._ttl is not None and self._clock() - born >= self._ttl:
                del self._items[key]
                return False, None
            self._items.move_to_end(key)
            return True, value

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._items[key] = (self._clock(), value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def drop(self, match: Callable[[_K], bool] | None = None) -> None:
        with self._lock:
            if match is None:
                self._items.clear()
            else:
                for key in [k for k in self._items if match(k)]:
                    del self._items[key]


class SnapshotStamper:
    """Stamps from snapshot files, without the service: for backends that cannot reach it.

    ::

        stamper = SnapshotStamper("consent.parquet")          # one file per purpose
        message = stamper.stamp(message, "user-42", "train_support_chatbot")

    Every ``check_seconds`` the files are looked at again and re-read when they changed, so a cron job
    that refreshes them (``consentgate snapshot --from consent.parquet --out consent.parquet``) is
    picked up; withdrawals reach the stamps that fast, and no faster. A decision whose ``valid_until``
    has passed (a consent expiring) stamps ``do_not_train: true`` until the next snapshot.

    Snapshots hold the deciding event's id, not its notice: ``consent_version`` is filled in only when
    a ``ledger`` is given (one indexed lookup per new deciding event, cached), else it is ``None``.
    """

    def __init__(
        self,
        *snapshots: str | Path | Snapshot,
        ledger: Ledger | None = None,
        check_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not snapshots:
            raise BadInput("give at least one snapshot (a file from `consentgate snapshot`, or a Snapshot)")
        self._sources = list(snapshots)
        self._ledger = ledger
        self._check_seconds = check_seconds
        self._clock = clock
        self._now = now or (lambda: datetime.now(UTC))
        self._versions: Bounded[str, str | None] = Bounded(100_000)
        self._lock = Lock()
        self._by_purpose: dict[str, _Lookup] = {}
        self._seen: dict[Path, tuple[int, int]] = {}
        self._checked = clock()
        self.reload(force=True)

    @property
    def purposes(self) -> list[str]:
        return sorted(self._by_purpose)

    def meta(self, purpose: str) -> SnapshotMeta:
        return self._lookup(purpose).meta

    def stamp(self, record: Mapping[str, Any], subject: str, purpose: str | None = None) -> dict[str, Any]:
        """A copy of ``record`` with ``do_not_train`` and ``consent_version`` set."""
        return self.consent_stamp(subject, purpose).apply(record)

    def consent_stamp(self, subject: str, purpose: str | None = None) -> Stamp:
        if self._clock() - self._checked >= self._check_seconds:
            self.reload()
        lookup = self._lookup(purpose)
        found = lookup.find(subject)
        if found is None:
            return Stamp(not lookup.meta.default_allowed, None)
        allowed, event, valid_until = found
        if valid_until is not None and self._now() >= valid_until:
            return UNKNOWN  # the decision may have changed with time alone; the next snapshot knows
        return Stamp(not allowed, self._version(event))

    def reload(self, *, force: bool = False) -> None:
        """Re-read the snapshot files that changed on disk (all of them with ``force``)."""
        from consentgate.pipeline.snapshot import Snapshot

        with self._lock:
            self._checked = self._clock()
            for src in self._sources:
                if isinstance(src, Snapshot):
                    if force:
                        self._by_purpose[src.meta.purpose] = _Lookup(src)
                    continue
                path = Path(src)
                try:
                    st = path.stat()
                except FileNotFoundError:
                    if force:
                        raise BadInput(f"{path}: no such snapshot file") from None
                    continue  # being replaced: keep what was read last
                state = (st.st_mtime_ns, st.st_size)
                if force or self._seen.get(path) != state:
                    snap = Snapshot.read(path)
                    self._by_purpose[snap.meta.purpose] = _Lookup(snap)
                    self._seen[path] = state

    def _lookup(self, purpose: str | None) -> _Lookup:
        if purpose is None:
            if len(self._by_purpose) != 1:
                raise BadInput(f"name the purpose; the snapshots are for: {', '.join(self.purposes)}")
            return next(iter(self._by_purpose.values()))
        found = self._by_purpose.get(purpose)
        if found is None:
            raise BadInput(
                f"no snapshot for purpose {purpose!r} (loaded: {', '.join(self.purposes)}); make one with "
                f"`consentgate snapshot --purpose {purpose} --out FILE.parquet`",
                purpose=purpose,
            )
        return found

    def _version(self, event_id: str | None) -> str | None:
        if event_id is None or self._ledger is None:
            return None
        hit, version = self._versions.get(event_id)
        if hit:
            return version
        ev = self._ledger.event(event_id)
        version = None
        if ev is not None and ev.action.value == "grant" and ev.notice_id is not None:
            version = version_label(ev.notice_id, ev.notice_version)
        self._versions.put(event_id, version)  # events never change: safe to keep
        return version


class _Lookup:
    """One snapshot's rows by key, found by binary search over the sorted Arrow column (no Python
    dict of every identifier: a million-subject snapshot stays a few Arrow buffers)."""

    def __init__(self, snap: Snapshot) -> None:
        table = snap.table.sort_by([("key", "ascending")])
        self.meta = snap.meta
        self.keys: pa.Array = table.column("key").combine_chunks()
        self.allowed: pa.Array = table.column("allowed").combine_chunks()
        self.evidence: pa.Array = table.column("evidence_event").combine_chunks()
        self.valid_until: pa.Array = table.column("valid_until").combine_chunks()

    def find(self, key: str) -> tuple[bool, str | None, datetime | None] | None:
        keys = self.keys
        lo, hi = 0, len(keys)
        while lo < hi:  # Arrow sorts strings by UTF-8 bytes, which is Python's code point order
            mid = (lo + hi) // 2
            if keys[mid].as_py() < key:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(keys) or keys[lo].as_py() != key:
            return None
        return bool(self.allowed[lo].as_py()), self.evidence[lo].as_py(), self.valid_until[lo].as_py()
