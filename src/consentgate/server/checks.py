"""Query checks that need the policy, located in the request so the caller knows which one to fix."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from consentgate.decide import Decision
from consentgate.errors import QueryError
from consentgate.policy.models import Policy
from consentgate.server.errors import RequestProblems, summarise
from consentgate.server.schemas.decisions import DecisionOut


def check_queries(policy: Policy, queries: Iterable[tuple[str, str | None, str | None]]) -> None:
    """``(path prefix, purpose, region)`` per query; raise one error listing every bad one.

    The service would refuse an unknown purpose too, but without saying which query of a batch it was;
    and an unknown region would silently fall back to the policy's default basis.
    """
    queries = list(queries)
    if _all_valid(policy, {(purpose, region) for _, purpose, region in queries}):
        return  # a batch usually asks a few distinct (purpose, region) pairs: each checked once
    problems: list[tuple[str, str]] = []
    for prefix, purpose, region in queries:
        try:
            if purpose is not None:
                policy.require_purpose(purpose)
        except QueryError as exc:
            problems.append((f"{prefix}purpose", exc.message))
        try:
            if region is not None:
                policy.query_region(region)
        except QueryError as exc:
            problems.append((f"{prefix}region", exc.message))
    if problems:
        raise RequestProblems("invalid_query", summarise(problems, stored=True), problems)


def check_batch_queries(policy: Policy, asked: Sequence[tuple[str, str | None]], field: str) -> None:
    """:func:`check_queries` for the ``(purpose, region)`` of each query of a batch at ``field``:
    the distinct pairs are checked first, and each query's location is spelt out only when one
    fails (a string per query cost more than the check itself for a batch of 1,000)."""
    if not _all_valid(policy, set(asked)):
        check_queries(
            policy, [(f"{field}[{i}].", purpose, region) for i, (purpose, region) in enumerate(asked)]
        )


def decision_out(decision: Decision, ledger_intact: bool | None) -> DecisionOut:
    return DecisionOut(
        ledger_intact=ledger_intact,
        allowed=decision.allowed,
        basis=decision.basis,
        region=decision.region,
        reason=decision.reason,
        evidence_event=decision.evidence_event,
    )


def _all_valid(policy: Policy, pairs: Iterable[tuple[str | None, str | None]]) -> bool:
    try:
        for purpose, region in pairs:
            if purpose is not None:
                policy.require_purpose(purpose)
            if region is not None:
                policy.query_region(region)
    except QueryError:
        return False
    return True
