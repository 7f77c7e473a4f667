"""What one browser tab saw while one page loaded: requests, Set-Cookie headers, script writes.

An :class:`PageObserver` listens on a Chrome DevTools Protocol session of its tab (the network as the
browser saw it, with each request's initiator and the raw ``Set-Cookie`` headers, including those
the browser then refused to store) and receives the records of ``instrument.js`` (who wrote
``document.cookie`` or storage, and which script pointed an image or frame at a URL). When the page
has settled, :meth:`PageObserver.sightings` turns all of it into plain :class:`Sighting` values.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from consentgate.scan.sites import host_of, origin_of


@dataclass(frozen=True)
class Sighting:
    """One observation. ``kind`` is ``cookie``, ``storage`` or ``request``."""

    kind: str
    phase: str
    page: str
    name: str  # cookie name, storage key, or request URL
    host: str  # cookie domain, storage origin host, request host
    via: str  # header | script | jar | snapshot | network
    url: str | None = None  # the response that set a cookie, or the script that wrote it
    script: str | None = None  # the script behind it, when known
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


def first_script(urls: list[str], *, skip: str | None = None) -> str | None:
    for u in urls:
        if u and u != skip:
            return u
    return None


def _stack_urls(stack: dict[str, Any] | None) -> list[str]:
    """Script URLs of a CDP stack trace, innermost first, following async parents."""
    out: list[str] = []
    while stack:
        out.extend(f.get("url", "") for f in stack.get("callFrames", []) if f.get("url"))
        stack = stack.get("parent")
    return out


def parse_cookie_line(line: str, default_host: str, now: datetime) -> dict[str, Any] | None:
    """A ``Set-Cookie`` value or a ``document.cookie`` assignment as name and attributes (no value)."""
    parts = [p.strip() for p in line.split(";")]
    if not parts or "=" not in parts[0]:
        return None
    name = parts[0].split("=", 1)[0].strip()
    if not name:
        return None
    attrs: dict[str, Any] = {
        "name": name,
        "domain": default_host,
        "host_only": True,
        "path": "/",
        "expires": None,
        "secure": False,
        "http_only": False,
        "same_site": None,
        "deleted": False,
    }
    max_age: int | None = None
    for p in parts[1:]:
        key, _, value = p.partition("=")
        key = key.strip().lower()
        value = value.strip()
        if key == "domain" and value:
            attrs["domain"] = value.lstrip(".").lower()
            attrs["host_only"] = False
        elif key == "path" and value:
            attrs["path"] = value
        elif key == "expires" and value and max_age is None:
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                attrs["expires"] = parsedate_to_datetime(value).astimezone(UTC)
        elif key == "max-age":
            try:
                max_age = int(value)
            except ValueError:
                continue
            try:
                attrs["expires"] = now + timedelta(seconds=max_age)
            except OverflowError:
                attrs["expires"] = datetime.max.replace(tzinfo=UTC)
        elif key == "secure":
            attrs["secure"] = True
        elif key == "httponly":
            attrs["http_only"] = True
        elif key == "samesite":
            attrs["same_site"] = value.capitalize() or None
    expires = attrs["expires"]
    attrs["deleted"] = expires is not None and expires <= now
    return attrs


@dataclass
class _Request:
    urls: list[str]
    type: str
    initiator: dict[str, Any]
    document: str | None
    started: float
    done: bool = False
    extras: list[dict[str, Any]] = field(default_factory=list)


class PageObserver:
    """Collects what one tab does while it loads one page (see the module docstring)."""

    def __init__(self, phase: str, page_url: str) -> None:
        self.phase = phase
        self.page_url = page_url
        self._requests: dict[str, _Request] = {}
        self._orphan_extras: dict[str, list[dict[str, Any]]] = {}
        self._records: list[dict[str, Any]] = []
        self._resource_scripts: dict[str, str] = {}
        self.last_activity = time.monotonic()

    # -- CDP events --------------------------------------------------------------------------------

    def on_request(self, e: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        rid = e["requestId"]
        url = e["request"]["url"]
        req = self._requests.get(rid)
        if req is not None and e.get("redirectResponse") is not None:
            req.urls.append(url)  # a redirect hop keeps the request id
            return
        extras = self._orphan_extras.pop(rid, [])
        self._requests[rid] = _Request(
            urls=[url],
            type=str(e.get("type") or "Other"),
            initiator=e.get("initiator") or {},
            document=e.get("documentURL"),
            started=time.monotonic(),
            extras=extras,
        )

    def on_done(self, e: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        req = self._requests.get(e["requestId"])
        if req is not None:
            req.done = True

    def on_response_extra(self, e: dict[str, Any]) -> None:
        self.last_activity = time.monotonic()
        req = self._requests.get(e["requestId"])
        if req is None:  # the extra-info event can arrive before the request event
            self._orphan_extras.setdefault(e["requestId"], []).append(e)
        else:
            req.extras.append(e)

    def on_record(self, record: dict[str, Any]) -> None:
        """A record from instrument.js (through the exposed binding)."""
        self.last_activity = time.monotonic()
        if record.get("t") == "resource":
            script = first_script(list(record.get("stack") or []))
            if script and isinstance(record.get("url"), str):
                self._resource_scripts.setdefault(record["url"], script)
            return
        self._records.append(record)

    # -- settling ----------------------------------------------------------------------------------

    def quiet_for(self, hanging_after: float) -> float:
        """Seconds since the last network or script activity; 0 while requests are in flight.

        A request open longer than ``hanging_after`` seconds (long polling, a stalled beacon) no
        longer holds the page open.
        """
        now = time.monotonic()
        for req in self._requests.values():
            if not req.done and now - req.started < hanging_after:
                return 0.0
        return now - self.last_activity

    # -- results -----------------------------------------------------------------------------------

    def _initiator_script(self, req: _Request) -> str | None:
        init = req.initiator
        stack = _stack_urls(init.get("stack"))
        if stack:
            return stack[0]
        for url in req.urls[:1]:
            script = self._resource_scripts.get(url)
            if script:
                return script
        doc = init.get("url")
        return str(doc) if doc else None

    def sightings(self, now: datetime) -> list[Sighting]:
        out: list[Sighting] = []
        for req in self._requests.values():
            script = self._initiator_script(req)
            for url in req.urls:
                out.append(
                    Sighting(
                        "request",
                        self.phase,
                        self.page_url,
                        url,
                        host_of(url),
                        "network",
                        url=url,
                        script=script,
                        attrs={"type": req.type.lower()},
                    )
                )
            out.extend(self._header_cookies(req, script, now))
        for rec in self._records:
            out.extend(self._script_sighting(rec, now))
        return out

    def _header_cookies(self, req: _Request, script: str | None, now: datetime) -> list[Sighting]:
        out: list[Sighting] = []
        # One extra-info event per response, in order: hop i of a redirect chain answered extras[i].
        pairs = (
            list(zip(req.urls, req.extras, strict=True))
            if len(req.extras) == len(req.urls)
            else [(req.urls[-1], x) for x in req.extras]
        )
        for url, extra in pairs:
            headers = extra.get("headers") or {}
            lines: list[str] = []
            for key, value in headers.items():
                if key.lower() == "set-cookie":
                    lines.extend(str(value).split("\n"))
            blocked = {
                b.get("cookieLine", ""): list(b.get("blockedReasons") or [])
                for b in extra.get("blockedCookies") or []
            }
            is_navigation = req.type == "Document"
            for line in lines:
                attrs = parse_cookie_line(line, host_of(url), now)
                if attrs is None:
                    continue
                attrs["blocked"] = blocked.get(line, [])
                out.append(
                    Sighting(
                        "cookie",
                        self.phase,
                        self.page_url,
                        attrs["name"],
                        attrs["domain"],
                        "header",
                        url=url,
                        script=None if is_navigation else script,
                        attrs=attrs,
                    )
                )
        return out

    def _script_sighting(self, rec: dict[str, Any], now: datetime) -> list[Sighting]:
        href = str(rec.get("href") or self.page_url)
        stack = [str(u) for u in rec.get("stack") or []]
        # No script URL on the stack: an inline script of the document (or an event handler) wrote it.
        script = first_script(stack) or href
        if rec.get("t") == "cookie":
            attrs = parse_cookie_line(str(rec.get("line", "")), host_of(href), now)
            if attrs is None:
                return []
            attrs["blocked"] = []
            return [
                Sighting(
                    "cookie",
                    self.phase,
                    self.page_url,
                    attrs["name"],
                    attrs["domain"],
                    "script",
                    url=script,
                    script=script,
                    attrs=attrs,
                )
            ]
        if rec.get("t") == "storage":
            return [
                Sighting(
                    "storage",
                    self.phase,
                    self.page_url,
                    str(rec.get("key", "")),
                    host_of(href),
                    "script",
                    url=script,
                    script=script,
                    attrs={"kind": str(rec.get("kind", "storage")), "origin": origin_of(href)},
                )
            ]
        return []
