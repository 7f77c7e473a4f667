"""The models of stored training runs show up as the systems the data improves, on SQLite and on
PostgreSQL, through the library, the command line and the service's GET /notice."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from consentgate.cli import app
from consentgate.ledger.store import Ledger
from consentgate.pipeline import FilterOptions
from consentgate.pipeline.training import TrainingRun
from consentgate.policy import Policy
from consentgate.reports.notice import build_notice, notice_facts
from consentgate.reports.notice.runs import trained_from
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore
from tests.conftest import EXAMPLE_POLICY

from .support import EN, items, section

MODEL = "support-bot-2026-11"


def train(policy: Policy, ledger: Ledger, purpose: str, model: str) -> None:
    """One real guarded training run over one person who granted consent under the notice in force."""
    now = datetime.now(UTC)
    notice = policy.require_purpose(purpose).notice
    assert notice is not None
    version = policy.current_version(notice, now)
    assert version is not None
    ConsentService(policy, ledger).record(
        [
            (
                "",
                {
                    "subject": "ann@example.com",
                    "action": "grant",
                    "purposes": [purpose],
                    "notice_id": notice,
                    "notice_version": version.version,
                    "locale": "en",
                    "region": "DE",
                    "occurred_at": (now - timedelta(days=1)).isoformat(),
                },
            )
        ]
    )
    with TrainingRun(
        purpose, model, "chats/", policy=policy, ledger=ledger, options=FilterOptions("user")
    ) as run:
        run.check([{"user": "ann@example.com"}])


@pytest.fixture
def trained_ledger(ledger_url: str, example_policy: Policy) -> Iterator[Ledger]:
    ledger = Ledger.open(ledger_url)
    try:
        train(example_policy, ledger, "train_support_chatbot", MODEL)
        yield ledger
    finally:
        ledger.close()


def test_a_training_runs_model_is_named_as_what_the_data_improves(
    trained_ledger: Ledger, example_policy: Policy
) -> None:
    trained = trained_from(RunStore(trained_ledger.engine))
    assert trained == {"train_support_chatbot": [MODEL]}
    doc = build_notice(example_policy, notice_facts(example_policy, trained), "en")
    said = items(section(doc, "systems-train_support_chatbot"))
    assert [EN["systems_trained"].format(systems=MODEL)] in said
    assert [EN["no_runs"]] not in said
    # The other AI purpose had no run: the notice says so, since the ledger was read.
    assert [EN["no_runs"]] in items(section(doc, "systems-finetune_recommender"))


def cg(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--policy", str(EXAMPLE_POLICY), *args])
    return result.exit_code, result.stdout, result.stderr


def test_the_command_reads_the_runs_of_the_ledger(tmp_path: Path, example_policy: Policy) -> None:
    db = tmp_path / "ledger.db"
    with Ledger.open(str(db)) as ledger:
        train(example_policy, ledger, "finetune_recommender", "recommender-v9")
    code, out, err = cg("--db", str(db), "notice", "render")
    assert code == 0, err
    assert EN["systems_trained"].format(systems="recommender-v9") in out
    code, out, _ = cg("--db", str(db), "notice", "render", "--no-runs")
    assert code == 0
    assert "recommender-v9" not in out
