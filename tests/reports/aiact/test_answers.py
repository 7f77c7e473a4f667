"""The answers file: declared answers fill what cannot be derived, misspelt keys are named, and a
declaration that contradicts the runs is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentgate.errors import BadInput
from consentgate.reports.aiact import build_summary, load_answers

from .conftest import Trained, chats, write


def answers(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ai-act-answers.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_declared_answers_fill_open_fields_and_the_rest_stay_open(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(3), trained.dir / "c.parquet"))
    file = answers(
        trained.dir,
        "version: '2026.2'\n"
        "general:\n"
        "  model:\n"
        "    placed_on_market: 2026-09-01\n"
        "    dependencies: {name: example-base-7b, summary: 'https://models.example.com/base/summary'}\n"
        "processing:\n"
        "  illegal_content:\n"
        "    measures: Classifier and human review remove illegal content before training.\n",
    )
    given = load_answers(file)
    built = build_summary(
        trained.ledger.engine, trained.policy, "support-bot", answers=given, answers_file=str(file)
    )
    market = built.fields["general.model.placed_on_market"].to_json()
    assert market == {
        "value": "2026-09-01",
        "provenance": "declared",
        "from": f"answers file {file}: general.model.placed_on_market",
    }
    assert built.fields["general.model.dependencies"].value == {
        "name": "example-base-7b",
        "summary": "https://models.example.com/base/summary",
    }
    assert built.fields["processing.illegal_content.measures"].provenance == "declared"
    assert built.version.to_json()["value"] == "2026.2"
    assert built.version.provenance == "declared"
    # Not declared, not derivable: still open.
    assert built.fields["general.provider.authorised_representative"].open
    assert "general.provider.authorised_representative" in built.open
    assert "general.model.placed_on_market" not in built.open


def test_an_optional_comment_appears_only_when_declared(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"))
    plain = build_summary(trained.ledger.engine, trained.policy, "support-bot")
    assert "processing.other.information" not in plain.fields
    file = answers(trained.dir, "processing: {other: {information: Trained in the EU.}}\n")
    given = load_answers(file)
    built = build_summary(trained.ledger.engine, trained.policy, "support-bot", answers=given)
    assert built.fields["processing.other.information"].value == "Trained in the EU."


@pytest.mark.parametrize(
    ("text", "named", "nearest"),
    [
        ("general: {modle: {name: x}}\n", "general.modle", "general.model"),
        (
            "general: {model: {placed_on_markt: 2026-01-01}}\n",
            "general.model.placed_on_markt",
            "placed_on_market",
        ),
        ("sources: {user_data: {usd: false}}\n", "sources.user_data.usd", "sources.user_data.used"),
        ("proccessing: {}\n", "proccessing", "processing"),
        ("verison: 1\n", "verison", "version"),
    ],
)
def test_unknown_keys_are_errors_naming_the_nearest_valid_one(
    tmp_path: Path, text: str, named: str, nearest: str
) -> None:
    with pytest.raises(BadInput) as caught:
        load_answers(answers(tmp_path, text))
    assert f"`{named}`" in caught.value.message
    assert nearest in caught.value.message
    assert "ai-act-answers.yaml" in caught.value.message


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("general: [a, b]\n", "not a field"),
        ("- a\n", "must be a mapping"),
        ("general: {model: {placed_on_market: }}\n", "has no answer"),
        ("general: {model: {placed_on_market: [\n", "not valid YAML"),
        ("version: '1'\nversion: '2'\n", "`version` appears twice"),
        ("general: {model: {placed_on_market: June 2026}}\n", "must be a date such as 2026-09-01"),
        ("general: {training_data: {latest_acquisition: 2026-13-01}}\n", "month must be in 1..12"),
    ],
)
def test_malformed_answers_files_are_bad_input(tmp_path: Path, text: str, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        load_answers(answers(tmp_path, text))


def test_a_missing_answers_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="answers file not found"):
        load_answers(tmp_path / "nope.yaml")


def test_a_declaration_contradicting_the_runs_is_refused(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"))
    file = answers(
        trained.dir,
        "sources:\n  user_data:\n    used: false\n  crawled:\n    crawlers: [{name: ExampleBot}]\n",
    )
    with pytest.raises(BadInput) as caught:
        build_summary(
            trained.ledger.engine,
            trained.policy,
            "support-bot",
            answers=load_answers(file),
            answers_file=str(file),
        )
    message = caught.value.message
    assert "`sources.user_data.used` is declared no, but consentgate derives yes" in message
    assert "support-chats" in message  # where the derived answer came from
    assert "`sources.crawled.crawlers` is declared" in message  # crawled data was not used at all


def test_a_declaration_agreeing_with_a_derived_answer_stays_derived(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"))
    given = load_answers(answers(trained.dir, "sources: {user_data: {used: yes}, crawled: {used: no}}\n"))
    built = build_summary(trained.ledger.engine, trained.policy, "support-bot", answers=given)
    assert built.fields["sources.user_data.used"].provenance == "derived"
    assert built.fields["sources.crawled.used"].provenance == "derived"


def test_a_latest_acquisition_after_training_began_is_refused(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"))  # starts 2026-08-01
    late = load_answers(answers(trained.dir, "general: {training_data: {latest_acquisition: 2026-08-15}}\n"))
    with pytest.raises(BadInput, match="after 2026-08-01"):
        build_summary(trained.ledger.engine, trained.policy, "support-bot", answers=late)
    fine = load_answers(answers(trained.dir, "general: {training_data: {latest_acquisition: 2026-07-20}}\n"))
    built = build_summary(trained.ledger.engine, trained.policy, "support-bot", answers=fine)
    assert built.fields["general.training_data.latest_acquisition"].value == "2026-07-20"
