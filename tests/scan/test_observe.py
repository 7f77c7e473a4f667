"""What a tab saw, turned into sightings: Set-Cookie parsing, redirects, initiators, script writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consentgate.scan.observe import PageObserver, parse_cookie_line

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_set_cookie_attributes_without_the_value() -> None:
    attrs = parse_cookie_line(
        "IDE=secret; Domain=.doubleclick.net; Path=/ads; Max-Age=3600; Secure; HttpOnly; SameSite=none",
        "ad.doubleclick.net",
        NOW,
    )
    assert attrs is not None
    assert attrs["name"] == "IDE"
    assert "secret" not in repr(attrs)
    assert (attrs["domain"], attrs["host_only"], attrs["path"]) == ("doubleclick.net", False, "/ads")
    assert attrs["expires"] == NOW + timedelta(hours=1)
    assert (attrs["secure"], attrs["http_only"], attrs["same_site"]) == (True, True, "None")
    gone = parse_cookie_line("old=; expires=Thu, 01 Jan 1970 00:00:00 GMT", "www.example.com", NOW)
    assert gone is not None
    assert gone["deleted"]
    assert parse_cookie_line("no equals sign", "www.example.com", NOW) is None


def _request(
    obs: PageObserver, rid: str, url: str, kind: str, initiator: dict[str, object], redirect: bool = False
) -> None:
    event: dict[str, object] = {
        "requestId": rid,
        "request": {"url": url},
        "type": kind,
        "initiator": initiator,
    }
    if redirect:
        event["redirectResponse"] = {"status": 302}
    obs.on_request(event)


def test_redirect_hops_and_their_cookies() -> None:
    obs = PageObserver("no_consent", "https://www.example.com/")
    script = {"type": "script", "stack": {"callFrames": [{"url": "https://tags.example.net/t.js"}]}}
    _request(obs, "1", "https://ads.example.net/px", "Image", script)
    obs.on_response_extra({"requestId": "1", "headers": {"set-cookie": "a=1\nb=2"}})
    _request(obs, "1", "https://sync.example.org/px", "Image", script, redirect=True)
    obs.on_response_extra(
        {
            "requestId": "1",
            "headers": {"Set-Cookie": "c=3"},
            "blockedCookies": [{"cookieLine": "c=3", "blockedReasons": ["ThirdPartyPhaseout"]}],
        }
    )
    obs.on_done({"requestId": "1"})
    got = {(s.kind, s.name): s for s in obs.sightings(NOW)}
    assert got[("cookie", "a")].host == "ads.example.net"
    assert got[("cookie", "a")].script == "https://tags.example.net/t.js"
    assert got[("cookie", "c")].host == "sync.example.org"
    assert got[("cookie", "c")].attrs["blocked"] == ["ThirdPartyPhaseout"]
    assert {s.name for s in got.values() if s.kind == "request"} == {
        "https://ads.example.net/px",
        "https://sync.example.org/px",
    }


def test_initiators_the_stack_the_src_setter_then_the_document() -> None:
    obs = PageObserver("accepted", "https://www.example.com/")
    obs.on_record(
        {"t": "resource", "url": "https://ads.example.net/i.gif", "stack": ["https://ads.example.net/p.js"]}
    )
    _request(
        obs,
        "1",
        "https://ads.example.net/i.gif",
        "Image",
        {"type": "parser", "url": "https://www.example.com/"},
    )
    _request(
        obs,
        "2",
        "https://cdn.example.net/x.js",
        "Script",
        {"type": "parser", "url": "https://www.example.com/"},
    )
    scripts = {s.name: s.script for s in obs.sightings(NOW)}
    assert scripts["https://ads.example.net/i.gif"] == "https://ads.example.net/p.js"
    assert scripts["https://cdn.example.net/x.js"] == "https://www.example.com/"


def test_script_writes() -> None:
    obs = PageObserver("rejected", "https://www.example.com/")
    obs.on_record(
        {"t": "cookie", "line": "_ga=GA1.1; path=/", "stack": [], "href": "https://www.example.com/"}
    )
    obs.on_record(
        {"t": "storage", "kind": "localStorage", "key": "k", "stack": ["https://a.example.net/s.js"],
         "href": "https://frame.example.net/f"}
    )  # fmt: skip
    cookie, storage = obs.sightings(NOW)
    assert (cookie.name, cookie.host, cookie.url) == ("_ga", "www.example.com", "https://www.example.com/")
    assert (storage.name, storage.attrs["origin"], storage.script) == (
        "k",
        "https://frame.example.net",
        "https://a.example.net/s.js",
    )


def test_quiet_only_without_requests_in_flight() -> None:
    obs = PageObserver("no_consent", "https://www.example.com/")
    _request(obs, "1", "https://www.example.com/a", "XHR", {})
    assert obs.quiet_for(hanging_after=10) == 0.0
    obs.on_done({"requestId": "1"})
    assert obs.quiet_for(hanging_after=10) >= 0.0
    _request(obs, "2", "https://www.example.com/poll", "XHR", {})
    assert obs.quiet_for(hanging_after=0) >= 0.0  # a request open "too long" no longer counts
