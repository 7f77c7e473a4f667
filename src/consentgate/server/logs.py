"""Structured JSON logs on stderr: one line per request, and nothing in them that identifies a person.

A request line carries the method, the *route template* (``/v1/subjects/{subject}/state``, never
the raw path, which holds the subject id), the status, the duration, the API key's public id (never the
key), a keyed hash of the client address (never the address) and a request id that is also sent back as
``X-Request-Id``. Query strings, bodies, headers, subject ids, tokens and addresses are never logged.

uvicorn's own access log prints the client address and the raw path with its query string, so
``consentgate serve`` runs uvicorn with it off and with :func:`log_config`; an app started some other
way (``uvicorn --factory consentgate.server.app:create_app``) turns that logger off when it starts.

Exceptions are logged with their type and stack frames but not their message: messages of errors
raised while handling a request can quote the request (a subject id, say).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import re
import secrets
import time
import traceback
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentgate.server.ratelimit import address_bucket, bearer_value

ACCESS_LOGGER = "consentgate.access"
MAX_CACHED_CLIENTS = 10_000
# Keys look like cg_<scope>_<key id>_<secret> (consentgate.auth.apikeys); only the id is safe to show.
_KEY_ID = re.compile(r"^cg_[a-z]+_([0-9a-f]{12})_")
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")  # {subject:path} → {subject}
_PARAM = re.compile(r"\\\{\w+\\\}")  # an escaped {name} in re.escape(template)
# Attributes every record has, so not extras; uvicorn adds color_message, its text with colours.
_STANDARD = frozenset({*vars(logging.makeLogRecord({})), "message", "asctime", "color_message"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, plus the record's extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out["exc_type"] = type(exc).__qualname__
            out["stack"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(exc.__traceback__)
            ]
        return json.dumps(out, default=str)


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's ``log_config``: everything as JSON on stderr."""
    lvl = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "loggers": {
            "consentgate": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": lvl, "propagate": False},
            "uvicorn.error": {"level": lvl},
            # Its lines hold the client address and the raw path: never on.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
        },
        "root": {"handlers": ["stderr"], "level": "WARNING"},
    }


def ensure_logging(level: str = "info") -> None:
    """For apps not started by ``consentgate serve``: JSON request lines on stderr, uvicorn's off.

    Leaves logging alone when the process configured it already (our :func:`log_config`, or a test
    runner capturing the root logger). The level is ``level`` or uvicorn's, whichever is higher.
    """
    logging.getLogger("uvicorn.access").disabled = True
    ours = logging.getLogger("consentgate")
    if ours.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    ours.addHandler(handler)
    # `uvicorn --log-level warning` asks for no per-request lines: ours replace its access log, so
    # they obey it too (and an undrained stderr pipe does not fill up and stall the server).
    asked = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    ours.setLevel(max(asked, logging.getLogger("uvicorn.error").level))


def key_id(bearer: str | None) -> str | None:
    """The public id of an API key, ``"other"`` for a bearer value of another shape, None without one."""
    if bearer is None:
        return None
    match = _KEY_ID.match(bearer)
    return match.group(1) if match else "other"


class AccessLog:
    """ASGI middleware: one JSON line per HTTP request on the ``consentgate.access`` logger."""

    def __init__(self, app: ASGIApp, *, secret: bytes | None = None) -> None:
        self.app = app
        self.logger = logging.getLogger(ACCESS_LOGGER)
        # Per process unless given: client hashes link requests of one run, not across restarts.
        self._secret = secret or secrets.token_bytes(32)
        self._templates: list[tuple[re.Pattern[str], str]] | None = None
        # Per-request work done once: route templates by route path, client hashes by address
        # (bounded; cleared when full), request ids from a generator seeded from the OS once.
        self._route_paths: dict[str, str] = {}
        self._client_hashes: dict[str, str] = {}
        self._ids = random.Random(secrets.randbits(128))

    def route_template(self, scope: Scope) -> str | None:
        """The path template of the route that took (or was meant to take) the request, or None.

        ``/v1/subjects/{subject}/state``, as /openapi.json spells it. Requests refused before routing
        (body guard, rate limit) are matched against the documented paths, since no route saw them.
        """
        route = scope.get("route")
        path = getattr(route, "path", None)
        if isinstance(path, str):
            template = self._route_paths.get(path)
            if template is None:
                template = self._route_paths[path] = _CONVERTOR.sub(r"{\1}", path)
            return template
        if self._templates is None:
            openapi = getattr(scope.get("app"), "openapi", None)
            paths = openapi().get("paths", {}) if callable(openapi) else {}
            self._templates = [(re.compile(_PARAM.sub(".+", re.escape(p)) + "$"), p) for p in paths]
        return next((t for pattern, t in self._templates if pattern.match(scope["path"])), None)

    def client_hash(self, host: str | None) -> str | None:
        if not host:
            return None
        hashed = self._client_hashes.get(host)
        if hashed is None:
            digest = hmac.new(self._secret, address_bucket(host).encode(), hashlib.sha256)
            hashed = digest.hexdigest()[:16]
            if len(self._client_hashes) >= MAX_CACHED_CLIENTS:
                self._client_hashes.clear()
            self._client_hashes[host] = hashed
        return hashed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        # Identifies a request in the logs and to its client; it needs to be unique, not secret.
        request_id = f"{self._ids.getrandbits(64):016x}"
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, request_id, status, started)

    def _log(self, scope: Scope, request_id: str, status: int, started: float) -> None:
        level = logging.ERROR if status >= 500 else logging.INFO
        if not self.logger.isEnabledFor(level):  # the fields below cost more than the check
            return
        client = scope.get("client")
        fields = {
            "event": "request",
            "request_id": request_id,
            "method": scope["method"],
            "route": self.route_template(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "key": key_id(bearer_value(scope)),
            "client": self.client_hash(client[0] if client else None),
        }
        self.logger.log(level, "%s %s %s", fields["method"], fields["route"] or "-", status, extra=fields)
