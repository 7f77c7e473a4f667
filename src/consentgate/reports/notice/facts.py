"""What the AI notice states, gathered from the policy (and the ledger's training runs): no wording yet.

Kept apart from the wording so that every language says the same facts, and so that a fact the policy
lacks stays ``None`` or empty here, for the wording to say "our policy does not say" — never a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from consentgate.policy import Policy
from consentgate.policy.models import DEFAULT_REGION, Basis, Purpose, Source, Vendor


@dataclass(frozen=True)
class RegionBasis:
    """The lawful basis of one purpose in a group of regions that read alike in the notice."""

    basis: Basis | None  # None: the policy names no basis there and has no "*" default
    honour_gpc: bool  # only ever said where the basis is opt_out (docs/decisions.md)
    regions: tuple[str, ...]  # region ids; "*" is everywhere the policy does not list
    countries: Mapping[str, tuple[str, ...]]  # region id → ISO codes (empty for "*")


@dataclass(frozen=True)
class PurposeFacts:
    purpose: Purpose
    sources: tuple[Source, ...]
    declared_systems: tuple[str, ...]
    trained_models: tuple[str, ...]  # the models of the purpose's stored training runs
    bases: tuple[RegionBasis, ...]
    vendors: tuple[Vendor, ...]


@dataclass(frozen=True)
class NoticeFacts:
    organization: str
    contact: str | None
    purposes: tuple[PurposeFacts, ...]
    runs_read: bool  # False: no ledger was read, so trained models are unknown rather than none
    banner: bool  # the policy names sites that embed the banner
    privacy_center: str | None  # the privacy center's address, where the caller knows it
    requests_url: str | None
    any_consent: bool = field(default=False)


def notice_facts(
    policy: Policy,
    trained: Mapping[str, Sequence[str]] | None = None,
    *,
    privacy_center: str | None = None,
) -> NoticeFacts:
    """The notice's facts for every AI purpose (kinds ``ai_training`` and ``fine_tuning``).

    ``trained``: purpose id → the models of its stored training runs (:func:`trained_models`), or None
    when no ledger was read.
    """
    facts = tuple(
        PurposeFacts(
            purpose=p,
            sources=tuple(s for s in policy.sources if p.id in s.purposes),
            declared_systems=_unique(p.systems),
            trained_models=_unique((trained or {}).get(p.id, ())),
            bases=_bases(policy, p),
            vendors=tuple(v for v in policy.vendors if p.id in v.purposes),
        )
        for p in policy.purposes
        if p.is_ai
    )
    return NoticeFacts(
        organization=policy.organization.name,
        contact=policy.organization.contact,
        purposes=facts,
        runs_read=trained is not None,
        banner=bool(policy.web.origins),
        privacy_center=privacy_center,
        requests_url=policy.web.requests_url,
        any_consent=any(b.basis is Basis.CONSENT for f in facts for b in f.bases),
    )


def trained_models(runs: Iterable[tuple[str, str | None]]) -> dict[str, list[str]]:
    """purpose id → model names, from ``(purpose, model)`` of stored training runs, oldest first.

    Every run counts whatever its status: a run stopped by the guard or failed midway may still have
    trained on the batches before, so leaving it out could tell a person their data improved nothing.
    """
    out: dict[str, list[str]] = {}
    for purpose, model in runs:
        if model and model.strip():
            out.setdefault(purpose, []).append(model.strip())
    return out


def _bases(policy: Policy, purpose: Purpose) -> tuple[RegionBasis, ...]:
    """Regions grouped by what the notice says about them, in the policy's order, "*" last."""
    groups: dict[tuple[Basis | None, bool], list[str]] = {}
    for rid in [*policy.regions, DEFAULT_REGION]:
        basis = policy.basis_for(purpose, rid)
        gpc = basis is Basis.OPT_OUT and policy.honours_gpc(rid)
        groups.setdefault((basis, gpc), []).append(rid)
    return tuple(
        RegionBasis(
            basis=basis,
            honour_gpc=gpc,
            regions=tuple(rids),
            countries={r: tuple(policy.regions[r].countries) for r in rids if r in policy.regions},
        )
        for (basis, gpc), rids in groups.items()
    )


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n for n in names if n))
