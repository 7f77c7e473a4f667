"""Small websites on 127.0.0.1 whose every answer a test sets: status, headers and body per path.

Each :class:`Site` is one origin (its own port). A path not in ``routes`` answers 404; a route whose
status is 0 closes the connection without answering (a failed fetch).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    status: int = 200
    body: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/plain; charset=utf-8"


def page(body: str = "<html><head><title>News</title></head><body>Hello</body></html>", **kw: Any) -> Route:
    return Route(body=body, content_type="text/html; charset=utf-8", **kw)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    routes: dict[str, Route]
    seen: list[tuple[str, str]]  # (path, user agent)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("User-Agent", "")))
        route = self.server.routes.get(self.path.split("?", 1)[0], Route(404, "not found"))
        if route.status == 0:
            self.close_connection = True
            self.connection.close()
            return
        data = route.body.encode()
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in route.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Site:
    server: _Server

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    @property
    def routes(self) -> dict[str, Route]:
        return self.server.routes

    @property
    def seen(self) -> list[tuple[str, str]]:
        return self.server.seen


@contextmanager
def serve(routes: dict[str, Route] | None = None) -> Iterator[Site]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = dict(routes or {})
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(server)
    finally:
        server.shutdown()
        server.server_close()


def closed_origin() -> str:
    """An origin on loopback where nothing listens (a port just released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
