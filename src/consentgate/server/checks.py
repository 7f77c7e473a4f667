"""Query checks that need the policy, located in the request so the caller knows which one to fix."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from consentgate.decide import Decision
from consentgate.policy.models import ISO_REGION, Policy
from consentgate.server.errors import RequestProblems, summarise
from consentgate.server.schemas.decisions import AnsweredDecision, DecisionOut


def check_queries(policy: Policy, queries: Iterable[tuple[str, str | None, str | None]]) -> None:
    """``(path prefix, purpose, region)`` per query; raise one error listing every bad one.

    The service would refuse an unknown purpose too, but without saying which query of a batch it was;
    and an unknown region would silently fall back to the policy's default basis.
    """
    problems: list[tuple[str, str]] = []
    known = ", ".join(p.id for p in policy.purposes)
    regions = ", ".join(policy.regions)
    for prefix, purpose, region in queries:
        if purpose is not None and policy.purpose(purpose) is None:
            problems.append(
                (f"{prefix}purpose", f"unknown purpose {purpose!r}; the policy declares: {known}")
            )
        iso = region is not None and region.isascii() and ISO_REGION.match(region.strip().upper())
        if region is not None and not (iso or region in policy.regions):
            problems.append(
                (
                    f"{prefix}region",
                    f"{region!r} is not an ISO 3166 code such as DE or US-CA, nor a region ({regions})",
                )
            )
    if problems:
        raise RequestProblems("invalid_query", summarise(problems, stored=True), problems)


def decision_out(decision: Decision, ledger_intact: bool | None) -> DecisionOut:
    return DecisionOut(
        ledger_intact=ledger_intact,
        allowed=decision.allowed,
        basis=decision.basis,
        region=decision.region,
        reason=decision.reason,
        evidence_event=decision.evidence_event,
    )


def answered(
    subject: str, purpose: str, at: datetime, decision: Decision, ledger_intact: bool | None
) -> AnsweredDecision:
    out = decision_out(decision, ledger_intact).model_dump()
    return AnsweredDecision(subject=subject, purpose=purpose, at=at, **out)
