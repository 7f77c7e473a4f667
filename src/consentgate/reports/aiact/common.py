"""What the section builders share: the answers' type, and the rules that turn the sources that fed
a model into one answer — derived only when every source says it (docs/aiact.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from consentgate.reports.aiact.facts import ModelFacts
from consentgate.reports.aiact.fields import Field, derived, to_be_completed

if TYPE_CHECKING:
    from consentgate.policy import Source

Fields = dict[str, Field]
Check = Callable[[Any], str | None]  # a declared value → what contradicts it, or None
ANSWER = "in the answers file"


def modalities(facts: ModelFacts, members: list[Source]) -> Field:
    ids = names_of(members)
    missing = [s.id for s in members if not s.modality]
    if members and not missing and not facts.unmatched_runs:
        return derived(
            unique(m.value for s in members for m in s.modality), f"modality of policy sources {ids}"
        )
    text = [d.name for d in facts.datasets if d.size is not None and d.size.text_columns]
    seen = f"; text was found in datasets {', '.join(text)}" if text else ""
    return to_be_completed(f"modality on policy sources {', '.join(missing) or ids}{seen}")


def declared_by_all(facts: ModelFacts, members: list[Source], attribute: str) -> Field:
    missing = [s.id for s in members if not getattr(s, attribute)]
    if members and not missing and not facts.unmatched_runs:
        values = unique(v for s in members for v in getattr(s, attribute))
        return derived(values, f"{attribute} of policy sources {names_of(members)}")
    who = ", ".join(missing) if missing else "the sources of the model's runs"
    return to_be_completed(f"{attribute} on policy sources {who}, or the answer {ANSWER}")


def unique(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def names_of(members: Iterable[Source] | dict[str, Source]) -> str:
    items = members.values() if isinstance(members, dict) else members
    return ", ".join(s.id for s in items) or "none"


def id_list(members: list[Source]) -> list[str]:
    return [s.id for s in members]
