"""Server-side tag gating: tracker tags leave the server inert, so the browser never fetches them early.

Why on the server: ``banner.js`` stops a tracker script from *running*, but Chromium's preload
scanner reads the HTML ahead of the parser and fetches every ``<script src>`` and ``<img src>`` it
sees — before any script, the banner included, can act. Only HTML that never puts a tracker URL in
a fetching attribute is safe. So the start tags of ``<script>``, ``<iframe>``, ``<img>`` and
``<source>`` whose URL is on a ``web.trackers`` host (or a subdomain) become the inert form that
``banner.js`` re-activates once the purposes are allowed::

    <script src=U>            → <script type="text/plain" data-consent="P…" data-src=U>
    <script type=module src=U>→ <script type="text/plain" data-consent="P…" data-type="module" data-src=U>
    <iframe src=U>, <img src=U srcset=S>, <source srcset=S>
                              → the same element with data-consent, data-src / data-srcset
    <link rel=preload|prefetch|modulepreload|preconnect|dns-prefetch|prerender href=U>
                              → <link … data-consent="P…" data-href=U> (a hint: never re-activated)

The purposes of a host are those whose ``kind`` is the host's ``category`` — the same rule as the
hosts compiled into ``banner.js`` (:func:`consentgate.web.config.blocked_hosts`). Any other start tag
that still points a fetching attribute at a tracker host (a stylesheet, ``<video src>``, ``poster``,
``<object data>``) is left as it is and reported as a :class:`Finding` with ``action="left"``: the
gate says what it did not stop.

Parsing is Python's own ``html.parser`` (incremental: it takes chunks as they come), used only to
find where each start tag begins and ends; everything between the tags changed passes byte for byte.
The bytes are read as latin-1, which maps each byte to one character and back, so any
ASCII-compatible charset (UTF-8, windows-1252, Shift_JIS…) passes unchanged without being known;
UTF-16 and UTF-32 documents are not rewritten (:func:`ascii_compatible`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import unquote, urlsplit

from consentgate.policy.models import Policy
from consentgate.web.config import blocked_hosts

# WHATWG URL parsing, before it looks at a URL: strip leading and trailing C0 controls and spaces,
# remove every tab and newline, and (special schemes) read "\" as "/". Browsers fetch what is left.
_C0_SPACE = "".join(chr(c) for c in range(0x21))
_TAB_NEWLINE = re.compile("[\t\n\r]")
_JS_TYPES = re.compile(r"^(module|(text|application)/(x-)?(java|ecma|j|live)script(1\.\d)?)$", re.I)
_HINTS = frozenset({"preload", "prefetch", "modulepreload", "preconnect", "dns-prefetch", "prerender"})
# Fetching attributes the gate does not make inert, per tag ("*" for any tag): reported, not changed.
_OTHER_FETCHES = {"*": ("src", "poster"), "link": ("href",), "object": ("data",), "input": ("src",)}
GATED_TAGS = frozenset({"script", "iframe", "img", "source"})

Action = Literal["gated", "left"]


@dataclass(frozen=True)
class Finding:
    """A tag that named a tracker host: made inert (``gated``) or, outside what the gate can make
    inert, left as it was (``left``) — the browser will fetch that one before any choice."""

    action: Action
    tag: str
    attribute: str
    url: str
    purposes: tuple[str, ...]
    line: int


def _host(url: str) -> str | None:
    """The host a browser would fetch ``url`` from, lower-case; None for relative URLs (first party).

    Where the browser's reading depends on the page's own scheme (``https:/x.net/a`` is relative on
    an https page, a host elsewhere) this takes the host: gating a first-party tag by mistake is
    recoverable, letting a tracker through is not.
    """
    with suppress(UnicodeError):  # the body was read as latin-1; a UTF-8 URL reads back right
        url = url.encode("latin-1").decode("utf-8")
    url = _TAB_NEWLINE.sub("", url.strip(_C0_SPACE))
    scheme, sep, rest = url.partition(":")
    if sep and scheme.lower() in ("http", "https", "ws", "wss", "ftp"):
        rest = rest.replace("\\", "/")
    elif url.startswith(("//", "\\\\", "/\\", "\\/")):
        rest = url.replace("\\", "/")
    else:
        return None
    try:
        host = urlsplit("//" + rest.lstrip("/")).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = unquote(host)  # browsers percent-decode hosts
    with suppress(UnicodeError):  # and map them as IDNA does: full-width dots are dots
        host = host.encode("idna").decode("ascii")
    return host.lower().rstrip(".")  # "a.net." is "a.net"


@dataclass(frozen=True)
class TrackerHosts:
    """Tracker host → the purposes that must all be allowed before its tags may load."""

    purposes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_policy(cls, policy: Policy) -> TrackerHosts:
        out: dict[str, list[str]] = {}
        for p in policy.purposes:
            for host in blocked_hosts(policy, p):
                out.setdefault(host, []).append(p.id)
        return cls({h: tuple(ids) for h, ids in out.items()})

    def purposes_for(self, url: str) -> tuple[str, ...]:
        """The purposes ``url`` waits for (its host or a parent domain listed); () when none."""
        host = _host(url)
        if host is None or not self.purposes:
            return ()
        found: list[str] = []
        labels = host.split(".")
        for i in range(len(labels)):
            for purpose in self.purposes.get(".".join(labels[i:]), ()):
                if purpose not in found:
                    found.append(purpose)
        return tuple(found)


def _srcset_urls(srcset: str) -> list[str]:
    # Candidates are "URL [descriptor]" separated by commas; a URL may itself hold commas, so take
    # whitespace-separated words and trim commas: over-reading a descriptor as a URL is harmless here.
    return [w.strip(",") for w in srcset.split() if w.strip(",")]


def ascii_compatible(charset: str | None, head: bytes) -> bool:
    """False for documents in UTF-16 or UTF-32 (by their byte order mark or declared charset), whose
    tags are not ASCII bytes; the gate then passes them unchanged and says so."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return not (charset or "").strip().strip("\"'").lower().startswith(("utf-16", "utf-32", "utf16", "utf32"))


def _runs(script_type: str | None) -> bool:
    """A script of this ``type`` is fetched and run (no type, a JavaScript MIME type, or module)."""
    return script_type is None or not script_type.strip() or bool(_JS_TYPES.match(script_type.strip()))


class _Attrs:
    """A start tag's attributes, in order, as the browser reads them (the first of a name wins)."""

    def __init__(self, attrs: list[tuple[str, str | None]]) -> None:
        self.items = attrs
        self.first: dict[str, str | None] = {}
        for name, value in attrs:
            self.first.setdefault(name, value)

    def get(self, name: str) -> str | None:
        return self.first.get(name)

    def render(
        self,
        tag: str,
        lead: list[tuple[str, str]],
        renames: dict[str, str],
        close: str,
        drop: Iterable[str] = (),
    ) -> str:
        """The tag with ``lead`` attributes first, ``renames`` applied (first occurrence kept), the
        attributes ``lead`` and ``renames`` write, and ``drop``, removed, and every other as it was."""
        drop = {name for name, _ in lead} | set(renames.values()) | set(drop)
        parts = [f'{n}="{escape(v)}"' for n, v in lead]
        seen: set[str] = set()
        for name, value in self.items:
            new = renames.get(name, name)
            if name in drop or (name in renames and name in seen):
                continue
            seen.add(name)
            parts.append(new if value is None else f'{new}="{escape(value)}"')
        return f"<{tag} {' '.join(parts)}{close}"


class HtmlGate(HTMLParser):
    """Streaming rewriter: ``feed(bytes)`` returns what can be sent on, ``close()`` the rest.

    ``findings`` lists every tag that named a tracker host, gated or left (see the module doc).
    """

    def __init__(self, hosts: TrackerHosts) -> None:
        super().__init__(convert_charrefs=False)
        self.hosts = hosts
        self.findings: list[Finding] = []
        self._pending = ""  # text fed and not yet sent on
        self._sent = 0  # absolute offset of _pending[0]
        self._fed = 0
        self._lines = [0]  # absolute offset where line _first_line + i starts
        self._first_line = 1
        self._edits: list[tuple[int, int, str]] = []

    # -- streaming ----------------------------------------------------------------------------------
    def feed(self, data: bytes | str) -> bytes:  # type: ignore[override]
        text = data.decode("latin-1") if isinstance(data, bytes) else data
        base = self._fed
        self._lines.extend(base + m.end() for m in re.finditer("\n", text))
        self._pending += text
        self._fed += len(text)
        super().feed(text)
        return self._flush(self._fed - len(self.rawdata))

    def close(self) -> bytes:  # type: ignore[override]
        super().close()
        return self._flush(self._fed)

    def _flush(self, upto: int) -> bytes:
        out: list[str] = []
        at = self._sent
        for start, end, text in self._edits:
            out.append(self._pending[at - self._sent : start - self._sent])
            out.append(text)
            at = end
        out.append(self._pending[at - self._sent : upto - self._sent])
        self._pending = self._pending[upto - self._sent :]
        self._sent = upto
        self._edits.clear()
        # Lines that end before what is still pending can never be reported again.
        keep = max(bisect.bisect_right(self._lines, upto) - 1, 0)
        if keep > 1024:
            del self._lines[:keep]
            self._first_line += keep
        return "".join(out).encode("latin-1")

    # -- tags ---------------------------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, ">")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, attrs, " />")

    def _tag(self, tag: str, raw_attrs: list[tuple[str, str | None]], close: str) -> None:
        attrs = _Attrs(raw_attrs)
        line, col = self.getpos()
        new = (
            self._gate(tag, attrs, close, line)
            if tag in GATED_TAGS
            else self._hint(attrs, close, line)
            if tag == "link"
            else None
        )
        if tag == "script" and not _runs(attrs.get("type")):
            return  # text/plain (already gated), JSON, templates: the browser fetches nothing
        if new is not None:
            start = self._lines[line - self._first_line] + col
            self._edits.append((start, start + len(self.get_starttag_text() or ""), new))
            return
        for name in (*_OTHER_FETCHES["*"], *_OTHER_FETCHES.get(tag, ())):
            value = attrs.get(name)
            if value and (ps := self.hosts.purposes_for(value)):
                self.findings.append(Finding("left", tag, name, value, ps, line))

    def _gate(self, tag: str, attrs: _Attrs, close: str, line: int) -> str | None:
        src = attrs.get("src")
        srcset = attrs.get("srcset") if tag in ("img", "source") else None
        urls = [("src", src)] if src else []
        urls += [("srcset", u) for u in _srcset_urls(srcset or "")]
        needed: list[str] = []
        hit: tuple[str, str] | None = None
        for name, url in urls:
            for purpose in self.hosts.purposes_for(url or ""):
                hit = hit or (name, url or "")
                if purpose not in needed:
                    needed.append(purpose)
        if hit is None:
            return None
        kind = attrs.get("type")
        if tag == "script" and not _runs(kind):
            return None
        lead = [("data-consent", " ".join(needed))]
        if tag == "script":
            lead = [("type", "text/plain"), *lead]
            if kind is not None and kind.strip():
                lead.append(("data-type", kind.strip()))
        self.findings.append(Finding("gated", tag, hit[0], hit[1], tuple(needed), line))
        renames = {"src": "data-src", "srcset": "data-srcset"}
        return attrs.render(tag, lead, renames, close, drop=("type", "data-type") if tag == "script" else ())

    def _hint(self, attrs: _Attrs, close: str, line: int) -> str | None:
        rel = set((attrs.get("rel") or "").lower().split())
        href = attrs.get("href")
        if not href or not rel & _HINTS:
            return None
        needed = self.hosts.purposes_for(href)
        if not needed:
            return None
        self.findings.append(Finding("gated", "link", "href", href, needed, line))
        return attrs.render("link", [("data-consent", " ".join(needed))], {"href": "data-href"}, close)


def gate_html(data: bytes, hosts: TrackerHosts) -> tuple[bytes, list[Finding]]:
    """A whole document at once (static files); the same rewriting as the streaming middlewares."""
    gate = HtmlGate(hosts)
    out = gate.feed(data) + gate.close()
    return out, gate.findings


def gate_chunks(chunks: Iterable[bytes], hosts: TrackerHosts) -> Iterable[bytes]:
    """Rewrite a stream of chunks lazily (what a WSGI body is)."""
    gate = HtmlGate(hosts)
    for chunk in chunks:
        out = gate.feed(chunk)
        if out:
            yield out
    tail = gate.close()
    if tail:
        yield tail
