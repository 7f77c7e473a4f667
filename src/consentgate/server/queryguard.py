"""Unknown query parameters are errors, as unknown body fields are.

``GET /v1/decisions?subject=u&purpose=p&regoin=US-CA`` must not quietly decide for the subject's last
known region: a misspelt parameter is refused with 422 and its name, like ``notice_verison`` in a body.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from consentgate.server.errors import RequestProblems, summarise

_CACHE = "_consentgate_query_params"


def _known(route: APIRoute) -> frozenset[str]:
    """Query parameter names of the route and of every dependency it has, however deep."""
    cached: frozenset[str] | None = getattr(route, _CACHE, None)
    if cached is not None:
        return cached
    names: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names.update(p.alias for p in dependant.query_params)
        stack.extend(dependant.dependencies)
    known = frozenset(names)
    setattr(route, _CACHE, known)  # routes are unhashable, so no lru_cache; computed once per route
    return known


async def reject_unknown_query(request: Request) -> None:
    """An app-wide dependency: 422 when the query string names a parameter the route does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema or not request.query_params:
        return
    known = _known(route)
    unknown = [name for name in dict.fromkeys(request.query_params.keys()) if name not in known]
    if not unknown:
        return
    takes = ", ".join(sorted(known)) or "none"
    problems = [
        (_shown(name), f"is not a parameter of this endpoint (it takes: {takes}); check its spelling")
        for name in unknown
    ]
    raise RequestProblems("invalid_request", summarise(problems, stored=True), problems)


def _shown(name: str) -> str:
    return name if len(name) <= 60 else name[:59] + "…"
