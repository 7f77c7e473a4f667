"""The rollup behind banner outcomes and GPC share: counts kept per instant and per UTC day, brought
up to date from the event chain's head before each report, so a report reads a few rows per day of
its period instead of every event in it.

Both reports are sums over identifiers: a click is one identifier's, and a visitor is one identifier
in one region group. So the rollup is the sum, over identifiers, of what each one's events contribute,
and a refresh needs only the identifiers with an event recorded since the head it last read (late
events included: their contribution is recomputed from all their events, whatever the dates):
it adds what their events contribute now and takes away what their events up to the old head
contributed. An erasure renames an identifier's events to its pseudonym, one name for one name, so
it changes no count (the reports count erased people's clicks, as the recount does).

Clicks are additive, so days are summed. Distinct visitors in a period are not; instead each visit
(a visitor's distinct instant in a region group) is stored with the visitor's previous instant
there: the visitors of ``[a, b)`` are exactly the visits in ``[a, b)`` whose previous visit is
before ``a`` (each visitor's first visit in the period). Counted per (day, previous day) for whole
days, and per instant where the period cuts a day.

A changed policy (its regions, which decide the groups) rebuilds everything. Reads for a refresh
run in one snapshot; the counts are written under a lock only if no other refresh moved the rollup
meanwhile (else it reads again), so concurrent refreshes never add the same events twice.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache
from itertools import groupby
from operator import attrgetter

from consentgate.errors import TransientStorageError
from consentgate.policy import Policy
from consentgate.store import web_rollup as store
from consentgate.store.activity import CHOICE_ACTIONS
from consentgate.store.engine import Connection, Engine
from consentgate.store.errors import storage
from consentgate.store.rates import locked

OUTCOMES = ("accept_all", "reject_all", "custom")
UNATTRIBUTED = "unattributed"
WEB_SOURCES = frozenset(store.WEB_SOURCES)
DAY_US = store.DAY_US
NO_PREV = -(2**62)  # the "previous instant" of a visitor's first visit in a region group
ATTEMPTS = 5
# Up to this many events since the rollup's head, a refresh reads and writes under the lock (short;
# on SQLite it holds the write lock, so appends wait meanwhile). Beyond it (a first build, a bulk
# import), it reads outside the lock and writes only if no other refresh moved the rollup meanwhile.
LOCKED_UP_TO = 50_000

Parts = tuple[tuple[int, int] | None, list[tuple[int, int]]]


def refresh(engine: Engine, policy: Policy) -> int:
    """Bring the rollup up to the event chain's current head; returns the head it now reflects."""
    with storage("bring the banner-outcome and GPC-share rollup up to date"):
        return _refresh(engine, policy)


def needs_rebuild(engine: Engine, policy: Policy) -> bool:
    """Whether the next report counts the whole ledger's web events (no rollup yet, other regions)."""
    with storage("read the banner-outcome and GPC-share rollup"), store.snapshot(engine) as conn:
        state = store.read_state(conn)
    return state is None or state.regions_fingerprint != regions_fingerprint(policy)


def _refresh(engine: Engine, policy: Policy) -> int:
    fingerprint = regions_fingerprint(policy)
    for _ in range(ATTEMPTS):
        with store.snapshot(engine) as conn:
            state = store.read_state(conn)
            head = store.events_head(conn)
            after = (
                state.events_seq if state is not None and state.regions_fingerprint == fingerprint else None
            )
            if after is not None and after >= head:
                return after
            small = after is not None and head - after <= LOCKED_UP_TO
            if not small:
                deltas = _read(conn, policy, after, head)
        if small:
            done = _refresh_locked(engine, policy, fingerprint)
            if done is not None:
                return done
            continue  # the regions changed meanwhile: a rebuild, read outside the lock
        with locked(engine, store.LOCK_KEY) as conn:
            now = store.read_state(conn)
            if now is not None and now.regions_fingerprint == fingerprint and now.events_seq >= head:
                return now.events_seq  # another refresh got here first
            if now != state:
                continue  # another refresh moved the rollup while this one read: read again
            if after is None:
                store.reset(conn)
            store.apply(conn, deltas)
            store.advance(conn, head, fingerprint)
            return head
    raise TransientStorageError(
        f"the banner-outcome and GPC-share rollup moved under {ATTEMPTS} refreshes in a row (other "
        "processes refreshing it at the same time); run the report again"
    )


def _refresh_locked(engine: Engine, policy: Policy, fingerprint: str) -> int | None:
    """A few events to fold: read and write under the lock, so refreshes queue instead of racing.
    None when the rollup is not (or no longer) this policy's regions'."""
    with store.locked_snapshot(engine) as conn:
        state = store.read_state(conn)
        if state is None or state.regions_fingerprint != fingerprint:
            return None
        head = store.events_head(conn)
        if state.events_seq < head:
            store.apply(conn, _read(conn, policy, state.events_seq, head))
            store.advance(conn, head, fingerprint)
        return max(head, state.events_seq)


def _read(conn: Connection, policy: Policy, after: int | None, head: int) -> store.Deltas:
    """What the events up to ``head`` change in a rollup that has read up to ``after`` (None: an
    empty rollup, so every identifier's events)."""
    deltas = store.Deltas(Counter(), Counter())
    if after is None:
        for _, group in groupby(store.all_events(conn, head), key=attrgetter("who")):
            _fold(deltas, policy, list(group), 0)
        return deltas
    by_who: dict[str, list[store.WebEvent]] = defaultdict(list)
    for e in store.events_of(conn, *store.changed(conn, after, head), head):
        by_who[e.who].append(e)
    for events in by_who.values():
        _fold(deltas, policy, events, after)
    return deltas


def _fold(deltas: store.Deltas, policy: Policy, events: list[store.WebEvent], after: int) -> None:
    """Add what one identifier's events contribute now; take away what those up to ``after`` did."""
    _contribute(deltas, policy, events, 1)
    old = [e for e in events if e.seq <= after]
    if old:
        _contribute(deltas, policy, old, -1)


def _contribute(deltas: store.Deltas, policy: Policy, events: Iterable[store.WebEvent], sign: int) -> None:
    events = list(events)
    clicks = {
        (e.occurred_us, e.region, e.signals)
        for e in events
        if e.source == "banner" and e.action in CHOICE_ACTIONS
    }
    for us, region, signals in clicks:
        deltas.clicks[(us, region or "", outcome(signals))] += sign
    instants: dict[tuple[str, str], set[int]] = defaultdict(set)
    for e in events:
        gpc = sent_gpc(e.signals)
        if e.source in WEB_SOURCES or gpc:
            group = policy.region_group(e.region)
            instants[(group, "seen")].add(e.occurred_us)
            if gpc:
                instants[(group, "gpc")].add(e.occurred_us)
    for (group, kind), times in instants.items():
        prev = NO_PREV
        for at in sorted(times):
            deltas.visits[(group, kind, at, prev)] += sign
            prev = at


@lru_cache(maxsize=4096)  # a handful of distinct signals strings, seen once per click
def outcome(signals: str) -> str:
    """The banner button a click's signals name; ``unattributed`` when they name none we know."""
    named = json.loads(signals).get("banner_choice")
    return str(named) if named in OUTCOMES else UNATTRIBUTED


def sent_gpc(signals: str) -> bool:
    """Whether an event's signals say Global Privacy Control was on (``"gpc": true``)."""
    return '"gpc"' in signals and json.loads(signals).get("gpc") is True


def regions_fingerprint(policy: Policy) -> str:
    """sha256 over the policy's regions: they alone decide which group an event's region falls in."""
    body = json.dumps(policy.model_dump(mode="json")["regions"], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


def split(start_us: int, end_us: int) -> Parts:
    """``[start_us, end_us)`` as its whole UTC days ``[lo, hi)`` (None when it holds none) and the
    ranges, each inside one day, that it covers of the days it cuts."""
    lo, hi = -(-start_us // DAY_US), end_us // DAY_US
    if lo < hi:
        parts = [(start_us, lo * DAY_US), (hi * DAY_US, end_us)]
        return (lo, hi), [(a, b) for a, b in parts if a < b]
    midnight = (start_us // DAY_US + 1) * DAY_US
    parts = [(start_us, min(end_us, midnight)), (midnight, end_us)]
    return None, [(a, b) for a, b in parts if a < b]


def clicks(engine: Engine, policy: Policy, start_us: int, end_us: int) -> list[tuple[int, str, str, int]]:
    """(UTC day number, region code, outcome, clicks) of the banner clicks in ``[start_us, end_us)``."""
    refresh(engine, policy)
    whole, parts = split(start_us, end_us)
    with storage("read the banner-outcome rollup"), store.snapshot(engine) as conn:
        rows = [] if whole is None else store.day_clicks(conn, *whole)
        for a, b in parts:
            rows.extend((a // DAY_US, r, o, n) for r, o, n in store.instant_clicks(conn, a, b))
    if any(n < 0 for *_, n in rows):
        _inconsistent(engine)
    return rows


def visitors(engine: Engine, policy: Policy, start_us: int, end_us: int) -> Counter[tuple[str, str]]:
    """Per (region group, "seen" or "gpc"): the visitors with a visit in ``[start_us, end_us)``."""
    refresh(engine, policy)
    whole, parts = split(start_us, end_us)
    start_day = start_us // DAY_US * DAY_US
    out: Counter[tuple[str, str]] = Counter()
    with storage("read the GPC-share rollup"), store.snapshot(engine) as conn:
        if whole is not None:
            lo, hi = whole
            out.update(store.first_visits_days(conn, lo, hi, start_us // DAY_US))
            if start_day < start_us:  # previous visits earlier on the start's own day
                out.update(
                    store.first_visits(conn, lo * DAY_US, hi * DAY_US, prev_from=start_day, prev_to=start_us)
                )
        for a, b in parts:
            out.update(store.first_visits(conn, a, b, prev_from=None, prev_to=start_us))
    if any(n < 0 for n in out.values()) or any(
        n > out[(g, "seen")] for (g, k), n in out.items() if k == "gpc"
    ):
        _inconsistent(engine)  # a GPC visitor is always a visitor
    return out


def _inconsistent(engine: Engine) -> None:
    """Refuse counts no ledger can produce: the rollup was altered or damaged. It is discarded, so
    the next report rebuilds it from the ledger."""
    with locked(engine, store.LOCK_KEY) as conn:
        store.discard(conn)
    raise TransientStorageError(
        "the banner-outcome and GPC-share rollup is inconsistent (a negative count, or more GPC visitors "
        "than visitors); it has been "
        "discarded and the next report rebuilds it from the ledger"
    )
