"""Reject oversized, malformed and pathologically nested bodies before any endpoint sees them.

Also refused here, because no endpoint could store them faithfully: URLs whose percent-encoding is not
UTF-8 (``%FF``: decoded they would silently become U+FFFD), JSON numbers beyond a float (``1e400`` is
infinity, which JSON cannot write back), and lone UTF-16 surrogates (``"\\ud800"``), which are valid
JSON escapes but not characters, and which no UTF-8 database column can hold.

It runs outside FastAPI's routing so that these answers use the common error shape and name the
problem (FastAPI would say only "There was an error parsing the body"), and so that a body larger than
``max_body_bytes`` is refused from its Content-Length, or as soon as the streamed bytes pass the limit,
without buffering the rest.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentgate.server.errors import error_response

# Our deepest legitimate body is a batch of submissions with signals: about six levels.
MAX_JSON_DEPTH = 32
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Where the parsed JSON body is left in the ASGI scope for the hot path (valid JSON only).
PARSED_BODY = "consentgate.parsed_body"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# text/plain is accepted as JSON: navigator.sendBeacon and other CORS "simple requests" can only
# send that type without a preflight, and banners record choices as the page unloads.
_JSON_TYPES = ("application/json", "text/plain")
# The operator console's HTML forms post urlencoded bodies, and only there (server/routers/console.py).
_FORM_TYPE = "application/x-www-form-urlencoded"
_FORM_PREFIX = "/console/"


class BodyGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bad_url = check_url(scope)
        if bad_url is not None:
            await error_response(400, "invalid_encoding", bad_url)(scope, receive, send)
            return
        headers = _body_headers(scope)
        length = headers.get("content-length", "").strip()
        if length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)

        if body:
            declared = headers.get("content-type")
            media = (declared or "application/json").split(";")[0].strip().lower()
            if media == _FORM_TYPE and scope["path"].startswith(_FORM_PREFIX):
                await self.app(scope, _replay(body, receive), send)
                return
            if not (media in _JSON_TYPES or media.endswith("+json")):
                response = error_response(
                    415,
                    "unsupported_media_type",
                    f"the body must be JSON; send Content-Type: application/json, not {media}",
                )
                await response(scope, receive, send)
                return
            value, problem = parse_json(body)
            if problem is not None:
                code, text = problem
                await error_response(400, code, text)(scope, receive, send)
                return
            # Kept for the hot path (server/hotpath.py), which then need not parse the body again:
            # a second parse of a batch of 1,000 queries was 7 % of its cost (docs/benchmarks.md).
            scope[PARSED_BODY] = value
            if declared is None or media == "text/plain":
                _as_json(scope)

        await self.app(scope, _replay(body, receive), send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        text = f"the body is larger than {self.max_body_bytes} bytes; split it into smaller requests"
        await error_response(413, "body_too_large", text, headers={"Connection": "close"})(
            scope, receive, send
        )


def check_json(body: bytes) -> tuple[str, str] | None:
    """``(code, message)`` when the body is not UTF-8 JSON of sane depth, else None."""
    return parse_json(body)[1]


def parse_json(body: bytes) -> tuple[Any, tuple[str, str] | None]:
    """The parsed body and None, or None and ``(code, message)`` when it is not UTF-8 JSON of sane
    depth (:func:`check_json`)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, (
            "invalid_encoding",
            f"the body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start}); "
            "encode JSON as UTF-8",
        )
    try:
        value = json.loads(text, parse_constant=_no_constants, parse_float=_finite)
    except json.JSONDecodeError as exc:
        return None, (
            "invalid_json",
            f"the body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
        )
    except ValueError as exc:
        return None, ("invalid_json", f"the body is not valid JSON: {exc}")
    except RecursionError:
        return None, ("json_too_deep", f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    # Fewer brackets than the limit cannot nest deeper than it: skip the walk for ordinary bodies.
    if body.count(b"{") + body.count(b"[") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        return None, ("json_too_deep", f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    # Only bodies that escape a surrogate at all are walked; json pairs the valid ones up (emoji).
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return None, (
            "invalid_encoding",
            "the JSON escapes a lone UTF-16 surrogate (such as \\ud800), which is not a character; "
            "send valid Unicode text",
        )
    return value, None


def check_url(scope: Scope) -> str | None:
    """What is wrong with a path or query string that does not percent-decode to UTF-8, or None."""
    for name, raw in (("path", scope.get("raw_path")), ("query string", scope.get("query_string"))):
        if not raw:
            continue
        raw = bytes(raw)
        if b"%" not in raw and raw.isascii():  # nothing escaped, and ASCII is UTF-8
            continue
        decoded = unquote_to_bytes(raw.replace(b"+", b" "))
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError as exc:
            return (
                f"the URL's {name} is not UTF-8 once percent-decoded (byte 0x{decoded[exc.start]:02x} "
                f"at offset {exc.start}); percent-encode the UTF-8 bytes of each character"
            )
    return None


_BODY_HEADERS = frozenset({b"content-length", b"content-type"})


def _body_headers(scope: Scope) -> dict[str, str]:
    """Content-Length and Content-Type, the last of each (as a dict of all headers would keep)."""
    out: dict[str, str] = {}
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered in _BODY_HEADERS:
            out[lowered.decode("latin-1")] = value.decode("latin-1")
    return out


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"the number {literal[:40]} is too large; JSON numbers must be finite")
    return value


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if _SURROGATE.search(node):
                return True
        elif isinstance(node, dict):
            stack.extend(node.keys())
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number; send a number or null")


def _deeper_than(value: Any, limit: int) -> bool:
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _as_json(scope: Scope) -> None:
    # FastAPI parses only JSON content types; say so for the text/plain bodies accepted above.
    # In place, not a copy: outer middleware (the access log) reads the route the router adds to it.
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"content-type"]
    headers.append((b"content-type", b"application/json"))
    scope["headers"] = headers


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
