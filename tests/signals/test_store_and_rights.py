"""Checks stored on SQLite and PostgreSQL, apart from the ledger, and read back as AI Act fields."""

from __future__ import annotations

from typing import Any

import pytest

from consentgate.errors import BadInput
from consentgate.ledger.store import Ledger
from consentgate.reports.rights import rights_fields
from consentgate.scan.reservations import check_reservations
from consentgate.store.reservations import ReservationStore

from .site import Route, Site, closed_origin, page, serve

RESERVING = {
    "/robots.txt": Route(body="User-agent: GPTBot\nDisallow: /\n"),
    "/": page(headers=[("tdm-reservation", "1"), ("tdm-policy", "https://news.example.com/tdm.json")]),
}
OPEN = {"/robots.txt": Route(body="User-agent: *\nAllow: /\n"), "/": page()}


def _store(ledger: Ledger, *urls: str, crawlers: tuple[str, ...] = ()) -> ReservationStore:
    store = ReservationStore(ledger.engine)
    checks = check_reservations(list(urls), crawlers=crawlers, timeout=5)
    store.add([u.to_json() for o in checks for u in o.urls])
    return store


def test_checks_are_stored_and_read_back_without_touching_the_ledger(ledger: Ledger) -> None:
    with serve(RESERVING) as site:
        store = _store(ledger, site.url("/"), site.url("/other"))
        rows = store.checks()
        assert {r.url for r in rows} == {site.url("/"), site.url("/other")}
        home = next(r for r in rows if r.url == site.url("/"))
        assert home.verdicts == {"robots": "yes", "tdmrep": "yes", "noai": "no"}
        assert home.detail["documents"][0]["sha256"]
        assert home.to_json()["check_id"] == home.check_id
        assert store.checks("http://elsewhere.example.com") == []
    assert ledger.count() == 0  # not ledger events
    assert ledger.verify().ok


def test_a_malformed_check_stores_nothing(ledger: Ledger) -> None:
    store = ReservationStore(ledger.engine)
    good = {
        "origin": "https://news.example.com",
        "url": "https://news.example.com/",
        "checked_at": "2026-12-07T10:00:00+00:00",
        "verdicts": {"robots": "no", "tdmrep": "no", "noai": "no"},
    }
    bad = {**good, "verdicts": {"robots": "maybe", "tdmrep": "no", "noai": "no"}}
    with pytest.raises(BadInput, match="robots verdict must be yes, no or unknown"):
        store.add([good, bad])
    with pytest.raises(BadInput, match="needs checked_at"):
        store.add([{**good, "checked_at": ""}])
    assert store.checks() == []


def _per_origin(fields: dict[str, dict[str, Any]], key: str, origin: str) -> dict[str, Any]:
    return fields[key]["value"][origin]  # type: ignore[no-any-return]


def test_rights_fields_from_stored_checks(ledger: Ledger) -> None:
    with serve(RESERVING) as reserving, serve(OPEN) as open_site:
        _store(ledger, reserving.url("/"), open_site.url("/"))
        fields = rights_fields(ledger.engine, [reserving.origin + "/", open_site.origin])
    assert set(fields) == {"reservations_checked", "reservations_honoured"}
    assert fields["reservations_checked"]["provenance"] == "derived"
    checked = _per_origin(fields, "reservations_checked", reserving.origin)
    assert checked["provenance"] == "derived"
    assert checked["value"]["robots.txt"]["reserved"] == "yes"
    assert checked["value"]["robots.txt"]["agents"] == ["GPTBot"]
    assert checked["value"]["TDMRep"]["policies"] == ["https://news.example.com/tdm.json"]
    assert checked["value"]["last_checked"]
    honoured = _per_origin(fields, "reservations_honoured", reserving.origin)
    assert honoured["value"]["handling"] == "exclude"
    assert any("robots.txt disallows GPTBot" in u for u in honoured["value"]["under"])
    assert any("tdm-reservation 1" in u for u in honoured["value"]["under"])
    kept = _per_origin(fields, "reservations_honoured", open_site.origin)
    assert kept["value"]["handling"] == "may be kept"
    assert "not recorded by consentgate" in fields["reservations_honoured"]["from"]


def test_never_checked_and_unreadable_origins_are_to_be_completed(ledger: Ledger) -> None:
    nobody = closed_origin()
    with serve(OPEN) as open_site:
        _store(ledger, open_site.url("/"), nobody + "/")
        fields = rights_fields(ledger.engine, [open_site.origin, nobody, "https://never.example.com"])
    for key in ("reservations_checked", "reservations_honoured"):
        assert fields[key]["provenance"] == "to_be_completed"
        assert "2 of 3 origins" in fields[key]["from"]
        never = _per_origin(fields, key, "https://never.example.com")
        assert never == {
            "value": None,
            "provenance": "to_be_completed",
            "from": never["from"],
        }
        assert "consentgate signals check https://never.example.com/" in never["from"]
        unread = _per_origin(fields, key, nobody)
        assert unread["provenance"] == "to_be_completed"
        assert "could not" in unread["from"]
        assert _per_origin(fields, key, open_site.origin)["provenance"] == "derived"
    unread_checked = _per_origin(fields, "reservations_checked", nobody)["value"]
    assert unread_checked["robots.txt"]["reserved"] == "unknown"


def test_the_newest_check_of_a_url_counts(ledger: Ledger, site: Site) -> None:
    site.routes.update(RESERVING)
    _store(ledger, site.url("/"))
    site.routes.update(OPEN)
    _store(ledger, site.url("/"))
    fields = rights_fields(ledger.engine, [site.origin])
    honoured = _per_origin(fields, "reservations_honoured", site.origin)
    assert honoured["value"]["handling"] == "may be kept"
    assert len(ReservationStore(ledger.engine).checks(site.origin)) == 2


def test_without_a_database_or_origins_nothing_is_invented() -> None:
    fields = rights_fields(None, ["https://news.example.com"])
    entry = _per_origin(fields, "reservations_checked", "https://news.example.com")
    assert entry["provenance"] == "to_be_completed"
    assert "no ledger database" in entry["from"]
    empty = rights_fields(None, [])
    assert empty["reservations_checked"] == {
        "value": {},
        "provenance": "to_be_completed",
        "from": empty["reservations_checked"]["from"],
    }
    assert "sources[].crawl.origins" in empty["reservations_checked"]["from"]
    with pytest.raises(BadInput, match="not an http"):
        rights_fields(None, ["news.example.com"])


def test_a_reservation_against_your_own_crawler_is_told_apart(ledger: Ledger) -> None:
    everyone = {"/robots.txt": Route(body="User-agent: *\nDisallow: /\n"), "/": page()}
    with serve(RESERVING) as others_only, serve(everyone) as all_crawlers:
        _store(ledger, others_only.url("/"), all_crawlers.url("/"), crawlers=("ExampleNewsBot",))
        fields = rights_fields(ledger.engine, [others_only.origin, all_crawlers.origin])
    others = _per_origin(fields, "reservations_honoured", others_only.origin)["value"]
    assert others["own_crawlers"] == {"names": ["ExampleNewsBot"], "disallowed_by_robots_txt": []}
    assert (
        "robots.txt disallows GPTBot (every URL checked); not your crawler ExampleNewsBot" in others["under"]
    )
    mine = _per_origin(fields, "reservations_honoured", all_crawlers.origin)["value"]
    assert mine["own_crawlers"]["disallowed_by_robots_txt"] == ["ExampleNewsBot"]
    assert any("your crawler ExampleNewsBot among them" in u for u in mine["under"])
