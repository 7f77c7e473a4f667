"""The access report: what is held, what it fed, who received it, in JSON and as a page."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from consentgate.pipeline import FilterOptions
from consentgate.pipeline.export import export_files
from consentgate.requests import RequestDesk, access_report, report_html

from .conftest import grant, record_filtered


def test_the_report_lists_history_bases_sources_vendors_and_limits(desk: RequestDesk, site: Path) -> None:
    svc = desk.service
    svc.record([grant("ann", when="2026-02-02T10:00:00-05:00", region="US-CA")])
    src = site / "export-in.parquet"
    pq.write_table(pa.table({"user_id": ["ann", "bob", "zed"], "text": ["a", "b", "c"]}), src)
    export = export_files(
        svc.policy,
        svc.ledger,
        "llm-host",
        "train_chat",
        src,
        site / "export-out.parquet",
        FilterOptions(subject_column="user_id"),
    )
    report = access_report(desk, "ann")
    assert report["schema_version"] == "consentgate-access-report/1"
    assert report["controller"] == {"name": "Example Support Ltd", "contact": "privacy@example.com"}
    assert report["identifiers"] == ["ann", "c-ann"]
    assert report["erased"] is None
    # History with the exact wording and the time zone as the person acted.
    texts = {e["privacy_notice"]["text"] for e in report["consent_history"] if e["privacy_notice"]}
    assert texts == {"Use my chats to train models."}
    assert "2026-02-02T10:00:00-05:00" in {e["event_time"] for e in report["consent_history"]}
    # Bases for the person's region (their latest event is in California).
    purposes = {p["id"]: p for p in report["purposes"]}
    assert purposes["train_chat"]["basis"] == "opt_out"
    assert purposes["train_chat"]["ai"] is True
    assert purposes["analytics"]["ai"] is False
    # Sources with retention and what each registered one holds now.
    sources = {s["id"]: s for s in report["sources"]}
    assert sources["chats"]["records_held"] == 2
    assert sources["chats"]["retention_days"] == 730
    assert sources["metrics"]["registered_for_erasure"] is False
    assert report["retention"]["sources"]["feedback"] == 365
    # The vendor that received the data, from the export's manifest.
    assert [(v["vendor"], v["purpose"], v["run_id"]) for v in report["vendors"]] == [
        ("llm-host", "train_chat", export.manifest.run_id)
    ]
    assert report["training_runs"] == []
    assert any("cannot be made to forget" in x for x in report["limits"])
    page = report_html(report)
    assert "llm-host" in page
    assert "Use my chats to train models." in page
    assert "<script" not in page


def test_the_page_escapes_what_people_and_policies_write(desk: RequestDesk) -> None:
    svc = desk.service
    svc.record([("", {"subject": "<b>x</b>", "action": "object", "purposes": ["tune_ranker"],
                      "occurred_at": "2026-02-03T00:00:00Z"})])  # fmt: skip
    page = report_html(access_report(desk, "<b>x</b>"))
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_a_filtered_dataset_holding_the_person_is_listed_as_a_dataset_not_a_vendor(
    desk: RequestDesk, site: Path
) -> None:
    manifest = record_filtered(desk.service, site, "chats-in.parquet")
    report = access_report(desk, "ann")
    assert report["vendors"] == []
    assert [(d["run_id"], d["output"]) for d in report["datasets"]] == [
        (manifest.run_id, str(site / "clean.parquet"))
    ]
    assert "clean.parquet" in report_html(report)
    assert access_report(desk, "zed")["datasets"] == []  # zed's records were filtered out
