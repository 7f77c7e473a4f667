"""The audit pack: every section there, everything escaped, no script and no external reference, the
ledger's state told as it is (intact and signed, unsigned, broken), and one CSV per table."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from consentgate.ledger.signing import Signer
from consentgate.ledger.store import Ledger
from consentgate.ledger.verify import Checkpoint
from consentgate.pipeline.snapshot import policy_fingerprint
from consentgate.policy import Policy
from consentgate.reports.audit import (
    AuditOptions,
    audit_csv_texts,
    audit_document,
    build_audit_pack,
    write_audit_csv,
)
from consentgate.reports.periods import Period
from consentgate.requests import RequestDesk
from consentgate.scan.history import ScanHistory
from consentgate.service import ConsentService
from consentgate.store.runs import RunStore
from tests.scan.docs import cookie, document, violation

HOSTILE_WORDING = (
    '=Train on my chats <script>window.__x=1</script> <img src="https://tracker.example/p.gif" '
    'onerror="x()"> & more'
)
HOSTILE_COOKIE = '<img src=x onerror="window.__y=1">'
SECTIONS = ("overview", "ledger", "policy", "notices", "rates", "banner", "requests", "scans", "runs")
AT = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = Period(datetime(2026, 6, 1, tzinfo=UTC), AT)


class Page(HTMLParser):
    """The parsed page: tags with attributes, the text, the text of each element id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def all_text(self) -> str:
        return "".join(self.text)

    def ids(self) -> set[str]:
        found = [a["id"] or "" for _, a in self.tags if "id" in a]
        assert len(found) == len(set(found)), "an id used twice: in-page links would go astray"
        return set(found)


def hostile(policy: Policy) -> Policy:
    data = policy.model_dump(mode="json")
    data["notices"][0]["versions"][0]["text"]["en"] = HOSTILE_WORDING
    data["organization"]["name"] = "Example <b>Support</b> Ltd"
    data["web"]["scan"] = {"start_urls": ["https://www.example.com/"]}
    return Policy.model_validate(data)


def populate(ledger: Ledger, policy: Policy, tmp_path: Path) -> Path:
    """Events, a request, a training run and an export, and one scan with a hostile cookie name."""
    service = ConsentService(policy, ledger)
    for i, region in enumerate(("DE", "US-CA", "FR")):
        service.record(
            [("e", {"subject": f"p{i}@example.com", "action": "grant", "purposes": ["train_support_chatbot"],
                    "notice_id": "ai-training", "notice_version": 1, "region": region,
                    "occurred_at": "2026-07-01T10:00:00Z", "source": "banner",
                    "signals": {"banner_choice": "accept_all"}})],
            strict=False,
        )  # fmt: skip
    clock = datetime(2026, 7, 2, tzinfo=UTC)
    RequestDesk(service, now=lambda: clock).file("access", "p0@example.com")
    runs = RunStore(ledger.engine)
    for kind, vendor in (("training", None), ("export", "example-llm-host")):
        runs.record(
            run_id=f"run-{kind}",
            kind=kind,  # type: ignore[arg-type]
            purpose="train_support_chatbot",
            started_at=datetime(2026, 8, 1, tzinfo=UTC),
            finished_at=datetime(2026, 8, 1, 1, tzinfo=UTC),
            records=10,
            hashes={b"\x01" * 16, b"\x02" * 16},
            manifest={"snapshot": {"policy_fingerprint": "f" * 64}},
            vendor=vendor,
            model="support-bot-v1" if vendor is None else None,
        )
    history = tmp_path / "scans"
    doc = document(
        cookies=[cookie(HOSTILE_COOKIE, "unknown")],
        violations=[{**violation("cookie", HOSTILE_COOKIE, "www.example.com"), "type": "unclassified"}],
    )
    ScanHistory(history).save("https://www.example.com/", doc, datetime(2026, 11, 1, tzinfo=UTC))
    return history


def test_the_pack_has_every_section_escapes_everything_and_refers_to_nothing_outside(
    signed_ledger: Ledger, ledger_signer: Signer, example_policy: Policy, tmp_path: Path
) -> None:
    policy = hostile(example_policy)
    history = populate(signed_ledger, policy, tmp_path)
    options = AuditOptions(period=PERIOD, at=AT, signer=ledger_signer, history_dir=history)
    html = build_audit_pack(signed_ledger.engine, policy, options)
    page = Page(html)

    assert set(SECTIONS) <= page.ids()
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags
    assert "img" not in tags
    assert "b" not in tags
    assert "iframe" not in tags
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        if "href" in attrs:
            assert (attrs["href"] or "").startswith("#"), attrs
    assert "url(" not in html
    assert "@import" not in html
    text = page.all_text
    assert HOSTILE_WORDING in text  # the exact wording, as text
    assert HOSTILE_COOKIE in text
    assert "Example <b>Support</b> Ltd" in text
    assert "None" not in text

    assert policy_fingerprint(policy) in text
    assert "INTACT" in text
    checkpoint = json.loads(html.split("<pre>")[1].split("</pre>")[0].replace("&quot;", '"'))
    assert signed_ledger.verify(checkpoint=Checkpoint.from_json(checkpoint)).ok
    assert "run-training" in text
    assert "run-export" in text
    assert "support-bot-v1" in text
    assert "not known" in text  # banner outcomes: no action


def test_an_unsigned_ledger_is_not_called_intact_and_gets_no_checkpoint(
    ledger: Ledger, example_policy: Policy, tmp_path: Path
) -> None:
    populate(ledger, example_policy, tmp_path)
    text = Page(build_audit_pack(ledger.engine, example_policy, AuditOptions(period=PERIOD, at=AT))).all_text
    assert "INTACT" not in text
    assert "NOT PROVEN" in text
    assert "No checkpoint was signed for this pack: no ledger key is configured" in text
    assert "No website scan is known" in text
    skipped = AuditOptions(period=PERIOD, at=AT, verify=False)
    text = Page(build_audit_pack(ledger.engine, example_policy, skipped)).all_text
    assert "not run for this pack" in text


def test_a_broken_ledger_is_reported_broken_and_no_checkpoint_is_signed(
    signed_ledger: Ledger, ledger_signer: Signer, example_policy: Policy, tmp_path: Path
) -> None:
    populate(signed_ledger, example_policy, tmp_path)
    with signed_ledger.engine.begin() as conn:
        conn.execute(text("UPDATE events SET region = 'BR' WHERE seq = 2"))
    options = AuditOptions(period=PERIOD, at=AT, signer=ledger_signer)
    page_text = Page(build_audit_pack(signed_ledger.engine, example_policy, options)).all_text
    assert "BROKEN: events at seq 2" in page_text
    assert "No checkpoint was signed for this pack: the ledger failed verification." in page_text
    assert "INTACT" not in page_text


def test_every_table_is_a_csv_file_with_the_same_rows(
    signed_ledger: Ledger, ledger_signer: Signer, example_policy: Policy, tmp_path: Path
) -> None:
    policy = hostile(example_policy)
    history = populate(signed_ledger, policy, tmp_path)
    doc = audit_document(
        signed_ledger.engine,
        policy,
        AuditOptions(period=PERIOD, at=AT, signer=ledger_signer, history_dir=history),
    )
    written = write_audit_csv(doc, tmp_path / "csv")
    assert {p.name for p in written} == {f"{t.name}.csv" for t in doc.tables()} | {"facts.csv"}
    texts = audit_csv_texts(doc)
    assert {name: (tmp_path / "csv" / name).read_bytes().decode() for name in texts} == texts
    for table in doc.tables():
        with (tmp_path / "csv" / f"{table.name}.csv").open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == len(table.rows), table.name
        if rows:
            assert tuple(rows[0]) == table.columns
    notices = _rows(tmp_path / "csv" / "notices.csv")
    expected = sum(len(v.text) for n in policy.notices for v in n.versions)
    assert len(notices) == expected
    shown = next(
        r for r in notices if r["notice"] == "ai-training" and r["version"] == "1" and r["locale"] == "en"
    )
    assert shown["text"] == "'" + HOSTILE_WORDING  # a spreadsheet must not run it as a formula
    assert shown["events_recorded"] == "3"
    facts = {r["fact"]: r["value"] for r in _rows(tmp_path / "csv" / "facts.csv")}
    assert facts["Policy fingerprint (sha256)"] == policy_fingerprint(policy)
    rates = _rows(tmp_path / "csv" / "consent_rates.csv")
    assert {(r["purpose"], r["region"], r["subjects"]) for r in rates} >= {
        ("train_support_chatbot", "EU", "2")
    }


def _rows(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(autouse=True)
def _fixed_key_location(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONSENTGATE_LEDGER_KEY", raising=False)
