"""Pydantic's validation errors, reworded into ``(where, what to fix)`` pairs for the error shape."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_FIXED = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request; check its spelling against /openapi.json",
}
# "Input should be a valid integer" → "must be a valid integer": the field is named by ``at``.
_SHOULD = re.compile(r"^(?:Input|String|List|Value|Dictionary|Object|Tuple|Set|Data) should ")
_PREFIXES = ("Value error, ", "Assertion failed, ")
_SHOWN_INPUT = 60


def _where(loc: Sequence[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        source = str(parts.pop(0))
        if not parts:
            return source
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif "[" in str(part) or "-" in str(part):
            continue  # pydantic's internal tags (function-after[…], union members); not a field
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def _message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    if kind in _FIXED:
        if kind == "missing" and tuple(err.get("loc", ())) == ("body",):
            return "a JSON body is required; see /openapi.json for its fields"
        return _FIXED[kind]
    msg = str(err.get("msg", "is invalid"))
    for prefix in _PREFIXES:
        msg = msg.removeprefix(prefix)
    msg = _SHOULD.sub("must ", msg, count=1)
    given = err.get("input")
    if (
        kind != "value_error"
        and isinstance(given, str | int | float | bool)
        and len(repr(given)) <= _SHOWN_INPUT
    ):
        msg += f" (got {given!r})"
    return msg


def rewrite_validation_errors(errors: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    # dict.fromkeys: ordered de-duplication (pydantic repeats a message for each member of a union)
    return list(dict.fromkeys((_where(err.get("loc", ())), _message(err)) for err in errors))
