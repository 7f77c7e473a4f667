"""Fixtures for the integration tests: a ledger of people who granted consent (SQLite and PostgreSQL),
records of theirs, and a way to withdraw one from another connection while a run is in progress.
No download ever: the Hugging Face libraries run offline, on tiny randomly initialised models."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import Policy, load_policy
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore
from tests.pipeline.conftest import AT, POLICY, ev

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PEOPLE = [f"user-{i:03d}@example.com" for i in range(24)]
REFUSED = "refused@example.com"  # denied: never in data that passed the filter


@dataclass
class World:
    url: str
    policy: Policy
    ledger: Ledger

    def run(self, **kw: Any) -> TrainingRun:
        kw.setdefault("options", FilterOptions(subject_column="user_id"))
        return TrainingRun(
            "train_chat",
            model=kw.pop("model", "tiny-bot"),
            dataset=kw.pop("dataset", "chats-2026-06"),
            policy=self.policy,
            ledger=self.url,
            now=lambda: AT,
            **kw,
        )

    def withdraw(self, *subjects: str) -> None:
        """Withdraw through another connection, as the API of another process would."""
        other = Ledger.open(self.url)
        when = (AT - timedelta(hours=1)).isoformat()
        try:
            ConsentService(self.policy, other).record(
                [ev(s, "withdraw", when) for s in subjects], strict=False
            )
        finally:
            other.close()

    def used_by(self, subject: str) -> list[str]:
        return [r.run_id for r in RunStore(self.ledger.engine).used_by(subject)[1]]

    def users_of(self, run: TrainingRun, candidates: Iterable[str] = (*PEOPLE, REFUSED)) -> set[str]:
        """The people (among ``candidates``) the stored record of ``run`` lists as used."""
        return {p for p in candidates if run.run_id in self.used_by(p)}


@pytest.fixture(autouse=True)
def _keep_os_environ() -> Iterator[None]:
    """Put back the process's ``os.environ`` after a test that ran ``datasets`` with ``num_proc``.

    ``Dataset.map/filter(num_proc=N)`` replaces ``os.environ`` with a deep copy of itself
    (``os.environ = prev_env`` in datasets' ``arrow_dataset.py``, since huggingface/datasets#2119).
    Whoever kept the original object no longer sees changes: rich's ``Console`` reads ``COLUMNS``
    from it, so every later CLI test printed 80 columns wide whatever ``CliRunner(env=...)`` set.
    """
    original = os.environ
    yield
    if os.environ is not original:
        current = dict(os.environ)
        # The intent is to restore the object, not to clear the environment; what was set on the copy
        # went through putenv, so the original only needs its mapping brought in line.
        os.environ = original  # noqa: B003
        for name in set(original) - set(current):
            del original[name]
        original.update(current)


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(POLICY)


@contextmanager
def make_world(url: str, policy: Policy) -> Iterator[World]:
    led = Ledger.open(url)
    svc = ConsentService(policy, led)
    svc.record([ev(p, "grant", "2026-06-10T09:00:00Z") for p in PEOPLE], strict=False)
    svc.record([ev(REFUSED, "deny", "2026-06-10T09:00:00Z")], strict=False)
    try:
        yield World(url, policy, led)
    finally:
        led.close()


@pytest.fixture
def world(ledger_url: str, policy: Policy) -> Iterator[World]:
    """On SQLite and on PostgreSQL."""
    with make_world(ledger_url, policy) as w:
        yield w


@pytest.fixture
def sqlite_world(tmp_path: Path, policy: Policy) -> Iterator[World]:
    """On SQLite only: for what the database does not change and takes long (spawned workers, models)."""
    with make_world(str(tmp_path / "ledger.db"), policy) as w:
        yield w


@pytest.fixture
def records() -> Callable[[int], list[dict[str, Any]]]:
    def make(n: int) -> list[dict[str, Any]]:
        return [{"user_id": PEOPLE[i % len(PEOPLE)], "x": float(i)} for i in range(n)]

    return make
