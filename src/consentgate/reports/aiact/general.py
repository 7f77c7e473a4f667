"""Section 1 of the summary: the provider, the model, and its training data's modalities, size and
characteristics. A question is ``derived`` only when the facts settle it; partial knowledge is said
in the ``from``, never passed off as the whole answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consentgate.reports.aiact.common import ANSWER, Check, Fields, declared_by_all, modalities, names_of
from consentgate.reports.aiact.facts import ModelFacts
from consentgate.reports.aiact.fields import Field, derived, to_be_completed
from consentgate.reports.aiact.sizes import text_band

if TYPE_CHECKING:
    from consentgate.policy import Policy


def general(facts: ModelFacts, policy: Policy, checks: dict[str, Check]) -> Fields:
    org = policy.organization
    out: Fields = {
        "general.provider.name": derived(org.name, "policy organization.name"),
        "general.provider.contact": derived(org.contact, "policy organization.contact")
        if org.contact
        else to_be_completed(f"organization.contact in the policy, or general.provider.contact {ANSWER}"),
        "general.provider.authorised_representative": to_be_completed(
            f"general.provider.authorised_representative {ANSWER} (its name and contact, or none)"
        ),
        "general.model.name": derived(facts.name, facts.runs_text()),
        "general.model.versions": derived(facts.versions, facts.runs_text()),
        "general.model.dependencies": to_be_completed(
            f"general.model.dependencies {ANSWER}: the base model and a link to its summary, or none"
        ),
        "general.model.placed_on_market": to_be_completed(f"general.model.placed_on_market {ANSWER}"),
    }
    out.update(_characteristics(facts, checks))
    return out


def _characteristics(facts: ModelFacts, checks: dict[str, Check]) -> Fields:
    p = "general.training_data."
    found = modalities(facts, list(facts.sources.values()))
    out: Fields = {p + "modalities": found}
    out.update(_sizes(facts, found))
    out[p + "content_types"] = declared_by_all(facts, list(facts.sources.values()), "content_types")
    out[p + "languages"] = declared_by_all(facts, list(facts.sources.values()), "languages")
    out[p + "latest_acquisition"] = _latest_acquisition(facts, checks)
    out[p + "continued_training"] = to_be_completed(f"{p}continued_training {ANSWER} (yes or no)")
    return out


def _sizes(facts: ModelFacts, modalities: Field) -> Fields:
    p = "general.training_data.size."
    names = ", ".join(d.name for d in facts.datasets)
    problems = [d.problem for d in facts.datasets if d.problem]
    if not facts.datasets:
        gap = to_be_completed(f"the sizes {ANSWER}: the runs {', '.join(facts.run_ids)} recorded no dataset")
        out = dict.fromkeys((p + "records", p + "text_characters", p + "text_tokens", p + "text_band"), gap)
    elif problems:
        gap = to_be_completed(f"the sizes {ANSWER}; not measured: {'; '.join(problems)}")
        out = dict.fromkeys((p + "records", p + "text_characters", p + "text_tokens", p + "text_band"), gap)
    else:
        sizes = [d.size for d in facts.datasets if d.size is not None]
        records = sum(s.records for s in sizes)
        chars = sum(s.characters for s in sizes)
        nbytes = sum(s.utf8_bytes for s in sizes)
        columns = sorted({c for s in sizes for c in s.text_columns})
        read = f"datasets {names}, read as the runs used them (fingerprints match)"
        out = {p + "records": derived(records, f"records of {read}")}
        if not columns:
            none = derived(None, f"not applicable: no text in {read}")
            out.update({p + "text_characters": none, p + "text_tokens": none, p + "text_band": none})
        else:
            where = f"Unicode code points of the text columns {', '.join(columns)} of {read}"
            band = text_band(chars, nbytes)
            out[p + "text_characters"] = derived(chars, where)
            out[p + "text_tokens"] = derived({band.kind: band.tokens}, band.rule)
            out[p + "text_band"] = derived(band.band, band.rule)
    other = (modalities.value or []) if not modalities.open else None
    if other is not None and not [m for m in other if m != "text"]:
        out[p + "other_modalities"] = derived(None, "not applicable: the only modality is text")
    else:
        out[p + "other_modalities"] = to_be_completed(
            f"{p}other_modalities {ANSWER}: each non-text modality's size band or size in its units"
        )
    return out


def _latest_acquisition(facts: ModelFacts, checks: dict[str, Check]) -> Field:
    path = "general.training_data.latest_acquisition"
    last = facts.runs[-1]
    bound = last.started_at.date()
    checks[path] = lambda value: (
        f"it is after {bound.isoformat()}, when training run {last.run_id} started with the data"
        if isinstance(value, str) and value[:10] > bound.isoformat()
        else None
    )
    periods = [s.collected for s in facts.sources.values()]
    if facts.sources and not facts.unmatched_runs and all(c is not None and c.to for c in periods):
        latest = max(c.to for c in periods if c is not None and c.to is not None)
        return derived(latest.isoformat(), f"collected.to of {names_of(facts.sources)}")
    return to_be_completed(
        f"{path} {ANSWER}, or collected.to on every source that fed the model ({names_of(facts.sources)}); "
        f"it is no later than {bound.isoformat()}, when training run {last.run_id} started"
    )
