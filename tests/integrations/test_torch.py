"""PyTorch DataLoader workers (fork and spawn): subject ids travel beside the tensors, the run in the
training process records exactly the batches the loop took, a withdrawal recorded from another
connection mid-run stops the next step, and a check inside a worker refuses instead of recording
nothing (issue 15: a run recorded 0 subjects for data it trained on)."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("torch", reason="the [torch] extra is part of `make test`")

import torch
from torch.utils.data import DataLoader, TensorDataset

from consentgate.errors import BadInput, ConsentViolation, WrongProcess
from consentgate.integrations.torch import SubjectCollate, SubjectDataset, SubjectIterableDataset
from consentgate.pipeline.batches import SubjectBatch

from .conftest import PEOPLE, REFUSED, World

START_METHODS = ["fork", "spawn"]


def loader(data: Any, method: str, **kw: Any) -> DataLoader[Any]:
    kw.setdefault("collate_fn", SubjectCollate(subject_column="user_id"))
    return DataLoader(data, batch_size=4, num_workers=2, multiprocessing_context=method, **kw)


@pytest.mark.parametrize("method", START_METHODS)
def test_workers_record_exactly_the_batches_the_loop_took(
    world: World, records: Callable[[int], list[dict[str, Any]]], method: str
) -> None:
    data = records(40)  # 10 batches of 4; people 0-23, then 0-15 again
    taken: list[torch.Tensor] = []
    with world.run() as run:
        for batch in run.guard(loader(data, method, prefetch_factor=4)):
            assert set(batch) == {"x"}  # the ids stayed out of the tensors
            taken.append(batch["x"])
            if len(taken) == 3:
                break  # the workers have prefetched more than these 3 batches
    assert run.status == "completed"
    assert sum(len(x) for x in taken) == 12
    # Only the 12 records trained on count: people 0-11, not the prefetched 12-23.
    assert world.users_of(run) == set(PEOPLE[:12])
    m = run.manifest()
    assert m["counts"] == {"batches": 3, "records": 12, "subjects": 12}


@pytest.mark.parametrize("method", START_METHODS)
def test_a_withdrawal_from_another_connection_stops_the_next_step(
    world: World, records: Callable[[int], list[dict[str, Any]]], method: str
) -> None:
    data = records(24)  # batch k holds people 4k..4k+3
    steps = 0
    with world.run() as run, pytest.raises(ConsentViolation) as caught:
        for _batch in run.guard(loader(data, method)):
            steps += 1
            if steps == 2:
                world.withdraw(PEOPLE[9])  # in batch 3, already prefetched by a worker
    assert steps == 2  # batch 3 was refused before the loop got it
    assert caught.value.reason == "not_allowed"
    assert caught.value.subject == PEOPLE[9]
    assert run.status == "stopped_by_violation"
    assert world.users_of(run) == set(PEOPLE[:8])  # batch 3 was not trained on


@pytest.mark.parametrize("method", START_METHODS)
def test_a_check_inside_a_worker_refuses_with_what_to_do(
    world: World, records: Callable[[int], list[dict[str, Any]]], method: str
) -> None:
    with world.run() as run:

        def checked(batch: list[dict[str, Any]]) -> Any:
            return run.check(batch)

        # Under spawn the collate function itself must be picklable: a module-level one holding the run.
        collate = checked if method == "fork" else CheckInWorker(run)
        with pytest.raises(WrongProcess, match=r"worker process .* run\.guard\(loader\)"):
            next(iter(loader(records(8), method, collate_fn=collate)))
    assert run.status == "completed"
    assert world.users_of(run) == set()  # and nothing was counted as used


class CheckInWorker:
    """The issue's pattern: the guard's check in the collate function (runs in the worker)."""

    def __init__(self, run: Any) -> None:
        self.run = run

    def __call__(self, batch: list[dict[str, Any]]) -> Any:
        return self.run.check(batch)


def test_a_pickled_run_is_a_stand_in_that_refuses(world: World) -> None:
    with world.run() as run:
        copy = pickle.loads(pickle.dumps(run))  # what a spawn worker or datasets.map(num_proc=) gets
        assert copy.run_id == run.run_id
        for use in (lambda: copy.check([]), copy.refresh, lambda: copy.checkpoint("ckpt-1")):
            with pytest.raises(WrongProcess, match="not in the training process"):
                use()
        assert b"sqlite" not in pickle.dumps(run) and b"postgres" not in pickle.dumps(run)


def test_tuple_datasets_name_their_subjects_beside_the_items(world: World) -> None:
    xs = torch.arange(12, dtype=torch.float32).reshape(6, 2)
    ds = SubjectDataset(TensorDataset(xs), [*PEOPLE[:5], REFUSED])
    dl = DataLoader(ds, batch_size=3, collate_fn=SubjectCollate(subject_column="user_id"))
    with world.run() as run, pytest.raises(ConsentViolation) as caught:
        for (x,) in run.guard(dl):
            assert x.shape == (3, 2)
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
        for _ in run.guard(batches):
            pass
    assert caught.value.reason == "do_not_train"
    assert caught.value.record == 4


def test_records_without_the_subject_key_are_bad_input() -> None:
    with pytest.raises(BadInput, match="no 'user_id' key"):
        SubjectCollate(subject_column="user_id")([{"x": 1}])
    with pytest.raises(BadInput, match="needs dicts"):
        SubjectCollate()([(1, 2)])
