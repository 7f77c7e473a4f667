"""Build the training-content summary of one model: derive, then apply the declared answers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from consentgate.reports.aiact import general, processing, sources
from consentgate.reports.aiact.answers import apply_answers
from consentgate.reports.aiact.facts import ModelFacts, gather
from consentgate.reports.aiact.fields import FORMAT, ITEMS, TEMPLATE, Field, declared, derived, nest

if TYPE_CHECKING:
    from consentgate.policy import Policy
    from consentgate.store.engine import Engine


@dataclass(frozen=True)
class Summary:
    model: str
    fields: dict[str, Field]  # JSON path → answer, in the template's order
    version: Field
    last_update: Field

    @property
    def open(self) -> list[str]:
        """The paths still to be completed (the command exits 3 while there are any)."""
        return [p for p, f in self.fields.items() if f.open]

    @property
    def complete(self) -> bool:
        return not self.open

    def to_json(self) -> dict[str, Any]:
        return {
            "header": {
                "model": self.model,
                "version": self.version.to_json(),
                "last_update": self.last_update.to_json(),
                "template": TEMPLATE,
                "format": FORMAT,
                "to_be_completed": self.open,
            },
            **nest(self.fields),
        }


def build_summary(
    engine: Engine,
    policy: Policy,
    model: str,
    *,
    answers: dict[str, Any] | None = None,
    answers_file: str = "answers",
    policy_dir: Path | None = None,
    now: datetime | None = None,
) -> Summary:
    """The summary for ``model``; :class:`~consentgate.errors.NotFound` when no run trained it,
    :class:`~consentgate.errors.BadInput` when a declared answer contradicts a derived one."""
    facts = gather(engine, policy, model, policy_dir=policy_dir)
    checks: dict[str, Any] = {}
    found = derive(facts, policy, engine, checks)
    given = answers or {}
    merged = _declared_unused(apply_answers(found, given, answers_file, checks))
    ordered = {p: merged[p] for p in ITEMS if p in merged}
    digest = hashlib.sha256(
        json.dumps(nest(ordered), sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()[:16]
    if "version" in given:
        version = declared(str(given["version"]), f"answers file {answers_file}: version")
    else:
        version = derived(f"sha256:{digest}", "digest of every answer: it changes when any answer changes")
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    last_update = derived(stamp.isoformat(), "when this summary was generated")
    return Summary(model, ordered, version, last_update)


def derive(
    facts: ModelFacts, policy: Policy, engine: Engine | None, checks: dict[str, Any]
) -> dict[str, Field]:
    """Every answer the facts give, and to_be_completed for the rest of the template."""
    found = general.general(facts, policy, checks)
    found.update(sources.sources(facts, engine))
    found.update(processing.processing(facts, found))
    return found


def _declared_unused(fields: dict[str, Field]) -> dict[str, Field]:
    """A category the provider declares unused (``sources.crawled.used: no``, where consentgate could
    not tell) answers its open sub-questions: they are not applicable, by that declaration."""
    out = dict(fields)
    for path, field in fields.items():
        if not path.endswith(".used") or field.provenance != "declared" or field.value is not False:
            continue
        prefix = path.removesuffix("used")
        for other, answer in fields.items():
            if other.startswith(prefix) and answer.open:
                out[other] = declared(None, f"not applicable: {path} is declared no ({field.source})")
    return out
