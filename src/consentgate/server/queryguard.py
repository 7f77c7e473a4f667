"""Unknown or repeated query parameters are errors, as unknown body fields are.

``GET /v1/decisions?subject=u&purpose=p&regoin=US-CA`` must not quietly decide for the subject's last
known region: a misspelt parameter is refused with 422 and its name, like ``notice_verison`` in a body.
Nor may ``?region=DE&region=US-CA`` quietly mean the last one: a parameter that takes one value and
comes several times is refused too (list parameters, such as ``status`` of ``GET /v1/requests``, may
repeat).
"""

from __future__ import annotations

from collections import Counter
from types import UnionType
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.routing import APIRoute

from consentgate.server.errors import RequestProblems, summarise

_CACHE = "_consentgate_query_params"


def _known(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """Query parameter names of the route and of every dependency it has, however deep; and those
    of them that take a list."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(route, _CACHE, None)
    if cached is not None:
        return cached
    names: set[str] = set()
    lists: set[str] = set()
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        for p in dependant.query_params:
            names.add(p.alias)
            if _is_list(p.field_info.annotation):
                lists.add(p.alias)
        stack.extend(dependant.dependencies)
    known = (frozenset(names), frozenset(lists))
    setattr(route, _CACHE, known)  # routes are unhashable, so no lru_cache; computed once per route
    return known


def _is_list(annotation: Any) -> bool:
    if get_origin(annotation) in (list, set, frozenset, tuple):
        return True
    return get_origin(annotation) in (Union, UnionType) and any(_is_list(a) for a in get_args(annotation))


async def reject_unknown_query(request: Request) -> None:
    """An app-wide dependency: 422 when the query string names a parameter the route does not take."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema or not request.query_params:
        return
    known, lists = _known(route)
    names = [name for name, _ in request.query_params.multi_items()]
    unknown = [name for name in dict.fromkeys(names) if name not in known]
    takes = ", ".join(sorted(known)) or "none"
    problems = [
        (_shown(name), f"is not a parameter of this endpoint (it takes: {takes}); check its spelling")
        for name in unknown
    ]
    if len(names) != len(set(names)):
        counts = Counter(names)
        problems += [
            (_shown(name), f"takes one value but was given {n}; send it once")
            for name, n in counts.items()
            if n > 1 and name in known and name not in lists
        ]
    if problems:
        raise RequestProblems("invalid_request", summarise(problems, stored=True), problems)


def _shown(name: str) -> str:
    return name if len(name) <= 60 else name[:59] + "…"
