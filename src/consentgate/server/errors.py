"""One JSON error shape for every HTTP error, whoever raised it.

::

    {"error": {"code": "invalid_event",
               "message": "what is wrong and what to change",
               "problems": [{"at": "choices[0].notice_version", "message": "…"}]}}

``problems`` is always present (empty when there is nothing to point at). Codes, by status:

=====  ==========================================================================================
400    ``invalid_json``, ``invalid_encoding``, ``json_too_deep``
408    ``request_timeout`` (the request head did not arrive in time; server/connections.py)
401    ``unauthorized`` (no credentials, unknown or revoked key, expired, altered or foreign subject
       token) — with ``WWW-Authenticate: Bearer``
403    ``forbidden`` (the key's scope does not allow this endpoint, or the credentials may not act
       for this subject; ``problems`` then names each refused subject), ``origin_not_allowed`` (a
       CORS preflight from a site the policy does not list under ``web.origins``)
404    ``not_found``          405 ``method_not_allowed``       409 ``conflict``
413    ``body_too_large``
415    ``unsupported_media_type``
431    ``headers_too_large`` (request head too large or too many header fields; server/connections.py)
422    ``invalid_request`` (body or parameters do not fit the schema), ``invalid_event``,
       ``invalid_query``, ``invalid_input``
429    ``rate_limited`` (too many requests from this key or address, or too many events for this key
       or subject; ``Retry-After`` says when to retry)
500    ``storage_failed`` (retrying will not help), ``internal_error`` (a bug; no details leak)
503    ``storage_unavailable`` (retry after ``Retry-After`` seconds), ``incomplete`` (an erasure
       reached only some sources; what was done stays done, and a retry continues),
       ``ledger_broken`` (the hash chain does not verify: nothing is appended until it does),
       ``ledger_unverified`` (the start-up check of the chain has not finished; ``Retry-After``)
=====  ==========================================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from itertools import islice
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from consentgate.errors import (
    AuthError,
    BadInput,
    ChainBroken,
    Conflict,
    EventError,
    Incomplete,
    NotFound,
    QueryError,
    StorageError,
)
from consentgate.server.validation import rewrite_validation_errors
from consentgate.store.errors import DatabaseError, as_storage_error

RETRY_AFTER_SECONDS = 1
# A batch of 10,000 bad submissions should not answer with a 10,000-entry list; the message keeps the count.
MAX_PROBLEMS = 100


class Problem(BaseModel):
    at: str = Field(
        description="Where in the request: a body path such as choices[0].purpose, or a parameter."
    )
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable, machine-readable kind of error.")
    message: str = Field(description="What is wrong and what to change.")
    problems: list[Problem]


class ErrorBody(BaseModel):
    error: ErrorDetail


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


RETRY_AFTER_HEADER = {
    "Retry-After": {
        "description": "Whole seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
# For routers' ``responses=``: documents the shape in /openapi.json instead of FastAPI's default 422.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("Malformed JSON or not UTF-8"),
    401: _doc("No credentials, an unknown or revoked API key, or an expired or altered subject token"),
    403: _doc("The key's scope, or the subject token, does not allow this (for this subject)"),
    404: _doc("No such resource (for example a path that cannot name a subject)"),
    413: _doc("Body larger than max_body_bytes"),
    415: _doc("A body that is not JSON"),
    422: _doc("Input that does not fit; the problems say where and what to fix"),
    429: {
        **_doc("Too many requests from this API key or client address; retry after Retry-After seconds"),
        "headers": RETRY_AFTER_HEADER,
    },
    503: {
        **_doc("Storage temporarily unavailable; retry after Retry-After seconds"),
        "headers": RETRY_AFTER_HEADER,
    },
}


class RequestProblems(BadInput):
    """Bad input the server layer found, located by request paths (``queries[3].purpose``)."""

    def __init__(
        self,
        code: str,
        message: str,
        problems: Sequence[tuple[str, str]],
        *,
        status: int = 422,
        headers: Mapping[str, str] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.problems = list(problems)
        self.status = status
        self.headers = dict(headers or {})


def error_response(
    status: int,
    code: str,
    message: str,
    problems: Iterable[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "code": code,
            "message": message,
            "problems": [{"at": a, "message": m} for a, m in islice(problems, MAX_PROBLEMS)],
        }
    }
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))


def summarise(problems: Sequence[tuple[str, str]], *, stored: bool = False) -> str:
    """A one-line message naming the first problem, so a log line alone says what to fix."""
    if not problems:
        return "the request is invalid"
    at, msg = problems[0]
    first = msg if msg.startswith(at.rsplit(".", 1)[-1]) else f"{at}: {msg}"
    more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
    tail = "" if stored else "; nothing was stored"
    return f"{first}{more}{tail}"


async def _consentgate_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, RequestProblems):
        return error_response(exc.status, exc.code, exc.message, exc.problems, headers=exc.headers)
    if isinstance(exc, AuthError):
        if exc.status == 401:
            return error_response(401, "unauthorized", exc.message, headers={"WWW-Authenticate": "Bearer"})
        return error_response(exc.status, "forbidden", exc.message)
    if isinstance(exc, EventError):
        return error_response(422, "invalid_event", summarise(exc.problems), exc.problems)
    if isinstance(exc, QueryError):
        return error_response(
            422, "invalid_query", exc.message, [("purpose" if exc.purpose else "query", exc.message)]
        )
    if isinstance(exc, NotFound):
        return error_response(404, "not_found", exc.message)
    if isinstance(exc, Conflict):
        return error_response(409, "conflict", exc.message, exc.problems)
    if isinstance(exc, BadInput):
        return error_response(422, "invalid_input", exc.message)
    if isinstance(exc, Incomplete):
        return error_response(503, "incomplete", exc.message, exc.problems, headers={"Retry-After": "60"})
    if isinstance(exc, ChainBroken):  # an append found the head it chains onto altered
        at = "ledger" if exc.seq is None else f"ledger.seq[{exc.seq}]"
        return error_response(503, "ledger_broken", exc.message, [(at, exc.message)])
    if isinstance(exc, StorageError):
        return _storage(exc.message, transient=exc.transient)
    return _internal()


async def _database_error(_: Request, exc: Exception) -> JSONResponse:
    # Reads in the ledger surface raw database errors; a locked or vanished database is not a bug.
    # store/errors.py words them without the SQL statement and parameters (they can hold subject ids).
    err = as_storage_error(exc, "read the ledger")
    return _storage(err.message, transient=err.transient)


def _storage(message: str, *, transient: bool) -> JSONResponse:
    if transient:
        return error_response(
            503,
            "storage_unavailable",
            f"{message}; retry shortly",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return error_response(500, "storage_failed", message)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    bad_json = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if bad_json is not None:  # only reachable if the body guard was bypassed; same answer anyway
        detail = (bad_json.get("ctx") or {}).get("error", "not valid JSON")
        return error_response(400, "invalid_json", f"the body is not valid JSON: {detail}")
    problems = rewrite_validation_errors(errors)
    return error_response(422, "invalid_request", summarise(problems, stored=True), problems)


def _methods_of(request: Request) -> set[str]:
    """Every method the OpenAPI document lists for the request's path."""
    methods: set[str] = set()
    for path, item in request.app.openapi().get("paths", {}).items():
        if _template(path).fullmatch(request.url.path):
            methods |= {m.upper() for m in item if m.lower() in _HTTP_METHODS}
    return methods


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@lru_cache(maxsize=256)
def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", path)
    return re.compile(
        "".join(
            (".+" if p.endswith(":path}") else "[^/]+") if p.startswith("{") else re.escape(p) for p in parts
        )
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return error_response(
            404, "not_found", f"no such resource: {request.url.path}; see /openapi.json", headers=headers
        )
    if exc.status_code == 405:
        # Starlette's Allow names only the first route on the path; a path served by several routes
        # (GET and POST /v1/requests) must list the methods of all of them.
        methods = _methods_of(request)
        if methods:
            headers.pop("allow", None)
            headers["Allow"] = ", ".join(sorted(methods))
        allowed = headers.get("Allow") or headers.get("allow") or "see /openapi.json"
        message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
        return error_response(405, "method_not_allowed", message, headers=headers)
    code = "body_too_large" if exc.status_code == 413 else f"http_{exc.status_code}"
    return error_response(exc.status_code, code, str(exc.detail), headers=headers)


async def _unexpected(_: Request, __: Exception) -> JSONResponse:
    return _internal()


def _internal() -> JSONResponse:
    return error_response(500, "internal_error", "an unexpected error occurred; it was logged on the server")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BadInput, _consentgate_error)
    app.add_exception_handler(StorageError, _consentgate_error)
    app.add_exception_handler(Incomplete, _consentgate_error)
    app.add_exception_handler(DatabaseError, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # Starlette answers this one from its outermost middleware and then re-raises for the server's log.
    app.add_exception_handler(Exception, _unexpected)
