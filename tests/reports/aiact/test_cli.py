"""``consentgate ai-act summary``: exit 3 while anything is to be completed (the summary still
written), 0 when complete, 1 for an unknown model or a contradiction; --out DIR keeps earlier ones."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner, Result

from consentgate.cli import app
from consentgate.policy import parse_policy_text

from .conftest import Trained, chats, example_text, write
from .test_summary import ANNOTATED_CHATS, CHATS

COMPLETE_ANSWERS = {
    "general": {
        "provider": {"authorised_representative": "none"},
        "model": {"dependencies": "none: trained from scratch", "placed_on_market": "2026-09-01"},
        "training_data": {"continued_training": False},
    },
    "processing": {
        "tdm_opt_outs": {
            "code_of_practice_signatory": True,
            "measures": "No crawled or third-party data; user data only with consent.",
        },
        "illegal_content": {"measures": "Support chats are screened before training."},
    },
}


def run(trained: Trained, policy: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["--db", trained.url, "--policy", str(policy), "ai-act", "summary", *args])


def policy_file(trained: Trained, text: str | None = None) -> Path:
    path = trained.dir / "policy" / "policy.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text or trained.policy_text, encoding="utf-8")
    return path


def test_open_answers_exit_3_and_the_summary_is_still_written(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(3), trained.dir / "c.parquet"))
    result = run(trained, policy_file(trained), "--model", "support-bot", "--json")
    assert result.exit_code == 3, result.output
    data = json.loads(result.stdout)
    assert data["general"]["model"]["versions"]["value"] == ["support-bot-v1"]
    assert "to be completed (exit 3)" in result.stderr
    assert "general.model.placed_on_market" in result.stderr


def test_a_complete_summary_exits_0(trained: Trained) -> None:
    text = example_text(**{CHATS: ANNOTATED_CHATS})
    policy = parse_policy_text(text)
    trained.train(
        "support-bot-v1", write(chats(3), trained.dir / "c.parquet"), source="support-chats", policy=policy
    )
    path = policy_file(trained, text)
    # Kept beside the policy: found without --answers.
    (path.parent / "ai-act-answers.yaml").write_text(yaml.safe_dump(COMPLETE_ANSWERS), encoding="utf-8")
    result = run(trained, path, "--model", "support-bot", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["header"]["to_be_completed"] == []
    assert data["general"]["model"]["placed_on_market"]["provenance"] == "declared"


def test_an_unknown_model_is_an_error(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(1), trained.dir / "c.parquet"))
    result = run(trained, policy_file(trained), "--model", "chat-bot")
    assert result.exit_code == 1
    assert "no training run recorded a model 'chat-bot'" in result.stderr
    assert "support-bot-v1" in result.stderr
    assert result.stdout == ""


def test_a_contradiction_is_an_error_and_writes_nothing(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(1), trained.dir / "c.parquet"))
    answers = trained.dir / "answers.yaml"
    answers.write_text("sources: {user_data: {used: no}}\n", encoding="utf-8")
    out = trained.dir / "summary.md"
    result = run(
        trained, policy_file(trained), "--model", "support-bot", "--answers", str(answers), "--out", str(out)
    )
    assert result.exit_code == 1
    assert "sources.user_data.used" in result.stderr
    assert not out.exists()


def test_out_into_a_directory_keeps_every_earlier_summary(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"))
    folder = trained.dir / "summaries"
    first = run(trained, policy_file(trained), "--model", "support-bot", "--html", "--out", f"{folder}/")
    assert first.exit_code == 3, first.output
    (only,) = folder.iterdir()
    before = only.read_text(encoding="utf-8")
    second = run(trained, policy_file(trained), "--model", "support-bot", "--html", "--out", str(folder))
    assert second.exit_code == 3
    files = sorted(folder.iterdir())
    assert len(files) == 2
    assert only.read_text(encoding="utf-8") == before
    assert all(f.suffix == ".html" and f.name.startswith("support-bot-") for f in files)


def test_one_format_at_a_time(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(1), trained.dir / "c.parquet"))
    result = run(trained, policy_file(trained), "--model", "support-bot", "--json", "--md")
    assert result.exit_code == 1
    assert "choose one of --json, --md and --html" in result.stderr


def test_markdown_is_the_default(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(1), trained.dir / "c.parquet"))
    result = run(trained, policy_file(trained), "--model", "support-bot")
    assert result.stdout.startswith("# Public summary of training content: support-bot")
