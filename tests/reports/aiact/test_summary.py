"""The summary of a model trained through ``TrainingRun`` on the example policy's sources: each
section's provenance, the sizes against an independent count, and what stays to be completed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from consentgate.errors import NotFound
from consentgate.policy import parse_policy_text
from consentgate.reports.aiact import LAYOUT, build_summary
from consentgate.reports.aiact.facts import is_version_of
from consentgate.scan.reservations import check_reservations
from consentgate.store.reservations import ReservationStore
from tests.signals.site import Route, page, serve

from .conftest import Trained, chats, example_text, write

CHATS = "- {id: support-chats,"
FEEDBACK = "- {id: feedback-forms,"
ANNOTATED_CHATS = (
    "  - {id: support-chats, kind: chat_transcripts, categories: [user.content], "
    "purposes: [train_support_chatbot], personal: true, origin: user_interactions, modality: [text], "
    "languages: [en, de], content_types: [support conversations], "
    "collected: {from: 2026-01-01, to: 2026-06-30}}"
)


def leaf(summary: dict[str, Any], path: str) -> dict[str, Any]:
    node: Any = summary
    for part in path.split("."):
        node = node[part]
    return dict(node)


def text_of(value: Any) -> tuple[int, int]:
    """Characters and UTF-8 bytes of every string in plain Python values (the test's own count)."""
    if isinstance(value, str):
        return len(value), len(value.encode("utf-8"))
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        pairs = [text_of(v) for v in value]
        return sum(p[0] for p in pairs), sum(p[1] for p in pairs)
    return 0, 0


def with_extra_source(trained: Trained, line: str, *, located: bool = True) -> dict[str, Any]:
    """The summary of a run for the chatbot's purpose under the example policy with ``line`` (a
    source that purpose may use) in place of its status-page source; ``located``: the source's
    ``location`` is the run's dataset, so the run certainly read it (and only it)."""
    data = write(chats(2), trained.dir / "extra.parquet")
    if located:
        line = line.replace("purposes:", f"location: '{data}', purposes:")
    policy = parse_policy_text(example_text(**{"- {id: status-page-metrics,": line}))
    trained.train("support-bot-v1", data, policy=policy)
    return build_summary(trained.ledger.engine, policy, "support-bot").to_json()


def test_each_section_says_where_its_answers_come_from(trained: Trained) -> None:
    data = write(chats(7), trained.dir / "chats.parquet")
    run_id = trained.train("support-bot-v1", data)
    summary = build_summary(trained.ledger.engine, trained.policy, "support-bot").to_json()

    assert list(summary) == ["header", "general", "sources", "processing"]
    assert list(summary["sources"]) == [
        "public_datasets",
        "private_datasets",
        "crawled",
        "user_data",
        "synthetic",
        "other",
    ]
    assert list(summary["processing"]) == ["tdm_opt_outs", "illegal_content", "other"]

    name = leaf(summary, "general.provider.name")
    assert name == {
        "value": "Example Support Ltd",
        "provenance": "derived",
        "from": "policy organization.name",
    }
    versions = leaf(summary, "general.model.versions")
    assert versions["value"] == ["support-bot-v1"]
    assert run_id in versions["from"]
    for path in ("general.model.dependencies", "general.model.placed_on_market"):
        field = leaf(summary, path)
        assert field["provenance"] == "to_be_completed"
        assert field["value"] is None
        assert "answers file" in field["from"]

    # 2.4: the runs' purpose is fed by support-chats and feedback-forms, both personal data.
    used = leaf(summary, "sources.user_data.used")
    assert (used["value"], used["provenance"]) == (True, "derived")
    services = leaf(summary, "sources.user_data.services")
    assert services["value"] == [
        "support-chats (chat_transcripts: user.content, user.contact)",
        "feedback-forms (free_text: user.content)",
    ]
    # Which of the template's two user-data questions is not said by the policy: left open.
    assert leaf(summary, "sources.user_data.model_interactions")["provenance"] == "to_be_completed"
    assert leaf(summary, "sources.user_data.other_services")["provenance"] == "to_be_completed"
    # Every source that fed the model has a known origin, so "no crawled data" is a derived answer.
    crawled = leaf(summary, "sources.crawled.used")
    assert (crawled["value"], crawled["provenance"]) == (False, "derived")
    assert leaf(summary, "sources.crawled.crawlers")["from"].startswith("not applicable")

    consent = leaf(summary, "processing.other.personal_data_consent")
    assert consent["provenance"] == "derived"
    assert [r["run"] for r in consent["value"]] == [run_id]
    assert consent["value"][0]["records_checked"] == 7
    for path in ("processing.tdm_opt_outs.measures", "processing.illegal_content.measures"):
        assert leaf(summary, path)["provenance"] == "to_be_completed"

    # Languages and modalities are declared on no source: never guessed.
    assert leaf(summary, "general.training_data.languages")["provenance"] == "to_be_completed"
    assert "support-chats" in leaf(summary, "general.training_data.modalities")["from"]
    assert summary["header"]["to_be_completed"] == [
        p for sub in LAYOUT for p in (i.path for i in sub.items) if p in summary["header"]["to_be_completed"]
    ]


def test_every_leaf_is_a_field_object_and_open_ones_hold_no_value(trained: Trained) -> None:
    trained.train("support-bot-v1", write(chats(3), trained.dir / "c.parquet"))
    built = build_summary(trained.ledger.engine, trained.policy, "support-bot")
    for path, field in built.fields.items():
        as_json = field.to_json()
        assert set(as_json) == {"value", "provenance", "from"}, path
        assert as_json["from"], path
        assert "None" not in as_json["from"], path
        if field.open:
            assert as_json["value"] is None, path
    assert built.open
    assert not built.complete


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv", "directory"])
def test_sizes_equal_an_independent_count(trained: Trained, fmt: str) -> None:
    first, second = chats(5), chats(4, offset=5)
    if fmt == "csv":  # CSV holds flat text: one message column
        first = first.drop_columns(["messages"]).append_column("text", pa.array(["ça va? 😀"] * 5))
        second = second.drop_columns(["messages"]).append_column("text", pa.array(["ok"] * 4))
    if fmt == "directory":
        data = trained.dir / "shards"
        write(first, data / "part-0.parquet")
        write(second, data / "part-1.parquet")
    else:
        data = write(pa.concat_tables([first, second]), trained.dir / f"chats.{fmt}", fmt)
    rows = first.to_pylist() + second.to_pylist()
    trained.train("support-bot-v2", data, batches=[first, second])

    summary = build_summary(trained.ledger.engine, trained.policy, "support-bot").to_json()
    # The subject and flag columns are bookkeeping, not training text.
    chars, nbytes = text_of(
        [{k: v for k, v in r.items() if k not in ("user_id", "do_not_train")} for r in rows]
    )
    assert leaf(summary, "general.training_data.size.records")["value"] == len(rows)
    assert leaf(summary, "general.training_data.size.text_characters")["value"] == chars
    tokens = leaf(summary, "general.training_data.size.text_tokens")
    assert tokens["value"] == {"upper_bound": nbytes}
    band = leaf(summary, "general.training_data.size.text_band")
    assert (band["value"], band["provenance"]) == ("less than 1 billion tokens", "derived")
    assert "byte" in band["from"]


def test_a_dataset_that_changed_since_the_run_is_not_measured(trained: Trained) -> None:
    data = write(chats(6), trained.dir / "chats.parquet")
    trained.train("support-bot-v1", data)
    write(chats(60), data)  # rewritten after training: its size is not what the model saw
    summary = build_summary(trained.ledger.engine, trained.policy, "support-bot").to_json()
    records = leaf(summary, "general.training_data.size.records")
    assert records["provenance"] == "to_be_completed"
    assert "changed since the run" in records["from"]


def test_a_dataset_that_was_no_file_leaves_sizes_open(trained: Trained) -> None:
    trained.train("support-bot-v1", "hf://example/chats@rev3", batches=[chats(2)])
    summary = build_summary(trained.ledger.engine, trained.policy, "support-bot").to_json()
    band = leaf(summary, "general.training_data.size.text_band")
    assert band["provenance"] == "to_be_completed"
    assert "hf://example/chats@rev3" in band["from"]


def test_a_named_source_and_an_annotated_policy_derive_what_the_template_asks(trained: Trained) -> None:
    policy = parse_policy_text(example_text(**{CHATS: ANNOTATED_CHATS}))
    data = write(chats(4), trained.dir / "chats.parquet")
    trained.train("support-bot-v3", data, source="support-chats", policy=policy)
    summary = build_summary(trained.ledger.engine, policy, "support-bot").to_json()

    services = leaf(summary, "sources.user_data.services")
    # Not feedback-forms: the run named its source.
    assert services["value"] == ["support-chats (chat_transcripts: user.content)"]
    assert "support-chats: named by run" in leaf(summary, "sources.user_data.used")["from"]
    assert leaf(summary, "sources.user_data.model_interactions")["value"] is True
    other = leaf(summary, "sources.user_data.other_services")
    assert (other["value"], other["provenance"]) == (False, "derived")
    assert leaf(summary, "general.training_data.languages")["value"] == ["en", "de"]
    assert leaf(summary, "general.training_data.modalities")["value"] == ["text"]
    assert leaf(summary, "general.training_data.content_types")["value"] == ["support conversations"]
    assert leaf(summary, "general.training_data.latest_acquisition")["value"] == "2026-06-30"
    assert leaf(summary, "general.training_data.size.other_modalities")["provenance"] == "derived"


CRAWLED = (
    "  - {id: docs-crawl, kind: web_pages, purposes: [train_support_chatbot], personal: false, "
    "origin: crawled, modality: [text], "
    "crawl: {name: ExampleBot, agents: [ExampleBot], purpose: product documentation, "
    "behaviour: obeys robots.txt, origins: [https://docs.example.com, https://forum.example.org]}, "
    "collected: {from: 2026-02-01}}"
)


def test_crawled_sources_fill_2_3_and_ask_the_rights_module(trained: Trained) -> None:
    summary = with_extra_source(trained, CRAWLED)

    assert leaf(summary, "sources.crawled.used")["value"] is True
    assert leaf(summary, "sources.crawled.crawlers")["value"] == [
        {"name": "ExampleBot", "user_agents": ["ExampleBot"]}
    ]
    assert leaf(summary, "sources.crawled.period")["value"] == {"from": "2026-02-01", "to": "ongoing"}
    assert leaf(summary, "sources.crawled.top_domains")["value"] == ["docs.example.com", "forum.example.org"]
    # Until publisher reservations are recorded, nothing claims they were checked or honoured.
    checked = leaf(summary, "sources.crawled.reservations_checked")
    assert checked["provenance"] == "to_be_completed"
    assert set(checked["value"]) == {"https://docs.example.com", "https://forum.example.org"}
    assert all(v["provenance"] == "to_be_completed" for v in checked["value"].values())
    assert leaf(summary, "processing.tdm_opt_outs.reservations_honoured")["provenance"] == "to_be_completed"
    # An ongoing crawl: the latest acquisition date is not known.
    assert leaf(summary, "general.training_data.latest_acquisition")["provenance"] == "to_be_completed"


def test_a_run_no_source_explains_leaves_the_source_questions_open(trained: Trained) -> None:
    policy = parse_policy_text(
        example_text(
            **{CHATS: "  - {id: support-chats, kind: chat_transcripts, purposes: [security]}"}
        ).replace(
            "purposes: [train_support_chatbot], retention_days: 365",
            "purposes: [security], retention_days: 365",
        )
    )
    trained.train("support-bot-v1", write(chats(2), trained.dir / "c.parquet"), policy=policy)
    summary = build_summary(trained.ledger.engine, policy, "support-bot").to_json()
    for category in ("public_datasets", "crawled", "user_data", "synthetic", "other"):
        field = leaf(summary, f"sources.{category}.used")
        assert field["provenance"] == "to_be_completed", category
        assert "the sources of runs" in field["from"]


def test_only_the_model_and_its_versions_count(trained: Trained) -> None:
    data = write(chats(2), trained.dir / "c.parquet")
    trained.train("support-bot", data)
    trained.train("support-bot:2", data)
    trained.train("support-bot-large", data)  # another model
    built = build_summary(trained.ledger.engine, trained.policy, "support-bot")
    assert built.fields["general.model.versions"].value == ["support-bot", "support-bot:2"]
    assert built.fields["general.training_data.size.records"].value == 2  # one dataset, read twice
    with pytest.raises(NotFound, match="support-bot-large"):
        build_summary(trained.ledger.engine, trained.policy, "chat-bot")


@pytest.mark.parametrize(
    ("model", "name", "expected"),
    [
        ("m", "m", True),
        ("m-v7", "m", True),
        ("m@1.2", "m", True),
        ("m/2026-06", "m", True),
        ("m-large", "m", False),
        ("mx-1", "m", False),
        ("m.", "m", False),
        ("a.b-v1", "a.b", True),
        ("axb-v1", "a.b", False),
    ],
)
def test_version_names(model: str, name: str, expected: bool) -> None:
    assert is_version_of(model, name) is expected


def test_paths_in_the_layout_are_unique_and_in_template_order() -> None:
    numbers = [s.number for s in LAYOUT]
    assert numbers == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "3.1", "3.2", "3.3"]
    paths = [i.path for s in LAYOUT for i in s.items]
    assert len(paths) == len(set(paths))


def test_sizes_of_a_directory_of_mixed_formats_are_not_guessed(trained: Trained, tmp_path: Path) -> None:
    data = tmp_path / "mixed"
    write(chats(2), data / "a.parquet")
    write(chats(2), data / "b.jsonl", "jsonl")
    trained.train("support-bot-v1", data, batches=[chats(4)])
    summary = build_summary(trained.ledger.engine, trained.policy, "support-bot").to_json()
    records = leaf(summary, "general.training_data.size.records")
    assert records["provenance"] == "to_be_completed"
    assert "several formats" in records["from"]


def test_a_public_dataset_is_listed_and_its_reservations_stay_open(trained: Trained) -> None:
    public = (
        "  - {id: open-faq, kind: qa_pairs, purposes: [train_support_chatbot], personal: false, "
        "origin: public, url: 'https://data.example.org/faq', modality: [text]}"
    )
    summary = with_extra_source(trained, public)
    assert leaf(summary, "sources.public_datasets.used")["value"] is True
    listed = leaf(summary, "sources.public_datasets.large_datasets")
    assert listed["value"] == [{"name": "open-faq", "url": "https://data.example.org/faq"}]
    assert leaf(summary, "sources.public_datasets.modalities")["value"] == ["text"]
    # No crawling, but a dataset from others: how its reservations were honoured is not known.
    assert leaf(summary, "sources.crawled.used")["value"] is False
    honoured = leaf(summary, "processing.tdm_opt_outs.reservations_honoured")
    assert honoured["provenance"] == "to_be_completed"


def test_a_source_among_several_allowed_for_the_purpose_is_not_claimed(trained: Trained) -> None:
    # The run names no source and reads no source's file: its purpose allows the two chat sources
    # and the crawl, so neither "crawled data used" nor "user data used" is known.
    summary = with_extra_source(trained, CRAWLED, located=False)
    for category in ("crawled", "user_data"):
        used = leaf(summary, f"sources.{category}.used")
        assert used["provenance"] == "to_be_completed", category
        assert "FilterOptions(source=" in used["from"]
    assert leaf(summary, "sources.crawled.crawlers")["provenance"] == "to_be_completed"
    assert leaf(summary, "sources.user_data.services")["provenance"] == "to_be_completed"
    # The provider knows: declared, the open sub-questions of a category it did not use follow.
    declared = {"sources.crawled.used": False, "sources.user_data.used": True}
    policy = parse_policy_text(example_text(**{"- {id: status-page-metrics,": CRAWLED}))
    built = build_summary(trained.ledger.engine, policy, "support-bot", answers=declared)
    crawlers = built.fields["sources.crawled.crawlers"]
    assert (crawlers.value, crawlers.provenance) == (None, "declared")
    assert crawlers.source.startswith("not applicable: sources.crawled.used is declared no")
    assert built.fields["sources.user_data.services"].open  # "yes" answers nothing further
    # Public datasets: no allowed source is one, so that "no" stays derived.
    public = leaf(summary, "sources.public_datasets.used")
    assert (public["value"], public["provenance"]) == (False, "derived")


def test_which_kind_of_user_data_is_claimed_only_for_a_source_certainly_read(trained: Trained) -> None:
    text = example_text(
        **{
            CHATS: "  - {id: support-chats, kind: chat_transcripts, purposes: [train_support_chatbot], "
            "origin: user_interactions}",
            FEEDBACK: "  - {id: feedback-forms, kind: free_text, purposes: [train_support_chatbot], "
            "origin: user}",
        }
    )
    policy = parse_policy_text(text)
    data = write(chats(2), trained.dir / "c.parquet")
    trained.train("support-bot-v1", data, policy=policy)  # names no source: either may have fed it
    summary = build_summary(trained.ledger.engine, policy, "support-bot").to_json()
    assert leaf(summary, "sources.user_data.used")["value"] is True  # both allowed sources are users' data
    for key in ("model_interactions", "other_services"):
        field = leaf(summary, f"sources.user_data.{key}")
        assert field["provenance"] == "to_be_completed", key
        assert "FilterOptions(source=" in field["from"]

    trained.train("support-bot-v2", data, policy=policy, source="support-chats")
    summary = build_summary(trained.ledger.engine, policy, "support-bot").to_json()
    assert leaf(summary, "sources.user_data.model_interactions")["value"] is True
    # The first run may still have read feedback-forms: not a "no".
    assert leaf(summary, "sources.user_data.other_services")["provenance"] == "to_be_completed"


def test_stored_rights_checks_fill_2_3_and_3_1(trained: Trained) -> None:
    """``consentgate signals check`` results (stored apart from the ledger) answer the reservation
    questions once every crawled origin was read; the summary takes them, not a default."""
    routes = {"/robots.txt": Route(body="User-agent: ExampleBot\nDisallow: /\n"), "/": page()}
    with serve(routes) as site:
        checks = check_reservations([site.url("/")], crawlers=("ExampleBot",), timeout=5)
        ReservationStore(trained.ledger.engine).add([u.to_json() for o in checks for u in o.urls])
        summary = with_extra_source(
            trained,
            CRAWLED.replace("https://docs.example.com", site.origin).replace(
                ", https://forum.example.org", ""
            ),
        )
    checked = leaf(summary, "sources.crawled.reservations_checked")
    assert checked["provenance"] == "derived"
    assert checked["value"][site.origin]["value"]["robots.txt"]["reserved"] == "yes"
    honoured = leaf(summary, "processing.tdm_opt_outs.reservations_honoured")
    assert honoured["provenance"] == "derived"
    assert site.origin in honoured["value"]
