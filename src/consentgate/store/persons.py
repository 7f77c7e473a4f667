"""A person is a connected component of identifier links: the walk, over any way of reading them.

``aliases.people`` reads the links through SQLAlchemy, the CLI's read path (``sqlite_reads.py``)
through the standard ``sqlite3`` module; both walk them here, so they find the same people.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable

# The links touching any of these identifiers, as (alias, subject) pairs: one ``aliases`` query.
LinksOf = Callable[[list[str]], Iterable[tuple[str, str]]]
CHUNK = 400  # IN (...) lists under SQLite's bound-parameter limit (each list appears twice)


def components(
    subjects: Collection[str], links_of: LinksOf, *, chunk: int | None = CHUNK
) -> dict[str, set[str]]:
    """Each of ``subjects`` → every identifier connected to it (itself included), reading the links
    breadth first, a batch of up to ``chunk`` identifiers per query (None: the whole frontier in
    one query, for readers that pass the list as one parameter)."""
    edges: dict[str, set[str]] = {}
    frontier = set(subjects)
    seen: set[str] = set()
    while frontier:
        batch = list(frontier - seen)
        seen |= frontier
        frontier = set()
        size = chunk or max(len(batch), 1)
        for i in range(0, len(batch), size):
            for alias, subj in links_of(batch[i : i + size]):
                edges.setdefault(alias, set()).add(subj)
                edges.setdefault(subj, set()).add(alias)
                for x in (alias, subj):
                    if x not in seen:
                        frontier.add(x)
    wanted = set(subjects)
    out: dict[str, set[str]] = {}
    for s in wanted:
        if s in out:
            continue
        if s not in edges:  # no link at all (most identifiers of a batch): a person of one
            out[s] = {s}
            continue
        comp = {s}
        stack = [s]
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in comp:
                    comp.add(nxt)
                    stack.append(nxt)
        for member in comp:
            if member in wanted:
                out[member] = comp
    return out
