"""What the pages and /v1/reports show, computed on SQLite and PostgreSQL: event counts, the request
queue's order (overdue first), the data map's runs, the risk lists."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from consentgate.ledger.store import Ledger
from consentgate.policy import Policy
from consentgate.reports.inventory import inventory
from consentgate.requests import RequestDesk
from consentgate.scan.history import ScanHistory
from consentgate.server import consoleviews as views
from consentgate.server import create_app
from consentgate.server.deps import ServerState
from consentgate.service import ConsentService
from consentgate.settings import Settings
from consentgate.store.runs import RunStore
from tests.console.conftest import CHOICES, SCAN, seed


def _state(service: ConsentService, policy_path: Path) -> ServerState:
    app = create_app(Settings(db=service.ledger.url, policy=policy_path), service=service)
    state: ServerState = app.state.consentgate
    return state


def test_ledger_view_counts_every_event_by_action(
    ledger: Ledger, example_policy: Policy, example_policy_path: Path
) -> None:
    service = ConsentService(example_policy, ledger)
    seed(service)
    view = views.ledger_view(_state(service, example_policy_path))
    expected = Counter(action for _, _, action in CHOICES)
    assert view["events"]["by_action"] == dict(expected)
    assert view["events"]["total"] == len(CHOICES) == ledger.count()
    assert view["head"] == {"seq": ledger.head()[0], "hash": ledger.head()[1]}
    # Before the chain monitor has run, the page says so instead of claiming "intact".
    assert view["verification"]["state"] == "unverified"
    assert view["verification"]["intact"] is None


def test_the_request_queue_puts_overdue_first_then_open_then_closed(
    ledger: Ledger, example_policy: Policy, example_policy_path: Path
) -> None:
    service = ConsentService(example_policy, ledger)
    seed(service)  # the people below, and an access request of ana's filed today
    now = datetime.now(UTC)
    long_ago = RequestDesk(service, now=lambda: now - timedelta(days=70))
    closed = long_ago.file("object", "ben@example.com", purposes=["marketing"])
    long_ago.reject(closed.request_id, reason="identity could not be verified")
    late = RequestDesk(service, now=lambda: now - timedelta(days=45)).file("access", "cem@example.com")
    fresh = RequestDesk(service).file("erase", "dia@example.com")
    view = views.requests_view(_state(service, example_policy_path), today=now.date())
    order = [r["request_id"] for r in view["requests"]]
    assert order[0] == late.request_id
    assert fresh.request_id in order[1:3]
    assert order[3] == closed.request_id
    assert (view["open"], view["overdue"]) == (3, 1)
    first, second, _, third = view["requests"]
    assert first["overdue"] is True
    assert first["days_left"] < 0
    assert second["overdue"] is False
    assert second["days_left"] > 0
    assert first["next_step"] == f'consentgate requests verify {late.request_id} --method "…"'
    assert all("subject" not in r for r in view["requests"])
    assert third["status"] == "rejected"
    assert third["next_step"] is None
    assert third["days_left"] is None


def test_the_data_map_counts_runs_by_kind(
    ledger: Ledger, example_policy: Policy, example_policy_path: Path
) -> None:
    service = ConsentService(example_policy, ledger)
    runs = RunStore(ledger.engine)
    now = datetime.now(UTC)
    for i, kind in enumerate(("training", "training", "export")):
        run_id = f"run-{i}"
        runs.start(run_id=run_id, kind=kind, purpose="train_support_chatbot", started_at=now, manifest={})  # type: ignore[arg-type]
        runs.finish(run_id, status="completed", finished_at=now, records=10, subjects=4, manifest={})
    view = views.datamap_view(_state(service, example_policy_path))
    assert view["run_counts"] == {"training": 2, "filter": 0, "export": 1}
    assert {r["kind"] for r in view["runs"]} == {"training", "export"}
    assert all("manifest" not in r for r in view["runs"])
    levels = {s["id"]: s["level"] for s in view["sources"]}
    assert levels["status-page-metrics"] == "non_personal"
    assert levels["support-chats"] == "personal"
    labelling = next(v for v in view["vendors"] if v["id"] == "example-labelling")
    assert labelling["self_training"] is True


def test_the_website_view_shows_the_latest_scan_and_what_changed(
    example_policy: Policy, tmp_path: Path
) -> None:
    data = example_policy.model_dump(mode="json")
    data["web"]["scan"] = {"start_urls": ["https://www.example.com/"]}
    policy = Policy.model_validate(data)
    history = ScanHistory(tmp_path / "scans")
    first = {
        **SCAN,
        "started_at": "2026-11-01T09:00:00+00:00",
        "violations": [],
        "cookies": SCAN["cookies"][:1],
    }
    history.save("https://www.example.com/", first, datetime(2026, 11, 1, 9, tzinfo=UTC))
    history.save("https://www.example.com/", SCAN, datetime(2026, 11, 30, 9, tzinfo=UTC))
    with Ledger.open(str(tmp_path / "ledger.db")) as ledger:
        service = ConsentService(policy, ledger)
        app = create_app(Settings(db=ledger.url, scan_history_dir=tmp_path / "scans"), service=service)
        view = views.website_view(app.state.consentgate, locale="de")
    scan = view["scan"]
    assert scan["scanned_at"] == SCAN["started_at"]  # the newest scan, not the first
    assert [v["name"] for v in scan["violation_items"]] == ["_demo_analytics_id"]
    assert scan["uncategorised_items"] == [
        {"kind": "cookie", "name": "_mystery", "domain": "www.example.com"}
    ]
    (change,) = view["history"]
    assert (change["from"], change["to"]) == (first["started_at"], SCAN["started_at"])
    assert [c["name"] for c in change["cookies"]["added"]] == ["_mystery"]
    assert len(change["violations"]["added"]) == 1
    assert 'lang="de"' in view["declaration_html"]


def test_without_a_scan_the_website_view_says_how_to_get_one(ledger: Ledger, example_policy: Policy,
                                                              example_policy_path: Path) -> None:  # fmt: skip
    view = views.website_view(_state(ConsentService(example_policy, ledger), example_policy_path))
    assert view["scan"] is None
    assert "consentgate scan" in view["problem"]


def test_the_website_page_counts_as_the_inventory_and_the_audit_pack_do(
    example_policy: Policy, tmp_path: Path
) -> None:
    """A summary that disagrees with the scan's own lists (hand-edited, or from an older scanner) is
    not what the page counts: it shows reports.inventory's row, as `report inventory` and the pack."""
    data = example_policy.model_dump(mode="json")
    data["web"]["scan"] = {"start_urls": ["https://www.example.com/", "https://shop.example.com/"]}
    policy = Policy.model_validate(data)
    edited = {**SCAN, "summary": {**SCAN["summary"], "cookies": 9, "third_party_hosts": 0, "unknown": {}},
              "storage": [{"key": "_seen", "kind": "localStorage", "origin": "https://www.example.com",
                           "category": "unknown"}]}  # fmt: skip
    ScanHistory(tmp_path / "scans").save(
        "https://www.example.com/", edited, datetime(2026, 11, 30, 9, tzinfo=UTC)
    )
    with Ledger.open(str(tmp_path / "ledger.db")) as ledger:
        app = create_app(Settings(db=ledger.url, scan_history_dir=tmp_path / "scans"),
                         service=ConsentService(policy, ledger))  # fmt: skip
        view = views.website_view(app.state.consentgate)
        pack = views.audit_pack(app.state.consentgate)
    expected = inventory(policy, history_dir=tmp_path / "scans")["sites"]
    assert view["sites"] == expected
    www, shop = view["sites"]
    assert (www["cookies"], www["storage"], www["hosts"], www["uncategorised"]) == (2, 1, 1, 2)
    assert shop["scanned_at"] is None  # never scanned: no zeros that would read as "nothing found"
    assert shop["problem"] == "never scanned"
    assert view["scan"]["cookies"] == 2
    assert {(u["kind"], u["name"]) for u in view["scan"]["uncategorised_items"]} == {
        ("cookie", "_mystery"), ("storage", "_seen")
    }  # fmt: skip
    assert "never scanned" in pack  # the pack lists the same sites


def test_a_persons_report_in_the_console_is_in_the_readers_language(
    ledger: Ledger, example_policy: Policy, example_policy_path: Path
) -> None:
    """The console's subject lookup builds the access report in the console reader's locale, as the
    privacy center's download is in the person's: the sentences meant for a reader are translated,
    keys and codes stay."""
    from consentgate.requests.report_locale import catalogue

    service = ConsentService(example_policy, ledger)
    seed(service)
    subject = CHOICES[0][0]
    state = _state(service, example_policy_path)
    english = views.subject_view(state, subject)
    japanese = views.subject_view(state, subject, locale="ja")
    assert english["locale"]["used"] == "en"
    assert japanese["locale"] == {"used": "ja", "requested": "ja", "fell_back": False}
    assert english["limits"][0] == catalogue("en")["limit_forget"]
    assert japanese["limits"][0] == catalogue("ja")["limit_forget"] != english["limits"][0]
    assert japanese.keys() == english.keys()
    # Each decision is explained in the reader's words; the decision's own reason stays as decided.
    for en_purpose, ja_purpose in zip(english["purposes"], japanese["purposes"], strict=True):
        assert ja_purpose["reason"] == en_purpose["reason"]
        assert ja_purpose["explanation"] != en_purpose["explanation"]
