"""A ``transformers`` Trainer with a tiny randomly initialised model (2 layers, hidden 32; no
download), two DataLoader workers and the default ``remove_unused_columns``: the run records exactly
the subjects trained on, a withdrawal recorded from another connection mid-run stops the next step
cleanly (``trainer.train()`` returns; no optimizer step on the refused micro-batch, also with gradient
accumulation), and the checkpoints saved after a person's first use are listed for that person."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_pt_utils import LabelSmoother
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.errors import BadInput, ConsentViolation, TrainingStoppedWarning
from consentgate.integrations.hf import SUBJECT_INDEX, filter_dataset, with_subject_index
from consentgate.integrations.transformers import ConsentCallback
from consentgate.pipeline import FilterOptions, build_snapshot
from consentgate.service import ConsentService
from tests.pipeline.conftest import AT, POLICY, ev

from .conftest import World

USER_ID = FilterOptions(subject_column="user_id")

N = 400  # people, one record each: 300 steps of one record use 300 of them
VOCAB = 64


def person(i: int) -> str:
    return f"p-{i:03d}@example.com"


@pytest.fixture
def people(sqlite_world: World) -> World:
    ConsentService(sqlite_world.policy, sqlite_world.ledger).record(
        [ev(person(i), "grant", "2026-06-10T09:00:00Z") for i in range(N)], strict=False
    )
    return sqlite_world


def tokens(i: int) -> list[int]:
    """Row i's input: unique per row, so the test can tell which rows the model saw."""
    return [i // VOCAB, i % VOCAB, 1, 2]


def row_of(ids: torch.Tensor) -> int:
    return int(ids[0]) * VOCAB + int(ids[1])


def train_set(world: World) -> tuple[datasets.Dataset, list[str | None]]:
    ds = datasets.Dataset.from_dict(
        {
            "user_id": [person(i) for i in range(N)],
            "input_ids": [tokens(i) for i in range(N)],
            "labels": [tokens(i) for i in range(N)],
        }
    ).shuffle(seed=4)
    snap = build_snapshot(world.policy, world.ledger, "train_chat", AT)
    kept = filter_dataset(ds, snap, USER_ID).data
    train, subjects, _ = with_subject_index(kept, subject_column="user_id")
    return train, subjects


class Seen:
    """What the model really trained on: rows read back from the embedding's input."""

    def __init__(self, model: GPT2LMHeadModel) -> None:
        self.rows: list[int] = []
        model.transformer.wte.register_forward_hook(self._hook)

    def _hook(self, module: Any, inputs: tuple[torch.Tensor, ...], output: Any) -> None:
        if module.training:
            self.rows.extend(row_of(r) for r in inputs[0])

    def people(self) -> set[str]:
        return {person(r) for r in self.rows}


class EndSeen(TrainerCallback):
    def __init__(self) -> None:
        self.called = False

    def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        self.called = True


class WithdrawAt(TrainerCallback):
    """After step ``step``, everyone not yet trained on withdraws (through another connection)."""

    def __init__(self, world: World, seen: Seen, step: int) -> None:
        self.world, self.seen, self.step = world, seen, step
        self.withdrawn: set[str] = set()

    def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if state.global_step == self.step:
            self.withdrawn = {person(i) for i in range(N)} - self.seen.people()
            self.world.withdraw(*sorted(self.withdrawn))


def trainer(
    tmp_path: Path, model: Any, train: Any, callbacks: list[Any], steps: int = 300, accumulate: int = 1
) -> Trainer:
    args = TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=steps,
        per_device_train_batch_size=1,
        gradient_accumulation_steps=accumulate,
        dataloader_num_workers=2,
        save_strategy="steps",
        save_steps=100,
        save_only_model=True,
        logging_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=1,
        learning_rate=1e-3,
    )
    return Trainer(model=model, args=args, train_dataset=train, callbacks=callbacks)


@pytest.fixture
def model() -> Iterator[GPT2LMHeadModel]:
    # One intra-op thread: with two DataLoader workers on a 2-core machine, more threads make a tiny
    # model's steps wait on each other (0.15 s per optimizer step instead of about a millisecond).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = GPT2Config(
        vocab_size=VOCAB, n_positions=8, n_embd=32, n_layer=2, n_head=2, bos_token_id=0, eos_token_id=0
    )
    yield GPT2LMHeadModel(cfg)
    torch.set_num_threads(threads)


def test_a_300_step_run_records_exactly_what_was_trained_on(
    people: World, model: GPT2LMHeadModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, subjects = train_set(people)
    seen = Seen(model)
    with people.run(model="tiny-gpt2") as run:
        trainer(tmp_path, model, train, [ConsentCallback(run, subjects)]).train()
    assert run.status == "completed"
    assert len(seen.rows) == 300
    used = seen.people()
    assert len(used) == 300
    m = run.manifest()
    assert m["counts"] == {"batches": 300, "records": 300, "subjects": 300}
    assert [c["batches"] for c in m["checkpoints"]] == [100, 200, 300]
    # The run's record, person by person, through the CLI a privacy lead uses.
    first_use = {person(r): k + 1 for k, r in enumerate(seen.rows)}
    monkeypatch.setenv("CONSENTGATE_DB", people.url)
    monkeypatch.setenv("CONSENTGATE_POLICY", str(POLICY))
    for who in [
        *sorted(used)[:3],
        person(sorted(seen.rows)[-1]),
        *sorted(set(map(person, range(N))) - used)[:2],
    ]:
        out = CliRunner().invoke(app, ["runs", "--subject", who, "--json"])
        assert out.exit_code == 0, out.output
        got = json.loads(out.output)
        if who not in used:
            assert got["runs"] == []
            continue
        assert [r["run_id"] for r in got["runs"]] == [run.run_id]
        names = [c["name"] for c in got["checkpoints"][run.run_id]]
        steps = [s for s in (100, 200, 300) if s >= first_use[who]]
        assert names == [str(tmp_path / "out" / f"checkpoint-{s}") for s in steps]


def optimizer_steps(t: Trainer, model: GPT2LMHeadModel) -> int:
    """How many optimizer steps changed the weights (AdamW counts only steps where a parameter had a
    gradient: a step on nothing but refused micro-batches leaves it untouched)."""
    state = t.optimizer.state.get(model.transformer.wte.weight, {})
    return int(state["step"]) if "step" in state else 0


def test_a_withdrawal_mid_run_stops_the_next_step_cleanly(
    people: World, model: GPT2LMHeadModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    train, subjects = train_set(people)
    seen = Seen(model)
    ended = EndSeen()
    with people.run(model="tiny-gpt2") as run:
        withdraw = WithdrawAt(people, seen, step=120)
        guard = ConsentCallback(run, subjects)
        t = trainer(tmp_path, model, train, [guard, withdraw, ended])
        with pytest.warns(TrainingStoppedWarning, match="stopped at optimizer step 121 .* not_allowed"):
            t.train()  # returns: the Trainer ran its end of training
    assert ended.called
    assert guard.violation is run.violation is not None
    assert guard.violation.reason == "not_allowed"
    assert guard.violation.subject in withdraw.withdrawn
    assert len(seen.rows) == 120  # the next step was refused before the model saw its batch
    assert optimizer_steps(t, model) == 120  # and no optimizer step was taken on it
    assert not (seen.people() & withdraw.withdrawn)
    assert run.status == "stopped_by_violation"
    assert people.users_of(run, map(person, range(N))) == seen.people()
    m = run.manifest()
    assert m["violation"]["reason"] == "not_allowed"
    assert m["counts"]["records"] == 120
    assert [c["batches"] for c in m["checkpoints"]] == [100]
    monkeypatch.setenv("CONSENTGATE_DB", people.url)
    monkeypatch.setenv("CONSENTGATE_POLICY", str(POLICY))
    first = person(seen.rows[0])
    out = CliRunner().invoke(app, ["runs", "--subject", first, "--json"])
    assert out.exit_code == 0, out.output
    got = json.loads(out.output)
    assert [(r["run_id"], r["status"]) for r in got["runs"]] == [(run.run_id, "stopped_by_violation")]
    assert [c["name"] for c in got["checkpoints"][run.run_id]] == [str(tmp_path / "out" / "checkpoint-100")]


class WithdrawAtMicroBatch(TrainerCallback):
    """After ``micro`` micro-batches, everyone not yet trained on withdraws. With gradient
    accumulation, on_substep_end follows each micro-batch that does not end an optimizer step."""

    def __init__(self, world: World, seen: Seen, micro: int) -> None:
        self.world, self.seen, self.micro = world, seen, micro
        self.withdrawn: set[str] = set()

    def on_substep_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        if len(self.seen.rows) == self.micro and not self.withdrawn:
            self.withdrawn = {person(i) for i in range(N)} - self.seen.people()
            self.world.withdraw(*sorted(self.withdrawn))


@pytest.mark.parametrize(("micro", "steps_taken"), [(4 * 7 + 2, 8), (4 * 7 + 1, 8)])
def test_with_gradient_accumulation_the_step_applies_what_was_checked_before_the_refusal(
    people: World, model: GPT2LMHeadModel, tmp_path: Path, micro: int, steps_taken: int
) -> None:
    """Refused at the 3rd (or 2nd) micro-batch of the 8th optimizer step: that step applies the
    micro-batches before it, the rest of its window is never trained on, and training ends."""
    train, subjects = train_set(people)
    seen = Seen(model)
    with people.run(model="tiny-gpt2") as run:
        withdraw = WithdrawAtMicroBatch(people, seen, micro=micro)
        guard = ConsentCallback(run, subjects)
        t = trainer(tmp_path, model, train, [guard, withdraw], steps=20, accumulate=4)
        with pytest.warns(TrainingStoppedWarning, match="stopped at optimizer step 8 "):
            t.train()
    assert len(seen.rows) == micro
    assert optimizer_steps(t, model) == steps_taken
    assert run.status == "stopped_by_violation"
    assert guard.violation is not None
    assert guard.violation.subject in withdraw.withdrawn
    assert people.users_of(run, map(person, range(N))) == seen.people()
    assert run.manifest()["counts"]["records"] == micro


@pytest.mark.parametrize("smoother", [False, True], ids=["on_violation=raise", "stop, label smoother"])
def test_the_violation_is_raised_out_of_train_when_asked_or_when_no_loss_can_be_made(
    people: World, model: GPT2LMHeadModel, tmp_path: Path, smoother: bool
) -> None:
    """``on_violation="raise"`` keeps the hard stop. With a label smoother, "stop" raises too: the
    smoother asks the refused output for logits that were never computed, and no loss is made up."""
    train, subjects = train_set(people)
    seen = Seen(model)
    with people.run(model="tiny-gpt2") as run:
        withdraw = WithdrawAt(people, seen, step=5)
        guard = ConsentCallback(run, subjects, on_violation="stop" if smoother else "raise")
        t = trainer(tmp_path, model, train, [guard, withdraw], steps=20)
        if smoother:
            t.label_smoother = LabelSmoother(epsilon=0.1)
        said = pytest.warns(TrainingStoppedWarning) if smoother else contextlib.nullcontext()
        with pytest.raises(ConsentViolation) as caught, said:
            t.train()
    assert caught.value is guard.violation is run.violation
    assert len(seen.rows) == 5
    assert run.status == "stopped_by_violation"
    assert people.users_of(run, map(person, range(N))) == seen.people()


def test_a_training_batch_without_the_subject_column_is_refused(
    people: World, model: GPT2LMHeadModel, tmp_path: Path
) -> None:
    """Unchecked data never trains silently: a dataset without the index column is bad input."""
    train, subjects = train_set(people)
    seen = Seen(model)
    run = people.run(model="tiny-gpt2")

    def train_unindexed() -> None:
        with run:
            unindexed = train.remove_columns(SUBJECT_INDEX)
            trainer(tmp_path, model, unindexed, [ConsentCallback(run, subjects)], steps=3).train()

    with pytest.raises(BadInput, match="no 'consentgate_subject' column"):
        train_unindexed()
    assert run.status == "failed"
    assert seen.rows == []


def test_on_violation_must_be_stop_or_raise(people: World) -> None:
    with people.run() as run, pytest.raises(BadInput, match="'stop' or 'raise'"):
        ConsentCallback(run, [], on_violation="ignore")  # type: ignore[arg-type]
