"""The training-run guard: every record checked against the latest snapshot; the first one that may
not be used stops the run with a ConsentViolation; a withdrawal during the run is caught at the next
batch after a refresh, which reads only the events after the snapshot's head."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import consentgate
from consentgate.errors import BadInput, ConsentViolation
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions, Suppression, build_snapshot
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import Policy
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore

from .conftest import AT, POLICY, SUPPRESSION_KEY, ev

_OPTION_FIELDS = set(FilterOptions.__dataclass_fields__)


class Clocks:
    """A monotonic clock (refresh interval) and a wall clock (decision time) the test moves."""

    def __init__(self) -> None:
        self.mono = 1000.0
        self.wall = AT

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += timedelta(seconds=seconds)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def start(policy: Policy, populated: ConsentService, clocks: Clocks) -> Callable[..., TrainingRun]:
    def make(purpose: str = "train_chat", **kw: Any) -> TrainingRun:
        """A run on the test ledger; the keywords of FilterOptions go into the run's options."""
        read = {k: kw.pop(k) for k in _OPTION_FIELDS & kw.keys()}
        kw["options"] = FilterOptions(**{"subject_column": "user_id", **read})
        return TrainingRun(
            purpose,
            model=kw.pop("model", "support-bot-v7"),
            dataset=kw.pop("dataset", "hf://example/chats@rev3"),
            policy=policy,
            ledger=populated.ledger,
            clock=lambda: clocks.mono,
            now=lambda: clocks.wall,
            **kw,
        )

    return make


def rows(*subjects: Any, flag: Any = False) -> list[dict[str, Any]]:
    return [{"user_id": s, "do_not_train": flag, "text": f"message {i}"} for i, s in enumerate(subjects)]


def stored(ledger: Ledger, run: TrainingRun) -> Any:
    found = RunStore(ledger.engine).get(run.run_id)
    assert found is not None
    return found


# -- the acceptance test ---------------------------------------------------------------------


def test_a_withdrawal_recorded_after_the_snapshot_is_caught_at_the_next_batch(
    start: Callable[..., TrainingRun],
    populated: ConsentService,
    clocks: Clocks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ledger = populated.ledger
    head_at_start = ledger.head()[0]
    read_after: list[int] = []
    read_events = 0
    real_iter = ledger.iter_events

    def spy(after_seq: int = 0, chunk: int = 5000) -> Iterator[Any]:
        nonlocal read_events
        read_after.append(after_seq)
        for e in real_iter(after_seq, chunk):
            read_events += 1
            yield e

    with start(refresh_seconds=30) as run:
        assert run.check(rows("alice", "cookie-alice")) is not None  # alice granted on 06-10: allowed
        monkeypatch.setattr(ledger, "iter_events", spy)
        # Alice withdraws while the run is in progress (through the service, as the API would).
        populated.record([ev("alice", "withdraw", (AT + timedelta(seconds=5)).isoformat())], strict=False)
        clocks.advance(10)
        run.check(rows("alice"))  # within refresh_seconds: the snapshot is still the one from entry
        assert read_after == []
        clocks.advance(25)  # 35 s since the snapshot: the next batch refreshes first
        with pytest.raises(ConsentViolation) as caught:
            run.check(rows("hal", "cookie-alice", "alice"))

    err = caught.value
    assert err.reason == "not_allowed"
    assert err.record == 4  # 2 + 1 records passed before; then row 1 of the third batch
    assert err.subject == "cookie-alice"
    assert err.purpose == "train_chat"
    assert "withdrawn" in err.message
    withdrawal = populated.history("alice")[-1]
    assert err.event_id == withdrawal.event_id
    assert "cookie-alice" not in str(err)  # the subject is on the exception, not in the message
    # The refresh read only the events after the head of the snapshot it started from.
    assert read_after == [head_at_start]
    assert read_events == 1
    assert run.snapshot is not None
    assert run.snapshot.meta.built == "incremental"
    assert run.status == "stopped_by_violation"

    # The stored run: stopped, and listed for alice (and her alias: one person).
    store = RunStore(ledger.engine)
    for who in ("alice", "cookie-alice"):
        ids, found = store.used_by(who)
        assert ids == {"alice", "cookie-alice"}
        assert [r.run_id for r in found] == [run.run_id]
    record = stored(ledger, run)
    assert record.status == "stopped_by_violation"
    assert record.records == 3  # the failing batch was never handed to training
    assert record.head_seq_first == head_at_start
    assert record.head_seq_last == head_at_start + 1
    violation = record.manifest["violation"]
    assert violation["reason"] == "not_allowed"
    assert violation["record"] == 4
    assert violation["evidence_event"] == withdrawal.event_id
    assert "cookie-alice" not in str(record.manifest)


def test_the_run_stays_stopped_after_a_violation(start: Callable[..., TrainingRun]) -> None:
    with start() as run:
        with pytest.raises(ConsentViolation):
            run.check(rows("alice", "dave"))
        with pytest.raises(ConsentViolation) as again:  # even a good batch: the run is over
            run.check(rows("alice"))
    assert again.value.reason == "not_allowed"
    assert run.status == "stopped_by_violation"


# -- every reason, the same rules as the filter --------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "reason", "row"),
    [
        (rows("alice", "dave"), "not_allowed", 1),  # dave refused
        (rows("alice", "gina"), "not_allowed", 1),  # unknown to the ledger, consent purpose
        (rows("alice", "erin"), "not_allowed", 1),  # erased: no longer listed
        (rows("cookie-alice", None), "no_subject", 1),
        (rows("alice", ""), "no_subject", 1),
        ([*rows("alice"), {"user_id": "alice", "do_not_train": True}], "do_not_train", 1),
        ([*rows("alice"), {"user_id": "alice", "do_not_train": 1}], "do_not_train", 1),
    ],
)
def test_each_reason_stops_the_run(
    start: Callable[..., TrainingRun], batch: list[dict[str, Any]], reason: str, row: int
) -> None:
    with pytest.raises(ConsentViolation) as caught, start() as run:
        run.check(batch)
    assert caught.value.reason == reason
    assert caught.value.record == row
    assert run.status == "stopped_by_violation"


def test_suppressed_subjects_stop_the_run_whatever_their_decision(start: Callable[..., TrainingRun]) -> None:
    sup = Suppression(SUPPRESSION_KEY)
    sup.add("hal")  # hal granted and is allowed; his erasure suppression wins
    with pytest.raises(ConsentViolation) as caught, start(suppression=sup) as run:
        run.check(rows("alice", "hal"))
    assert caught.value.reason == "suppressed"
    assert run.manifest()["suppression"] == {"entries": 1, "digest": sup.digest}


def test_records_without_subject_follow_the_no_subject_rule(start: Callable[..., TrainingRun]) -> None:
    with start(source="metrics") as run:  # metrics: declared personal: false
        run.check(rows("alice", None, ""))
    assert run.status == "completed"
    assert run.records == 3
    with start(no_subject="keep") as run:
        run.check(rows(None))
    assert run.status == "completed"


def test_an_opt_out_purpose_allows_unknown_subjects(start: Callable[..., TrainingRun]) -> None:
    with start("train_optout") as run:
        run.check(rows("zed", "ken"))  # zed: unknown, so allowed; ken granted in the EU
        with pytest.raises(ConsentViolation) as caught:
            run.check(rows("zed", "lee"))  # lee: Global Privacy Control in California
    assert caught.value.record == 3
    assert "Global Privacy Control" in caught.value.message


def test_integer_subject_ids_match_their_decimal_text(
    start: Callable[..., TrainingRun], populated: ConsentService
) -> None:
    populated.record([ev("42", "grant", "2026-06-15T09:00:00Z")], strict=False)
    with start() as run:
        run.check(pa.table({"user_id": pa.array([42, 42], pa.int64())}))
        with pytest.raises(ConsentViolation):
            run.check(pa.table({"user_id": pa.array([42, 43], pa.int64())}))


# -- batch kinds ----------------------------------------------------------------------------------------

SUBJECTS = ["alice", "cookie-alice", "dave", "alice"]
FLAGS = [False, None, False, True]


def as_kind(kind: str) -> Any:
    table = pa.table({"user_id": SUBJECTS, "do_not_train": pa.array(FLAGS, pa.bool_()), "x": [1, 2, 3, 4]})
    if kind == "arrow-table":
        return table
    if kind == "arrow-batch":
        return table.to_batches()[0]
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    if kind == "pandas":
        return table.to_pandas()
    if kind == "dicts":
        return table.to_pylist()
    if kind == "tuple-of-dicts":
        return tuple(table.to_pylist())
    if kind == "collated-lists":
        return {"user_id": SUBJECTS, "do_not_train": FLAGS, "x": [1, 2, 3, 4]}
    if kind == "collated-numpy":  # what default_collate makes of numbers: arrays with .tolist()
        return {
            "user_id": list(SUBJECTS),
            "do_not_train": np.array([0, 0, 0, 1]),
            "x": np.arange(4),
        }
    raise AssertionError(kind)


KINDS = [
    "arrow-table", "arrow-batch", "polars", "pandas", "dicts", "tuple-of-dicts", "collated-lists",
    "collated-numpy",
]  # fmt: skip


@pytest.mark.parametrize("kind", KINDS)
def test_every_batch_kind_is_checked_the_same_way(start: Callable[..., TrainingRun], kind: str) -> None:
    batch = as_kind(kind)
    with pytest.raises(ConsentViolation) as caught, start() as run:
        run.check(batch)
    assert caught.value.record == 2  # dave, before alice's flagged record
    assert caught.value.reason == "not_allowed"
    # The same data without dave: the flagged record is next.
    with pytest.raises(ConsentViolation) as caught, start(dataset="local") as run:
        run.check(_without_dave(batch, kind))
    assert caught.value.reason == "do_not_train"
    assert caught.value.record == 2


def _without_dave(batch: Any, kind: str) -> Any:
    if kind.startswith("arrow") or kind == "polars":
        return batch.filter(_not_dave(batch["user_id"], kind))
    if kind == "pandas":
        return batch[batch["user_id"] != "dave"]
    if kind in ("dicts", "tuple-of-dicts"):
        return [r for r in batch if r["user_id"] != "dave"]
    keep = [i for i, s in enumerate(SUBJECTS) if s != "dave"]
    return {k: [list(v)[i] for i in keep] for k, v in batch.items()}


def _not_dave(col: Any, kind: str) -> Any:
    if kind == "polars":
        return col != "dave"
    import pyarrow.compute as pc

    return pc.not_equal(col, "dave")


@pytest.mark.parametrize("kind", KINDS)
def test_an_allowed_batch_comes_back_unchanged(start: Callable[..., TrainingRun], kind: str) -> None:
    batch = _without_dave(as_kind(kind), kind)
    if isinstance(batch, dict):
        batch["do_not_train"] = [False] * len(batch["user_id"])
    elif isinstance(batch, list | tuple):
        batch = [{**r, "do_not_train": False} for r in batch]
    else:
        batch = _drop_flag(batch, kind)
    with start() as run:
        assert run.check(batch) is batch
    assert run.records == 3
    assert run.batches == 1


def _drop_flag(batch: Any, kind: str) -> Any:
    if kind == "pandas":
        return batch.drop(columns=["do_not_train"])
    if kind == "polars":
        return batch.drop("do_not_train")
    return batch.drop_columns(["do_not_train"])


def test_guard_wraps_a_loader(start: Callable[..., TrainingRun]) -> None:
    loader = (rows("alice", "cookie-alice") for _ in range(5))
    seen = 0
    with start() as run:
        for batch in run.guard(loader):
            seen += len(batch)
    assert seen == 10
    assert run.status == "completed"


# -- bad input and misuse -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("batch", "needle"),
    [
        ([{"text": "no subject key anywhere"}], "subject column 'user_id'"),
        ({"text": ["a"]}, "no subject column 'user_id'"),
        (pa.table({"text": ["a"]}), "no subject column 'user_id'"),
        ([{"user_id": 1.5}], "must be strings or integers"),
        ([{"user_id": "alice", "do_not_train": "yes"}], "true/false"),
        (iter(rows("alice")), "one-shot iterator"),
        ("alice", "cannot check"),
        ([("alice", False)], "not a dict"),
    ],
)
def test_bad_batches_are_bad_input(start: Callable[..., TrainingRun], batch: Any, needle: str) -> None:
    with pytest.raises(BadInput, match=needle), start() as run:
        run.check(batch)
    assert run.status == "failed"


def test_a_named_flag_column_must_exist(start: Callable[..., TrainingRun]) -> None:
    with (
        pytest.raises(BadInput, match="no flag column 'opted_out'"),
        start(flag_column="opted_out") as run,
    ):
        run.check(rows("alice"))


def test_refresh_interval_is_capped_so_withdrawals_arrive_within_a_minute(policy: Policy) -> None:
    with pytest.raises(BadInput, match="between 0 and 30"):
        TrainingRun("train_chat", "m", "d", policy=policy, ledger="unused.db", refresh_seconds=120)


def test_check_outside_the_with_block_is_a_usage_error(start: Callable[..., TrainingRun]) -> None:
    run = start()
    with pytest.raises(RuntimeError, match="context manager"):
        run.check(rows("alice"))
    with run:
        pass
    with pytest.raises(RuntimeError, match="entered once"), run:
        pass


def test_a_mistyped_ledger_path_is_refused(policy: Policy, tmp_path: Path) -> None:
    """An empty new ledger would let everyone through an opt-out purpose."""
    run = TrainingRun("train_optout", "m", "d", policy=policy, ledger=str(tmp_path / "typo.db"))
    with pytest.raises(BadInput, match="does not exist"), run:
        pass
    assert not (tmp_path / "typo.db").exists()


def test_unknown_source_is_bad_input(start: Callable[..., TrainingRun]) -> None:
    with pytest.raises(BadInput, match="unknown source"), start(source="nope"):
        pass


# -- what is stored -----------------------------------------------------------------------------------


def test_a_completed_run_stores_its_manifest(
    start: Callable[..., TrainingRun], populated: ConsentService, tmp_path: Path, clocks: Clocks
) -> None:
    data = tmp_path / "chats"
    data.mkdir()
    (data / "part-0.jsonl").write_text('{"user_id": "alice"}\n')
    (data / "_SUCCESS").write_text("")
    with start(dataset=[data, "s3://bucket/extra/"], refresh_seconds=30) as run:
        run.check(rows("alice", "cookie-alice"))
        clocks.advance(31)
        run.check(rows("alice"))
    record = stored(populated.ledger, run)
    m = record.manifest
    assert record.status == "completed" == m["status"]
    assert (record.kind, record.purpose, record.model) == ("training", "train_chat", "support-bot-v7")
    assert (record.records, record.subjects) == (3, 2)
    assert m["counts"] == {"batches": 2, "records": 3, "subjects": 2}
    assert m["dataset"][0]["name"] == str(data)
    assert m["dataset"][0]["fingerprint"].startswith("sha256:")
    assert m["dataset"][0]["files"] == 1  # _SUCCESS is skipped
    assert m["dataset"][1] == {"name": "s3://bucket/extra/", "fingerprint": None}
    assert m["snapshot"]["first"]["head_seq"] == populated.ledger.head()[0]
    assert m["snapshot"]["refreshes"] == 1
    assert m["snapshot"]["full_rebuilds"] == []
    assert m["snapshot"]["unknown_subjects"]["allowed"] is False
    assert m["settings"]["subject_column"] == "user_id"
    assert m["subjects"]["stored_as"] == "hmac-sha256/128"
    assert m["subjects"]["digest"].startswith("sha256:")
    assert m["started_at"] == AT.isoformat()
    assert m["finished_at"] == (AT + timedelta(seconds=31)).isoformat()
    assert m["violation"] is None
    assert "alice" not in str(m)


def test_a_run_is_recorded_as_running_while_it_runs_and_failed_on_an_error(
    start: Callable[..., TrainingRun], populated: ConsentService
) -> None:
    run = start()

    def train() -> None:
        with run:
            run.check(rows("alice"))
            assert stored(populated.ledger, run).status == "running"
            raise ZeroDivisionError  # the training step fails

    with pytest.raises(ZeroDivisionError):
        train()
    record = stored(populated.ledger, run)
    assert record.status == "failed"
    assert record.manifest["error"] == "ZeroDivisionError"
    assert record.records == 1
    _, found = RunStore(populated.ledger.engine).used_by("alice")
    assert [r.run_id for r in found] == [run.run_id]


def test_subjects_are_flushed_at_each_refresh(
    start: Callable[..., TrainingRun], populated: ConsentService, clocks: Clocks
) -> None:
    """A run that is killed still leaves behind the identifiers it had used by its last refresh."""
    store = RunStore(populated.ledger.engine)
    with start() as run:
        run.check(rows("alice"))
        assert store.used_by("alice")[1] == []
        clocks.advance(30)
        run.check(rows("hal"))  # the refresh before this batch stores alice
        assert [r.run_id for r in store.used_by("alice")[1]] == [run.run_id]
        with pytest.raises(ConsentViolation):
            run.check(rows("frank"))


def test_an_expiring_consent_is_caught_without_waiting_for_the_refresh_interval(
    start: Callable[..., TrainingRun], clocks: Clocks
) -> None:
    """alice's grant (2026-06-10T09:00) expires after 30 days; the snapshot row says so in valid_until."""
    clocks.wall = datetime.fromisoformat("2026-07-10T08:59:00+00:00")
    with start() as run:
        run.check(rows("alice"))
        clocks.wall += timedelta(minutes=2)  # the monotonic clock does not move: no interval refresh
        with pytest.raises(ConsentViolation, match="expired"):
            run.check(rows("alice"))


def test_a_run_can_start_from_a_snapshot_file(
    start: Callable[..., TrainingRun], policy: Policy, populated: ConsentService, tmp_path: Path
) -> None:
    path = tmp_path / "consent.parquet"
    build_snapshot(policy, populated.ledger, "train_chat", AT - timedelta(days=1)).write(path)
    populated.record([ev("gina", "grant", "2026-06-19T12:00:00Z")], strict=False)
    with start(snapshot=path) as run:
        assert run.snapshot is not None
        assert run.snapshot.meta.built == "incremental"
        run.check(rows("gina"))


def test_a_run_opens_and_closes_a_ledger_given_by_url(populated: ConsentService) -> None:
    url = populated.ledger.url
    with TrainingRun(
        "train_chat", "m", "d", policy=POLICY, ledger=url, options=FilterOptions("user_id")
    ) as run:
        run.check(rows("cookie-alice")[:0])  # an empty batch passes
    assert RunStore(populated.ledger.engine).get(run.run_id) is not None


def test_training_run_is_exported_at_the_top_level() -> None:
    assert consentgate.TrainingRun is TrainingRun
