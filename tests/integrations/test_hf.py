"""Hugging Face ``datasets``: the filter decides the rows a Dataset shows (after select, shuffle,
train_test_split), not the whole table behind it; it writes a manifest, applies suppression, and its
output has a fingerprint that is stable for the same inputs and moves with the ledger head."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import datasets
import pytest

from consentgate.errors import BadInput, StaleData, StaleDataWarning, WrongProcess
from consentgate.integrations.hf import SUBJECT_INDEX, filter_dataset, with_subject_index
from consentgate.pipeline import FilterOptions, Suppression, build_snapshot
from consentgate.pipeline.snapshot import Snapshot
from consentgate.store.runs import RunStore
from tests.pipeline.conftest import AT, SUPPRESSION_KEY

from .conftest import PEOPLE, REFUSED, World

USER_ID = FilterOptions(subject_column="user_id")

STRANGER = "stranger@example.com"  # unknown to the ledger: not allowed under a consent purpose


def chats() -> Any:
    users = [*PEOPLE, REFUSED, STRANGER, *PEOPLE[:6]]
    return datasets.Dataset.from_dict(
        {
            "user_id": users,
            "text": [f"message {i}" for i in range(len(users))],
            "do_not_train": [i == 3 for i in range(len(users))],
        }
    )


def snap(world: World) -> Snapshot:
    return build_snapshot(world.policy, world.ledger, "train_chat", AT)


def allowed(user: str, flagged: bool) -> bool:
    return user in PEOPLE and not flagged


def test_the_filter_decides_the_visible_rows_in_their_order(world: World, tmp_path: Path) -> None:
    full = chats()
    ds = full.shuffle(seed=5).select(range(12))  # an indices mapping over all 32 rows
    assert len(ds.data.table) == full.num_rows  # the trap: the table behind still has every row
    visible = ds.to_list()
    result = filter_dataset(ds, snap(world), USER_ID, manifest_path=tmp_path / "m.json")
    expected = [r for r in visible if allowed(r["user_id"], r["do_not_train"])]
    assert result.data.to_list() == expected
    assert 0 < len(expected) < len(visible)
    written = json.loads((tmp_path / "m.json").read_text())
    assert written["counts"]["input"] == 12
    assert written["counts"]["kept"] == len(expected)
    assert written["engine"] == "hf-datasets"
    assert written["snapshot"]["head_seq"] == world.ledger.head()[0]


def test_each_split_of_train_test_split(world: World) -> None:
    splits = chats().train_test_split(test_size=0.25, seed=3)
    for split in splits.values():
        rows = split.to_list()
        got = filter_dataset(split, snap(world), USER_ID).data.to_list()
        assert got == [r for r in rows if allowed(r["user_id"], r["do_not_train"])]


def test_suppression_applies(world: World) -> None:
    sup = Suppression(SUPPRESSION_KEY)
    sup.add(PEOPLE[1])
    result = filter_dataset(chats(), snap(world), FilterOptions(subject_column="user_id", suppression=sup))
    assert PEOPLE[1] not in result.data["user_id"]
    assert PEOPLE[2] in result.data["user_id"]
    assert result.manifest.counts.suppressed == 2  # PEOPLE[1] is in the data twice


def length(row: dict[str, Any]) -> dict[str, int]:
    return {"n": len(row["text"])}


def test_the_fingerprint_is_stable_and_moves_with_the_ledger(world: World) -> None:
    ds = chats().shuffle(seed=1)
    first = filter_dataset(ds, snap(world), USER_ID).data
    again = filter_dataset(ds, snap(world), USER_ID).data
    assert first._fingerprint == again._fingerprint  # datasets can cache what follows
    assert first.map(length)._fingerprint == again.map(length)._fingerprint
    world.withdraw(PEOPLE[0])
    after = filter_dataset(ds, snap(world), USER_ID).data
    assert after._fingerprint != first._fingerprint
    assert PEOPLE[0] not in after["user_id"]
    other = filter_dataset(ds.select(range(10)), snap(world), USER_ID).data
    assert other._fingerprint != after._fingerprint


def test_the_subject_travels_as_an_integer_index() -> None:
    ds = chats().shuffle(seed=2).select(range(6))
    indexed, subjects, flags = with_subject_index(ds, subject_column="user_id", flag_column="do_not_train")
    assert flags is not None
    for row in indexed:
        assert subjects[row[SUBJECT_INDEX]] == row["user_id"]
        assert flags[row[SUBJECT_INDEX]] == row["do_not_train"]


def test_a_run_in_a_datasets_worker_refuses(world: World) -> None:
    """datasets.map(num_proc=2) pickles the function with the run in it; the copy refuses."""
    with world.run() as run:

        def check(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
            try:
                run.check([{"user_id": u} for u in batch["user_id"]])
            except WrongProcess as exc:
                return {"refused": [exc.message] * len(batch["user_id"])}
            return {"refused": [""] * len(batch["user_id"])}

        out = chats().map(check, batched=True, num_proc=2)
    assert all("not in the training process" in m for m in out["refused"])
    assert world.users_of(run) == set()


def test_a_check_in_a_datasets_filter_worker_refuses_in_the_caller(world: World) -> None:
    """Uncaught, the worker's refusal reaches the code that called ``filter(num_proc=2)``."""
    with world.run() as run:

        def keep(batch: dict[str, list[Any]]) -> list[bool]:
            run.check([{"user_id": u} for u in batch["user_id"]])
            return [True] * len(batch["user_id"])

        with pytest.raises(WrongProcess, match="SubjectCollate"):
            chats().filter(keep, batched=True, num_proc=2)
    assert run.status == "completed"
    assert world.users_of(run) == set()


def test_the_filtered_dataset_maps_with_num_proc_and_caches(world: World, tmp_path: Path) -> None:
    """What filter_dataset returns is an ordinary Dataset: multi-process ``map`` works on it, and
    the same filter of the same ledger state gives the same fingerprint after ``map(num_proc=2)``."""
    on_disk = tmp_path / "chats"
    chats().save_to_disk(str(on_disk))
    ds = datasets.load_from_disk(str(on_disk)).shuffle(seed=7)
    first = filter_dataset(ds, snap(world), USER_ID).data.map(length, num_proc=2)
    again = filter_dataset(ds, snap(world), USER_ID).data.map(length, num_proc=2)
    assert first._fingerprint == again._fingerprint
    assert first["n"] == [len(t) for t in first["text"]]
    assert set(first["user_id"]) <= set(PEOPLE)


def test_not_a_dataset_is_bad_input(world: World) -> None:
    with pytest.raises(BadInput, match=r"takes a datasets\.Dataset"):
        filter_dataset(datasets.DatasetDict({"train": chats()}), snap(world), USER_ID)
    with pytest.raises(BadInput, match="no column 'uid'"):
        filter_dataset(chats(), snap(world), FilterOptions(subject_column="uid"))


# -- stale snapshots ---------------------------------------------------------------------------------


def test_a_stale_snapshot_is_warned_about_refused_beyond_the_limit_and_recorded(world: World) -> None:
    old = snap(world)
    world.withdraw(PEOPLE[0], PEOPLE[1])
    with pytest.raises(StaleData, match="2 ledger events behind"):
        filter_dataset(chats(), old, USER_ID, ledger=world.ledger, max_staleness="1", now=AT)
    with pytest.warns(StaleDataWarning, match=r"2 ledger events behind \(head"):
        result = filter_dataset(chats(), old, USER_ID, ledger=world.ledger, max_staleness="2,1h", now=AT)
    staleness = result.manifest.staleness
    assert staleness is not None
    assert (staleness["events"], staleness["known"]) == (2, True)
    assert PEOPLE[0] in result.data["user_id"]  # the old snapshot let them through: the manifest says why
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        current = filter_dataset(
            chats(), snap(world), USER_ID, ledger=world.ledger, max_staleness="0", now=AT
        )
    assert current.manifest.staleness is not None
    assert current.manifest.staleness["events"] == 0
    assert PEOPLE[0] not in current.data["user_id"]
    unknown = filter_dataset(chats(), old, USER_ID)  # no ledger: nobody can tell, and it says so
    assert unknown.manifest.to_json()["staleness"] is None
    with pytest.raises(BadInput, match="needs the ledger"):
        filter_dataset(chats(), old, USER_ID, max_staleness="1")


def test_a_training_run_measures_the_filter_it_trains_on(world: World) -> None:
    """TrainingRun(dataset=result.manifest): the in-memory filter's snapshot against the ledger when
    the run starts (what the Trainer callback and the torch wrappers train on)."""
    result = filter_dataset(chats(), snap(world), USER_ID, ledger=world.ledger, now=AT)
    with world.run(dataset=result.manifest) as fresh:
        pass
    [entry] = fresh.manifest()["dataset"]
    assert entry["filter_run"] == result.manifest.run_id
    assert entry["name"] == f"memory://hf-datasets/{result.manifest.run_id}"
    assert entry["fingerprint"] == f"datasets:{result.data._fingerprint}"
    assert entry["staleness"]["events"] == 0
    world.withdraw(PEOPLE[2])
    warned = pytest.warns(StaleDataWarning, match="filtered in memory by run .* 1 ledger event behind")
    with warned, world.run(dataset=result.manifest) as behind:
        pass
    assert behind.manifest()["dataset"][0]["staleness"]["events"] == 1
    before = len(RunStore(world.ledger.engine).runs(kind="training"))
    with pytest.raises(StaleData, match="1 ledger event behind"):
        world.run(dataset=result.manifest, max_staleness="0").__enter__()
    with pytest.raises(BadInput, match="refilter=True re-filters files"):
        world.run(dataset=result.manifest, refilter=True).__enter__()
    assert len(RunStore(world.ledger.engine).runs(kind="training")) == before  # refused: nothing stored


def test_a_filter_given_the_ledger_is_stored_in_runs_with_the_people_it_kept(world: World) -> None:
    """Like a file filter run: kind ``filter``, the output's fingerprint, and the people whose rows
    the filtered dataset holds, so ``runs --subject`` finds it (and a person it dropped does not)."""
    data = chats().select([0, 1, 2, 3, len(PEOPLE)])  # three kept people, and the refused one
    result = filter_dataset(data, snap(world), USER_ID, ledger=world.ledger, now=AT)
    store = RunStore(world.ledger.engine)
    [stored] = [r for r in store.runs(kind="filter") if r.run_id == result.manifest.run_id]
    assert stored.manifest["output_fingerprint"] == f"datasets:{result.data._fingerprint}"
    kept = set(result.data["user_id"])
    assert len(kept) == 3
    assert REFUSED not in kept
    for person in kept:
        assert result.manifest.run_id in {r.run_id for r in store.used([person], kind="filter")}
    assert result.manifest.run_id not in {r.run_id for r in store.used([REFUSED], kind="filter")}
    assert stored.manifest["subjects"]["count"] == len(kept)
