"""Gate 3, the training-run guard: every batch checked against the latest snapshot; a hard stop.

::

    import consentgate

    from consentgate.pipeline import FilterOptions

    with consentgate.TrainingRun("train_support_chatbot", model="support-bot-v7",
                                 dataset="chats-2026-06/",
                                 options=FilterOptions(subject_column="user_id")) as run:
        for batch in run.guard(loader):      # or: run.check(batch) before each step
            train_step(batch)

A record passes when the dataset filter would keep it (same rules, same order, same code:
:mod:`consentgate.pipeline.plan` and the Arrow engine's verdicts): its subject is allowed for the
purpose, not under an erasure suppression, present (per the no-subject rule) and not flagged
``do_not_train``. The first record that fails raises :class:`~consentgate.errors.ConsentViolation`
naming the record (its position in the run, batch and row), the reason and the deciding event — and
the run is over: it is never a silent drop, and every later ``check`` raises again.

**Freshness.** Before a batch, when ``refresh_seconds`` (at most 30) have passed since the last
refresh, or a decision in the snapshot has reached its ``valid_until`` (a consent expiring), the
snapshot is brought up to date incrementally: only ledger events after its head are read
(:func:`~consentgate.pipeline.snapshot.build_snapshot` with ``previous=``). A withdrawal recorded
while the run is in progress therefore stops the run at its first batch after the next refresh —
within 30 seconds of the withdrawal, plus the length of one batch.

**Manifest.** On entry the run is stored as ``running`` in the ledger database; on exit (normal,
stopped or failed) its manifest replaces it: purpose, model, dataset fingerprints, the snapshot
heads used first and last, counts, and a digest of the subject ids seen in order. The identifiers it
used are stored as keyed hashes (:mod:`consentgate.store.runs`), flushed at every refresh so even
a run that is killed leaves them behind; ``consentgate runs --subject S`` lists the runs that used S.
Records of a batch that failed are not counted as used: the caller never received that batch.
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from consentgate.errors import BadInput, ConsentViolation, WrongProcess
from consentgate.ledger.store import Ledger
from consentgate.pipeline.batches import SubjectBatch, columns_of
from consentgate.pipeline.engines import arrow as arrow_engine
from consentgate.pipeline.lineage import refilter, trace_dataset
from consentgate.pipeline.manifest import Manifest, fingerprint_files
from consentgate.pipeline.plan import (
    KEY_COL,
    VERDICT_COL,
    FilterOptions,
    FilterPlan,
    Verdict,
    make_plan,
)
from consentgate.pipeline.snapshot import Snapshot, build_snapshot
from consentgate.pipeline.staleness import MaxStaleness, enforce, staleness_of
from consentgate.pipeline.suppression import ledger_suppression
from consentgate.policy import Policy, Source, load_policy
from consentgate.settings import Settings
from consentgate.store.checkpoints import CheckpointStore
from consentgate.store.engine import missing_sqlite_file
from consentgate.store.heads import HeadReader
from consentgate.store.runs import HASH_NAME, RunStore

MANIFEST_FORMAT = "consentgate-run-manifest/1"
MAX_REFRESH_SECONDS = 30.0  # a withdrawal must stop a run within 60 s (issue #4): half of that, at most
# A check before every step is the default (issue 15): a refresh with nothing new costs one indexed read
# of the ledger head (benchmarks/guard.py, docs/benchmarks.md).
DEFAULT_REFRESH_SECONDS = 0.0
# New subjects are written at most this often (and at every checkpoint and at the end): a durable
# commit per step would cost more than the check. A run killed without reaching its end may miss the
# subjects of its last FLUSH_SECONDS; it stays "running" in `consentgate runs`, which says so.
FLUSH_SECONDS = 5.0


class TrainingRun:
    """A training run that declares its purpose; each batch is checked before it is used.

    ``policy``: a :class:`Policy` or a policy file (default: ``CONSENTGATE_POLICY``). ``ledger``: a
    :class:`Ledger` (left open) or a database URL/path (opened and closed by the run; default
    ``CONSENTGATE_DB``). ``dataset``: one name or path, or several; existing paths are fingerprinted.
    ``snapshot``: an earlier snapshot (object or Parquet file) to bring up to date instead of building
    one from the whole ledger. ``options``: how batches are read (:class:`FilterOptions`: the subject
    column, default ``subject``; the flag column; the no-subject rule; the source, an id looked up in
    the policy; an extra suppression list), the same object the dataset filter takes. Local dataset
    files are traced to the filter runs that wrote them; ``max_staleness`` (e.g. ``"100,10m"``)
    refuses one whose filter snapshot is further behind the ledger, ``refilter=True`` filters a stale
    one again before the first batch (docs/pipeline.md, "Stale data and lineage"). ``clock``
    (monotonic seconds) and ``now`` (wall clock) are injectable for tests.
    """

    def __init__(
        self,
        purpose: str,
        model: str,
        dataset: str | Path | Manifest | Sequence[str | Path | Manifest],
        *,
        policy: Policy | str | Path | None = None,
        ledger: Ledger | str | None = None,
        options: FilterOptions | None = None,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        snapshot: Snapshot | str | Path | None = None,
        max_staleness: MaxStaleness | str | None = None,
        refilter: bool = False,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        if not 0 <= refresh_seconds <= MAX_REFRESH_SECONDS:
            raise BadInput(
                f"refresh_seconds must be between 0 and {MAX_REFRESH_SECONDS:g} (a withdrawal must stop a "
                f"run within 60 seconds), not {refresh_seconds}"
            )
        self.options = options if options is not None else FilterOptions()
        self.run_id = str(uuid.uuid4())
        self.purpose = purpose
        self.model = model
        self.dataset = [dataset] if isinstance(dataset, str | Path | Manifest) else list(dataset)
        self.subject_column = self.options.subject_column
        self.flag_column = self.options.flag_column
        self.refresh_seconds = refresh_seconds
        self.suppression = self.options.suppression
        self.status = "not_started"
        self._policy_arg = policy
        self._ledger_arg = ledger
        self._snapshot_arg = snapshot
        limit = max_staleness
        self._max_staleness = MaxStaleness.parse(limit) if isinstance(limit, str) else limit
        self._refilter = refilter
        self._clock = clock
        self._now = now or _utc_now
        # Set on entry.
        self._policy: Policy | None = None
        self._ledger: Ledger | None = None
        self._owns_ledger = False
        self._store: RunStore | None = None
        self._snapshot: Snapshot | None = None
        self._first: Snapshot | None = None
        self._options: FilterOptions | None = None
        self._plan: FilterPlan | None = None
        self._exceptions: dict[str, int] = {}
        self._refreshed_at = 0.0
        self._flushed_at = 0.0
        self._marks: tuple[int, int] | None = None  # (event head, record head) the snapshot reflects
        self._heads: HeadReader | None = None
        self._pid: int | None = None  # the process that entered the run; only it may check and record
        self._due: datetime | None = None
        self._started_at: datetime | None = None
        self._finished_at: datetime | None = None
        self._datasets: list[dict[str, Any]] = []
        # Progress.
        self.batches = 0
        self.records = 0
        self.refreshes = 0
        self._full_rebuilds: list[str] = []
        self._seen: set[bytes] = set()
        self._seen_ids: set[str] = set()
        self._pending: dict[bytes, int] = {}  # subject hash -> the batch that first used it
        self.checkpoints: list[dict[str, Any]] = []
        self._digest = hashlib.sha256(b"consentgate-run-subjects/1\n")
        self._violation: ConsentViolation | None = None
        self._violation_json: dict[str, Any] | None = None
        self._error: str | None = None

    def __repr__(self) -> str:
        return f"TrainingRun({self.purpose!r}, model={self.model!r}, run_id={self.run_id!r}, {self.status})"

    # -- lifecycle ---------------------------------------------------------------------------------

    def __enter__(self) -> TrainingRun:
        if self.status != "not_started":
            raise RuntimeError("a TrainingRun is entered once; make a new one for another run")
        self._pid = os.getpid()
        self._policy, self._ledger, self._owns_ledger = self._open()
        _ENGINES.add(self._ledger.engine)
        try:
            # The ledger's erasure suppressions always apply, on top of any list given.
            self.suppression = ledger_suppression(self._ledger.engine, self.suppression)
            self._options = replace(self.options.with_source_from(self._policy), suppression=self.suppression)
            self._datasets = [fingerprint_dataset(d) for d in self.dataset]
            previous = self._snapshot_arg
            if isinstance(previous, str | Path):
                previous = Snapshot.read(Path(previous))
            self._started_at = self._now()
            marks = self._ledger_marks()
            snap = build_snapshot(self._policy, self._ledger, self.purpose, self._now(), previous=previous)
            self._use(snap, marks)
            self._trace_datasets(snap)
            self._first = self._snapshot
            self._store = RunStore(self._ledger.engine)
            self.status = "running"
            self._store.start(
                run_id=self.run_id,
                kind="training",
                purpose=self.purpose,
                model=self.model,
                started_at=self._started_at,
                head_seq=self._head_seq(),
                manifest=self.manifest(),
            )
        except BaseException:
            self.status = "failed"
            self._close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status != "running":
            return  # never entered, or already closed
        if self._violation is not None:
            self.status = "stopped_by_violation"
        elif exc_type is None:
            self.status = "completed"
        else:
            self.status = "failed"
            self._error = exc_type.__name__  # not the message: it may quote data
        self._finished_at = self._now()
        try:
            assert self._store is not None
            self._flush()
            self._store.finish(
                self.run_id,
                status=self.status,
                finished_at=self._finished_at,
                records=self.records,
                subjects=len(self._seen),
                manifest=self.manifest(),
                head_seq=self._head_seq(),
            )
        finally:
            self._close()

    # -- checking ----------------------------------------------------------------------------------

    def check(self, batch: Any) -> Any:
        """Check every record of ``batch``, as the training step takes it; return what the step
        should use — the batch unchanged, or a :class:`SubjectBatch`'s ``data`` — if all may be used,
        else raise :class:`ConsentViolation` for the first that may not (and the run is stopped).

        Call it in the training process only: in a DataLoader or ``datasets`` worker it raises
        :class:`WrongProcess` (a worker's copy of the run cannot record for the run)."""
        if self._violation is not None:
            raise self._violation
        if self.status != "running":
            raise RuntimeError("use TrainingRun as a context manager: `with TrainingRun(...) as run:`")
        self._same_process("check")
        if self._refresh_due():
            self.refresh()
        if isinstance(batch, SubjectBatch):
            table, out = batch.table(self.subject_column, self.flag_column), batch.data
        elif isinstance(batch, Iterator):
            raise BadInput("a batch must be a list of records, not a one-shot iterator (it would be used up)")
        else:
            (table, _), out = columns_of(batch, self.subject_column, self.flag_column), batch
        n = table.num_rows
        if n == 0:
            return out
        assert self._plan is not None
        plan = self._plan.check_schema(table.schema)
        subjects = _subjects(table, self.subject_column)
        unique = [s for s in pc.unique(subjects).to_pylist() if s]
        plan = self._batch_plan(plan, unique)
        verdicts = arrow_engine.verdicts(table.combine_chunks(), plan)
        bad = pc.index(pc.not_equal(verdicts, 0), True).as_py()
        if bad is not None and bad >= 0:
            self._stop(bad, int(verdicts[bad].as_py()), subjects[bad].as_py(), plan)
        assert self._store is not None
        # Only ids not met before are hashed: after the first epoch, most batches hash nothing.
        new_ids = [s for s in unique if s not in self._seen_ids]
        self._seen_ids.update(new_ids)
        fresh = self._store.hasher.many(new_ids) - self._seen
        self.batches += 1
        self.records += n
        self._seen |= fresh
        self._pending.update(dict.fromkeys(fresh, self.batches))
        self._digest.update(("\0".join(s or "" for s in subjects.to_pylist()) + "\0").encode())
        return out

    def guard(self, batches: Iterable[Any]) -> Iterator[Any]:
        """Yield each batch after checking it: ``for batch in run.guard(loader): train_step(batch)``.
        A batch is checked and counted when the loop asks for it, so one a loader prefetched and the
        loop never took is not counted; :class:`SubjectBatch` es are unwrapped to their data."""
        for batch in batches:
            yield self.check(batch)

    def refresh(self) -> Snapshot:
        """Bring the snapshot up to date now (reads only the ledger events after its head)."""
        if self._snapshot is None or self._policy is None or self._ledger is None:
            raise RuntimeError("the run has not started")
        self._same_process("refresh")
        marks = self._ledger_marks()
        if self._unchanged_since(marks):
            # Nothing recorded since the snapshot (no event, link or suppression) and no decision due:
            # rebuilding would give the same decisions. One indexed read instead of a rebuild.
            self.refreshes += 1
            self._refreshed_at = self._clock()
            self._flush_if_due()
            return self._snapshot
        refresh_list = getattr(self.suppression, "refresh", None)
        if refresh_list is not None:
            refresh_list()  # an erasure since the last refresh stops the run at its next batch
        snap = build_snapshot(self._policy, self._ledger, self.purpose, self._now(), previous=self._snapshot)
        self.refreshes += 1
        if snap.meta.built != "incremental":
            self._full_rebuilds.append(snap.meta.rebuild_reason or "full rebuild")
        self._use(snap, marks)
        self._flush_if_due()
        return snap

    # -- checkpoints (issue 15) ---------------------------------------------------------------------

    def checkpoint(self, name: str | Path) -> dict[str, Any]:
        """Record that a checkpoint (a path or any name) was saved now, after the batches checked so
        far. It holds the data of every subject the run used up to here, so ``consentgate runs
        --subject S`` and the access report list it for them: after a withdrawal or an erasure these
        are the checkpoints to retrain or unlearn from. Call it right after saving."""
        if self.status != "running":
            raise RuntimeError("record checkpoints while the run is running (inside `with TrainingRun(...)`)")
        self._same_process("checkpoint")
        assert self._ledger is not None
        self._flush()  # the subjects it holds must be on record before the checkpoint is
        saved = CheckpointStore(self._ledger.engine).add(
            self.run_id, str(name), batches=self.batches, records=self.records, saved_at=self._now()
        )
        entry = saved.to_json()
        self.checkpoints.append(entry)
        return entry

    # -- what the run records ----------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        """The snapshot the next batch is checked against."""
        return self._snapshot

    @property
    def violation(self) -> ConsentViolation | None:
        """What stopped the run (every later ``check`` raises it again), or None while nothing has."""
        return self._violation

    def manifest(self) -> dict[str, Any]:
        """The run's manifest as stored in the ledger database (and shown by ``consentgate runs``)."""
        plan = self._plan
        sup = self.suppression
        hasher = self._store.hasher if self._store is not None else None
        return {
            "format": MANIFEST_FORMAT,
            "kind": "training",
            "run_id": self.run_id,
            "purpose": self.purpose,
            "model": self.model,
            "dataset": self._datasets,
            "status": self.status,
            "started_at": None if self._started_at is None else self._started_at.isoformat(),
            "finished_at": None if self._finished_at is None else self._finished_at.isoformat(),
            "snapshot": {
                "first": None if self._first is None else self._first.meta.head_json(),
                "last": None if self._snapshot is None else self._snapshot.meta.head_json(),
                "unknown_subjects": None
                if self._snapshot is None
                else {
                    "allowed": self._snapshot.meta.default_allowed,
                    "basis": self._snapshot.meta.default_basis,
                    "reason": self._snapshot.meta.default_reason,
                },
                "refresh_seconds": self.refresh_seconds,
                "refreshes": self.refreshes,
                "full_rebuilds": self._full_rebuilds,
            },
            "settings": {
                "subject_column": self.subject_column,
                "flag_column": self.flag_column,
                "no_subject": None if plan is None else plan.no_subject_rule,
                # The policy source the data came from, when the run named one: the AI Act summary
                # (reports/aiact) reads it to say which sources fed a model.
                "source": _source_id(self.options.source),
            },
            "suppression": None if sup is None else {"entries": len(sup), "digest": sup.digest},
            "counts": {"batches": self.batches, "records": self.records, "subjects": len(self._seen)},
            "subjects": {
                "stored_as": HASH_NAME,
                "key_id": None if hasher is None else hasher.key_id,
                "digest": "sha256:" + self._digest.hexdigest(),
            },
            "checkpoints": [{"name": c["name"], "batches": c["batches"]} for c in self.checkpoints],
            "violation": self._violation_json,
            "error": self._error,
        }

    # -- lineage: the filter runs of the datasets, stale inputs (issue 15 part 3 and 5) --------------

    def _trace_datasets(self, snap: Snapshot) -> None:
        """Trace each local dataset file to the filter run that wrote it (by content hash, in
        ``runs``), and say how far behind the ledger that run's snapshot is: a warning
        (:class:`StaleDataWarning`), a refusal beyond ``max_staleness`` (:class:`StaleData`), or with
        ``refilter=True`` the file is filtered again against ``snap`` (current) before the first batch.
        Datasets no filter run wrote are recorded with ``filter_run: null``: the guard still checks
        every batch, they are just not traced. A filter manifest given as a dataset is measured the
        same way; ``refilter`` cannot filter in-memory data again and refuses a stale one."""
        assert self._ledger is not None
        assert self._options is not None
        for item, entry in zip(self.dataset, self._datasets, strict=True):
            if isinstance(item, Manifest):
                self._measure_filtered(item, entry)
                continue
            path = Path(str(entry["name"]))
            if entry.get("fingerprint") is None or not _parquet(path):
                continue
            traced = trace_dataset(self._ledger, path, now=self._now())
            lag = traced.staleness
            if lag is not None and lag.stale and self._refilter:
                refilter(self._ledger, path, snap, self._options)
                entry["refiltered_from"] = traced.to_json()
                entry.update(fingerprint_dataset(path))
                traced = trace_dataset(self._ledger, path, now=self._now())  # finds the new filter run
            elif lag is not None:
                enforce(lag, self._max_staleness, purpose=self.purpose)
            entry.update(traced.to_json())

    def _measure_filtered(self, manifest: Manifest, entry: dict[str, Any]) -> None:
        assert self._ledger is not None
        head = manifest.snapshot
        what = f"the filtered {manifest.input_description} (filtered in memory by run {manifest.run_id})"
        lag = staleness_of(
            self._ledger, int(head["head_seq"]), str(head["head_hash"]), what=what, now=self._now()
        )
        if lag.stale and self._refilter:
            raise BadInput(
                f"{lag.message()}; refilter=True re-filters files and this data is in memory: filter it "
                "again with a current snapshot (build_snapshot, then filter_dataset or filter_records) "
                "and pass the new result's manifest as the dataset"
            )
        enforce(lag, self._max_staleness, purpose=self.purpose)
        entry["staleness"] = lag.to_json()

    # -- internals ---------------------------------------------------------------------------------

    def _open(self) -> tuple[Policy, Ledger, bool]:
        """The policy and ledger given, or those the settings name (env ``CONSENTGATE_…``)."""
        settings = Settings() if self._policy_arg is None or self._ledger_arg is None else None
        given = self._policy_arg
        if isinstance(given, Policy):
            policy = given
        else:
            policy = load_policy(Path(given) if given is not None else _settings(settings).policy)
        if isinstance(self._ledger_arg, Ledger):
            return policy, self._ledger_arg, False
        url = self._ledger_arg if self._ledger_arg is not None else _settings(settings).db
        _must_exist(url)
        return policy, Ledger.open(url), True

    def _use(self, snap: Snapshot, marks: tuple[int, int]) -> None:
        """Check the next batches against ``snap``; rebuild the lookup only if decisions changed."""
        # The marks were read before the build: anything recorded during it shows as a change next time.
        self._marks = marks
        unchanged = (
            self._snapshot is not None
            and snap.meta.built == "incremental"
            and snap.meta.recomputed_persons == 0
            and snap.meta.default_allowed == self._snapshot.meta.default_allowed
        )
        self._snapshot = snap
        self._refreshed_at = self._clock()
        due = pc.min(snap.table.column("valid_until")).as_py() if snap.table.num_rows else None
        self._due = due
        if unchanged and self._plan is not None:
            self._plan = replace(self._plan, snapshot=snap.meta)
            return
        assert self._options is not None
        self._plan = make_plan(snap, self._options)
        exc = self._plan.exceptions
        self._exceptions = dict(
            zip(exc.column(KEY_COL).to_pylist(), exc.column(VERDICT_COL).to_pylist(), strict=True)
        )

    def _refresh_due(self) -> bool:
        if self._clock() - self._refreshed_at >= self.refresh_seconds:
            return True
        return self._due is not None and self._now() >= self._due

    def _batch_plan(self, plan: FilterPlan, unique: list[str]) -> FilterPlan:
        """The plan narrowed to this batch's subjects: a lookup of a few ids instead of a join against
        every exception (index_in against a million ids costs ~0.3 s per batch; this costs ~µs)."""
        found = [(s, v) for s in unique if (v := self._exceptions.get(s)) is not None]
        small = pa.table(
            {
                KEY_COL: pa.array([s for s, _ in found], pa.string()),
                VERDICT_COL: pa.array([v for _, v in found], pa.int8()),
            }
        )
        plan = replace(plan, exceptions=small)
        if plan.needs_subject_scan:
            assert plan.suppression is not None
            plan = plan.with_suppressed(plan.suppression.matching(unique))
        return plan

    def _stop(self, row: int, code: int, subject: str | None, plan: FilterPlan) -> None:
        assert self._store is not None
        verdict = Verdict(code)
        reason = verdict.name.lower()
        detail, event = self._detail(verdict, subject, plan)
        record = self.records + row
        message = (
            f"training run {self.run_id} ({self.purpose}, model {self.model}) stopped: record {record} "
            f"(batch {self.batches}, row {row}) may not be used — {reason}: {detail}"
        )
        if event is not None:
            message += f"; deciding event {event}"
        self._violation = ConsentViolation(
            message, subject=subject, purpose=self.purpose, event_id=event, reason=reason, record=record
        )
        self._violation_json = {
            "record": record,
            "batch": self.batches,
            "row": row,
            "reason": reason,
            "detail": detail,
            "evidence_event": event,
            "subject_hash": None if not subject else self._store.hasher(subject).hex(),
        }
        raise self._violation

    def _detail(self, verdict: Verdict, subject: str | None, plan: FilterPlan) -> tuple[str, str | None]:
        assert self._snapshot is not None
        if verdict is Verdict.SUPPRESSED:
            return "the subject is under an erasure suppression", None
        if verdict is Verdict.NO_SUBJECT:
            return f"the record has no subject id and the no-subject rule is {plan.no_subject_rule}", None
        if verdict is Verdict.DO_NOT_TRAIN:
            return f"the record's {plan.flag_column!r} flag is true", None
        table = self._snapshot.table
        rows = table.filter(pc.equal(table.column("key"), subject)).to_pylist()
        if rows:
            return str(rows[0]["reason"]), rows[0]["evidence_event"]
        return f"unknown to the ledger: {self._snapshot.meta.default_reason}", None

    def _flush(self) -> None:
        self._flushed_at = self._clock()
        if self._pending and self._store is not None:
            self._store.add_subjects(self.run_id, self._pending)
            self._pending = {}

    def _flush_if_due(self) -> None:
        if self._clock() - self._flushed_at >= FLUSH_SECONDS:
            self._flush()

    # -- processes ---------------------------------------------------------------------------------

    def _same_process(self, doing: str) -> None:
        """Refuse in a forked worker: its copy of the run would check against a copy of the snapshot
        and count into a copy of the record, which the run never sees (issue 15: a run trained on data
        recorded 0 subjects)."""
        if self._pid is not None and os.getpid() != self._pid:
            raise WrongProcess(_worker_message(self, doing))

    def __reduce__(self) -> tuple[Any, tuple[str, str, str]]:
        """Pickled (a ``spawn`` worker, ``datasets.map(num_proc=…)``) the run becomes a stand-in that
        refuses every use with :class:`WrongProcess`: no engine or connection crosses processes, and a
        worker can never record for the run."""
        return _WorkerCopy, (self.run_id, self.purpose, self.model)

    # -- freshness ---------------------------------------------------------------------------------

    def _ledger_marks(self) -> tuple[int, int]:
        """The event chain's and the record chain's heads (one row): every event, alias link and
        suppression moves one of them, so equal marks mean nothing new to decide on.

        Read over a connection of the run's own in autocommit mode (:class:`HeadReader`, as the
        server's decision cache does): one round trip a step. Through the pool it was three on
        PostgreSQL — the pre-ping, the query, the rollback at check-in — 3.3 ms a step instead of
        under 1 (benchmarks/guard.py). A forked worker never reads it: it refuses before a refresh."""
        assert self._ledger is not None
        if self._heads is None:
            self._heads = HeadReader(self._ledger.engine)
        seq, _, records, _ = self._heads.heads()
        return int(seq), int(records)

    def _unchanged_since(self, marks: tuple[int, int]) -> bool:
        if marks != self._marks or self._snapshot is None:
            return False
        return self._due is None or self._now() < self._due

    def _head_seq(self) -> int | None:
        return None if self._snapshot is None else self._snapshot.meta.head_seq

    def _close(self) -> None:
        if self._heads is not None:
            self._heads.close()
            self._heads = None
        if self._owns_ledger and self._ledger is not None:
            self._ledger.close()
        self._owns_ledger = False


# Engines of runs in this process. A forked child (a DataLoader worker) must never use or close the
# parent's pooled connections (closing a PostgreSQL one there ends the parent's session): after a fork
# the child forgets them without closing them (SQLAlchemy's advice for multiprocessing).
_ENGINES: weakref.WeakSet[Any] = weakref.WeakSet()


def _forget_pools_in_child() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _worker_message(run: TrainingRun | _WorkerCopy, doing: str) -> str:
    return (
        f"TrainingRun.{doing}() was called in a worker process (pid {os.getpid()}), not in the training "
        f"process that entered run {run.run_id}: what a worker checks never reaches the run's record, so "
        "it would say 'not used' for data that was trained on. Keep the check in the training loop: in "
        "the worker, collate with consentgate.integrations.torch.SubjectCollate (it hands the subject ids "
        "beside the tensors), and in the loop iterate run.guard(loader) or call run.check(batch)"
    )


class _WorkerCopy:
    """What a pickled :class:`TrainingRun` becomes in another process: every use raises
    :class:`WrongProcess` (at first use, with what to do instead)."""

    def __init__(self, run_id: str, purpose: str, model: str) -> None:
        self.run_id = run_id
        self.purpose = purpose
        self.model = model

    def __reduce__(self) -> tuple[Any, tuple[str, str, str]]:
        return _WorkerCopy, (self.run_id, self.purpose, self.model)

    def __repr__(self) -> str:
        return f"TrainingRun({self.purpose!r}, model={self.model!r}, run_id={self.run_id!r}, in a worker)"

    def check(self, batch: Any) -> Any:
        raise WrongProcess(_worker_message(self, "check"))

    def guard(self, batches: Iterable[Any]) -> Iterator[Any]:
        raise WrongProcess(_worker_message(self, "guard"))

    def refresh(self) -> Snapshot:
        raise WrongProcess(_worker_message(self, "refresh"))

    def checkpoint(self, name: str | Path) -> dict[str, Any]:
        raise WrongProcess(_worker_message(self, "checkpoint"))


def _settings(settings: Settings | None) -> Settings:
    assert settings is not None
    return settings


def _subjects(table: pa.Table, column: str) -> pa.Array:
    col = table.column(column).combine_chunks()
    return col if col.type == pa.string() else col.cast(pa.string())


def _source_id(source: Source | str | None) -> str | None:
    return source.id if isinstance(source, Source) else source


def fingerprint_dataset(item: str | Path | Manifest) -> dict[str, Any]:
    """A dataset given by path is fingerprinted like the filter's input (path, size, mtime per file);
    a filter manifest by its output and its run; anything else (a URI, a registry name) is recorded
    as given."""
    if isinstance(item, Manifest):
        return {
            # In-memory data has no path: a URI of its own, which lineage (OpenLineage) reads as one.
            "name": item.output or f"memory://{item.engine}/{item.run_id}",
            "fingerprint": item.output_fingerprint,
            "filter_run": item.run_id,
            "filtered_at_head": {k: item.snapshot.get(k) for k in ("head_seq", "head_hash", "at")},
        }
    text = str(item)
    path = Path(text)
    if "://" in text or not path.exists():
        return {"name": text, "fingerprint": None}
    if path.is_file():
        files = [path]
    else:
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
        )
    return {"name": text, "fingerprint": fingerprint_files(path, files), "files": len(files)}


def _parquet(path: Path) -> bool:
    """A Parquet file, or a directory holding some (a Spark output): what a filter run writes."""
    if path.is_file():
        return path.suffix == ".parquet"
    return path.is_dir() and any(path.rglob("*.parquet"))


def _must_exist(url: str) -> None:
    """A mistyped SQLite path would open a new, empty ledger: under an opt-out purpose everyone would
    pass. Refuse instead."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise BadInput(f"ledger {missing} does not exist; pass ledger= (or set CONSENTGATE_DB)")
