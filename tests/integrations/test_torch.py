"""PyTorch DataLoader workers (fork and spawn): subject ids travel beside the tensors, the run in the
training process records exactly the batches the loop took, a withdrawal recorded from another
connection mid-run stops the next step, and a check inside a worker refuses instead of recording
nothing (issue 15: a run recorded 0 subjects for data it trained on)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from consentgate.errors import BadInput, ConsentViolation, WrongProcess
from consentgate.integrations.torch import SubjectCollate, SubjectDataset, SubjectIterableDataset
from consentgate.pipeline.batches import SubjectBatch

from .conftest import PEOPLE, REFUSED, World


def loader(data: Any, method: str, **kw: Any) -> DataLoader[Any]:
    kw.setdefault("collate_fn", SubjectCollate(subject_column="user_id"))
    return DataLoader(data, batch_size=4, num_workers=2, multiprocessing_context=method, **kw)


def take_three(run: Any, dl: DataLoader[Any]) -> list[torch.Tensor]:
    taken: list[torch.Tensor] = []
    for batch in run.guard(dl):
        assert set(batch) == {"x"}  # the ids stayed out of the tensors
        taken.append(batch["x"])
        if len(taken) == 3:
            break  # the workers have prefetched more than these 3 batches
    return taken


def withdraw_during_step_two(run: Any, world: World, dl: DataLoader[Any]) -> int:
    steps = 0

    def train() -> None:
        nonlocal steps
        for _batch in run.guard(dl):
            steps += 1
            if steps == 2:
                world.withdraw(PEOPLE[9])  # in batch 3, already prefetched by a worker

    with pytest.raises(ConsentViolation) as caught:
        train()
    assert caught.value.reason == "not_allowed"
    assert caught.value.subject == PEOPLE[9]
    return steps


def test_fork_workers_record_exactly_the_batches_the_loop_took(
    world: World, records: Callable[[int], list[dict[str, Any]]]
) -> None:
    with world.run() as run:
        taken = take_three(run, loader(records(40), "fork", prefetch_factor=4))
    assert run.status == "completed"
    assert sum(len(x) for x in taken) == 12
    # Only the 12 records trained on count: people 0-11, not the prefetched 12-23.
    assert world.users_of(run) == set(PEOPLE[:12])
    assert run.manifest()["counts"] == {"batches": 3, "records": 12, "subjects": 12}


def test_fork_a_withdrawal_from_another_connection_stops_the_next_step(
    world: World, records: Callable[[int], list[dict[str, Any]]]
) -> None:
    with world.run() as run:
        steps = withdraw_during_step_two(run, world, loader(records(24), "fork"))
    assert steps == 2  # batch 3 was refused before the loop got it
    assert run.status == "stopped_by_violation"
    assert world.users_of(run) == set(PEOPLE[:8])  # batch 3 was not trained on


def test_spawn_workers_record_what_was_taken_and_stop_at_a_withdrawal(
    sqlite_world: World, records: Callable[[int], list[dict[str, Any]]]
) -> None:
    # One pair of spawned workers (persistent) for both epochs: starting them is the slow part.
    dl = loader(records(24), "spawn", persistent_workers=True, prefetch_factor=4)
    with sqlite_world.run() as first:
        assert sum(len(x) for x in take_three(first, dl)) == 12
    assert sqlite_world.users_of(first) == set(PEOPLE[:12])
    with sqlite_world.run() as second:
        assert withdraw_during_step_two(second, sqlite_world, dl) == 2
    assert second.status == "stopped_by_violation"
    assert sqlite_world.users_of(second) == set(PEOPLE[:8])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_a_check_inside_a_worker_refuses_with_what_to_do(
    sqlite_world: World, records: Callable[[int], list[dict[str, Any]]], method: str
) -> None:
    with sqlite_world.run() as run:
        # The pattern: the guard's check in the collate function, which runs in the worker.
        # The worker hands back what it raised (a DataLoader would re-raise it, then wind its
        # workers down on timeouts: slow, and the same exception).
        got = list(loader(records(8), method, collate_fn=CheckInWorker(run)))
    assert len(got) == 2
    for err in got:
        assert isinstance(err, WrongProcess)
        assert f"not in the training process that entered run {run.run_id}" in err.message
        assert "run.guard(loader)" in err.message
    assert run.status == "completed"
    assert sqlite_world.users_of(run) == set()  # and nothing was counted as used


class CheckInWorker:
    """Calls ``run.check`` in the worker; returns the exception it raises (picklable, unlike a
    closure: the spawn start method pickles the collate function)."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def __call__(self, batch: list[dict[str, Any]]) -> Any:
        try:
            return self.run.check(batch)
        except WrongProcess as exc:
            return exc


def test_a_pickled_run_is_a_stand_in_that_refuses(world: World) -> None:
    with world.run() as run:
        copy = pickle.loads(pickle.dumps(run))  # what a spawn worker or datasets.map(num_proc=) gets
        assert copy.run_id == run.run_id
        for use in (lambda: copy.check([]), copy.refresh, lambda: copy.checkpoint("ckpt-1")):
            with pytest.raises(WrongProcess, match="not in the training process"):
                use()
        pickled = pickle.dumps(run)
        assert b"sqlite" not in pickled
        assert b"postgres" not in pickled


def test_tuple_datasets_name_their_subjects_beside_the_items(world: World) -> None:
    xs = torch.arange(12, dtype=torch.float32).reshape(6, 2)
    ds = SubjectDataset(TensorDataset(xs), [*PEOPLE[:5], REFUSED])
    dl = DataLoader(ds, batch_size=3, collate_fn=SubjectCollate(subject_column="user_id"))
    shapes: list[tuple[int, ...]] = []
    with world.run() as run, pytest.raises(ConsentViolation) as caught:
        shapes.extend(tuple(x.shape) for (x,) in run.guard(dl))
    assert shapes == [(3, 2)]
    assert caught.value.subject == REFUSED
    assert caught.value.record == 5
    assert world.users_of(run) == set(PEOPLE[:3])


def test_iterable_datasets_and_flags(world: World) -> None:
    items = [{"uid": p, "dnt": i == 4, "x": float(i)} for i, p in enumerate(PEOPLE[:8])]
    ds = SubjectIterableDataset(items, subject_of=lambda r: r["uid"], flag_of=lambda r: r["dnt"])
    dl = DataLoader(ds, batch_size=4, collate_fn=SubjectCollate(subject_column="user_id"))
    batches = list(dl)
    assert all(isinstance(b, SubjectBatch) for b in batches)
    with world.run() as run, pytest.raises(ConsentViolation) as caught:
        list(run.guard(batches))
    assert caught.value.reason == "do_not_train"
    assert caught.value.record == 4


def test_records_without_the_subject_key_are_bad_input() -> None:
    with pytest.raises(BadInput, match="no 'user_id' key"):
        SubjectCollate(subject_column="user_id")([{"x": 1}])
    with pytest.raises(BadInput, match="needs dicts"):
        SubjectCollate()([(1, 2)])


class Pinnable:
    """Stands in for a tensor: this machine has no accelerator, and PyTorch pins only for one
    (``Tensor.pin_memory()`` raises without). The DataLoader's recursion calls ``pin_memory()`` on it
    as on a tensor, so it shows whether a SubjectBatch passes the call on to what it carries."""

    def __init__(self, pinned: bool = False) -> None:
        self.pinned = pinned

    def pin_memory(self) -> Pinnable:
        return Pinnable(pinned=True)


def test_pin_memory_pins_what_a_subject_batch_carries_and_keeps_its_ids() -> None:
    from torch.utils.data._utils.pin_memory import pin_memory  # what DataLoader(pin_memory=True) runs

    batch = SubjectBatch({"x": Pinnable(), "parts": [Pinnable(), Pinnable()]}, ["a", "b"], [False, True])
    pinned = pin_memory(batch)
    assert isinstance(pinned, SubjectBatch)
    assert pinned.data["x"].pinned
    assert all(p.pinned for p in pinned.data["parts"])
    assert (pinned.subjects, pinned.flags) == (["a", "b"], [False, True])
    assert not batch.data["x"].pinned  # the worker's batch is left as it was
