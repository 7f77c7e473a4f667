"""The summary's sections, answered from what consentgate knows (docs/aiact.md says each rule).

A question is ``derived`` only when the facts settle it: "no crawled data" needs every source that
fed the model to have a known origin, a list of languages needs every such source to declare its
languages. Anything less is ``to_be_completed`` with what would fill it — partial knowledge is said
in the ``from``, never passed off as the whole answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from consentgate.policy.models import SourceOrigin
from consentgate.reports import rights
from consentgate.reports.aiact.facts import ModelFacts, origin_of
from consentgate.reports.aiact.fields import PROVENANCES, Field, derived, not_applicable, to_be_completed
from consentgate.reports.aiact.sizes import text_band

if TYPE_CHECKING:
    from consentgate.policy import Policy, Source
    from consentgate.store.engine import Engine

Fields = dict[str, Field]
Check = Callable[[Any], str | None]  # a declared value → what contradicts it, or None
ANSWER = "in the answers file"


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
    modalities = _modalities(facts, list(facts.sources.values()))
    out: Fields = {p + "modalities": modalities}
    out.update(_sizes(facts, modalities))
    out[p + "content_types"] = _declared_by_all(facts, list(facts.sources.values()), "content_types")
    out[p + "languages"] = _declared_by_all(facts, list(facts.sources.values()), "languages")
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
        return derived(latest.isoformat(), f"collected.to of {_ids(facts.sources)}")
    return to_be_completed(
        f"{path} {ANSWER}, or collected.to on every source that fed the model ({_ids(facts.sources)}); "
        f"it is no later than {bound.isoformat()}, when training run {last.run_id} started"
    )


def sources(facts: ModelFacts, engine: Engine | None) -> Fields:
    out: Fields = {}
    public = _category(facts, out, "sources.public_datasets", {SourceOrigin.PUBLIC}, "public datasets")
    _listed(out, "sources.public_datasets", public, "large_datasets", "public datasets")
    _category(facts, out, "sources.private_datasets.licensed", {SourceOrigin.LICENSED}, "licensed datasets")
    third = _category(
        facts,
        out,
        "sources.private_datasets.third_party",
        {SourceOrigin.THIRD_PARTY},
        "third-party datasets",
    )
    _listed(out, "sources.private_datasets.third_party", third, "datasets", "third-party datasets")
    _crawled(facts, out, engine)
    _user_data(facts, out)
    _category(facts, out, "sources.synthetic", {SourceOrigin.SYNTHETIC}, "synthetic data")
    out["sources.synthetic.generators"] = (
        not_applicable("sources.synthetic.used", "synthetic data")
        if out["sources.synthetic.used"].value is False
        else to_be_completed(f"sources.synthetic.generators {ANSWER}: the models that generated it")
    )
    other = _category(facts, out, "sources.other", {SourceOrigin.OTHER}, "other sources", modalities=False)
    used = out["sources.other.used"]
    if used.value is True:
        where = f"policy sources {_ids(other)} (origin: other)"
        out["sources.other.description"] = derived([f"{s.id} ({s.kind})" for s in other], where)
    elif used.value is False and not used.open:
        out["sources.other.description"] = not_applicable("sources.other.used", "other sources")
    else:
        out["sources.other.description"] = to_be_completed(f"sources.other.description {ANSWER}")
    return out


def _category(
    facts: ModelFacts,
    out: Fields,
    prefix: str,
    origins: set[SourceOrigin],
    what: str,
    *,
    modalities: bool = True,
) -> list[Source]:
    """Fill ``prefix.used`` (and ``.modalities``); return the sources of the category."""
    members = [s for s in facts.sources.values() if origin_of(s)[0] in origins]
    used = _used(facts, members, what)
    out[prefix + ".used"] = used
    if modalities:
        if members and used.value is True:
            out[prefix + ".modalities"] = _modalities(facts, members)
        elif used.value is False:
            out[prefix + ".modalities"] = not_applicable(prefix + ".used", what)
        else:
            out[prefix + ".modalities"] = to_be_completed(f"{prefix}.modalities {ANSWER}")
    return members


def _used(facts: ModelFacts, members: list[Source], what: str) -> Field:
    """Did the model use a source of this category? Yes when a run certainly read one: it named it,
    read its dataset, or every source its purpose allows is of the category. Unknown when a run may
    have (one of several sources its purpose allows); no when no run could have."""
    ids = {s.id for s in members}
    certain = [
        r
        for r, (found, exact) in facts.per_run.items()
        if (exact and found & ids) or (not exact and found <= ids)
    ]
    if ids and certain:
        reasons = "; ".join(origin_of(s)[1] for s in members)
        return derived(True, f"{reasons}; fed {facts.runs_text()} ({facts.sources_text(_ids_list(members))})")
    maybe = sorted({sid for found, exact in facts.per_run.values() if not exact for sid in found & ids})
    unknown = [s.id for s in facts.sources.values() if origin_of(s)[0] is None]
    if maybe or not facts.sources or facts.unmatched_runs or unknown:
        gaps = []
        if maybe:
            gaps.append(
                f"which source the runs read: policy sources {', '.join(maybe)} ({what}) are among several "
                "allowed for their purpose (name it: FilterOptions(source=…))"
            )
        if unknown:
            gaps.append(f"origin on policy sources {', '.join(unknown)}")
        if facts.unmatched_runs or not facts.sources:
            runs = ", ".join(facts.unmatched_runs or facts.run_ids)
            gaps.append(
                f"the sources of runs {runs} in the policy (none matches their source, data or purpose)"
            )
        return to_be_completed(f"{'; '.join(gaps)}, or the answer {ANSWER}")
    return derived(
        False,
        f"none of the sources that fed {facts.runs_text()} is {what}: "
        + "; ".join(origin_of(s)[1] for s in facts.sources.values()),
    )


def _listed(out: Fields, prefix: str, members: list[Source], key: str, what: str) -> None:
    """Every dataset of the category by name and link (all of them, so the "large" ones are among
    them, and the description of "the others" is that there are none)."""
    used = out[prefix + ".used"]
    if used.value is not True:
        fill = (
            not_applicable(prefix + ".used", what)
            if used.value is False
            else to_be_completed(f"{prefix}.{key} {ANSWER}")
        )
        out[prefix + "." + key] = fill
        out[prefix + ".description"] = fill
        return
    missing = [s.id for s in members if s.url is None]
    if missing:
        out[prefix + "." + key] = to_be_completed(f"url on policy sources {', '.join(missing)}")
    else:
        rows = [{"name": s.id, "url": s.url} for s in members]
        out[prefix + "." + key] = derived(rows, f"policy sources {_ids(members)} (id and url)")
    out[prefix + ".description"] = derived(
        "none: every such dataset is listed above", f"policy sources {_ids(members)}"
    )


def _crawled(facts: ModelFacts, out: Fields, engine: Engine | None) -> None:
    p = "sources.crawled."
    members = [s for s in facts.sources.values() if origin_of(s)[0] is SourceOrigin.CRAWLED]
    used = _used(facts, members, "crawled")
    out[p + "used"] = used
    keys = ("crawlers", "purposes", "behaviour", "period", "content", "top_domains", "reservations_checked")
    if used.value is False:
        out.update({p + k: not_applicable(p + "used", "crawled data") for k in keys})
        return
    if used.open:
        out.update({p + k: to_be_completed(f"{p}{k} {ANSWER}, once {p}used is known") for k in keys})
        out["processing.tdm_opt_outs.reservations_honoured"] = to_be_completed(
            f"processing.tdm_opt_outs.reservations_honoured {ANSWER}, once {p}used is known"
        )
        return
    ids = _ids(members)
    crawlers = [s.crawler for s in members]
    if members and all(c is not None for c in crawlers):
        known = [c for c in crawlers if c is not None]
        where = f"crawler of policy sources {ids}"
        out[p + "crawlers"] = derived(
            _unique({"name": c.name, "user_agent": c.user_agent} for c in known), where
        )
        out[p + "purposes"] = _all_or_open([c.purpose for c in known], where, p + "purposes")
        out[p + "behaviour"] = _all_or_open([c.behaviour for c in known], where, p + "behaviour")
    else:
        for k in ("crawlers", "purposes", "behaviour"):
            out[p + k] = to_be_completed(
                f"crawler on every crawled policy source ({ids}), or {p}{k} {ANSWER}"
            )
    out[p + "period"] = _period(members, p + "period")
    content = _declared_by_all(facts, members, "content_types")
    modal = _modalities(facts, members) if members else to_be_completed("modality on the crawled sources")
    out[p + "content"] = (
        derived({"content_types": content.value, "modalities": modal.value}, content.source)
        if not (content.open or modal.open)
        else to_be_completed(
            f"content_types and modality on the crawled policy sources ({ids}), or {p}content {ANSWER}"
        )
    )
    if members and all(s.domains for s in members):
        out[p + "top_domains"] = derived(
            _unique(d for s in members for d in s.domains), f"domains of policy sources {ids}, as listed"
        )
    else:
        out[p + "top_domains"] = to_be_completed(
            f"domains on the crawled policy sources ({ids}), or {p}top_domains {ANSWER}"
        )
    found = rights.rights_fields(engine, _origins(members))
    out[p + "reservations_checked"] = _field(found["reservations_checked"])
    out["processing.tdm_opt_outs.reservations_honoured"] = _field(found["reservations_honoured"])


def _user_data(facts: ModelFacts, out: Fields) -> None:
    p = "sources.user_data."
    members = [s for s in facts.sources.values() if origin_of(s)[0] in _USER]
    used = _used(facts, members, "user data")
    out[p + "used"] = used
    for key, origin, what in (
        ("model_interactions", SourceOrigin.USER_INTERACTIONS, "interactions with the model"),
        ("other_services", SourceOrigin.USER, "users of the provider's other services"),
    ):
        explicit = [s for s in members if s.origin is origin]
        inferred = [s.id for s in members if s.origin is None]
        if used.open:
            out[p + key] = to_be_completed(f"{p}{key} {ANSWER}, once {p}used is known")
        elif explicit:
            out[p + key] = derived(True, f"policy sources {_ids(explicit)} (origin: {origin.value})")
        elif used.value is False:
            out[p + key] = derived(False, used.source)
        elif inferred:
            out[p + key] = to_be_completed(
                f"origin (user_interactions or user) on policy sources {', '.join(inferred)}, "
                f"which hold users' data but do not say whether it is {what}"
            )
        else:
            out[p + key] = derived(
                False, f"no source that fed the model has origin {origin.value}: {used.source}"
            )
    if members and used.value is True:
        out[p + "services"] = derived(
            [f"{s.id} ({s.kind})" for s in members], f"policy sources {_ids(members)}; {facts.runs_text()}"
        )
        out[p + "modalities"] = _modalities(facts, members)
    elif used.value is False:
        out[p + "services"] = not_applicable(p + "used", "user data")
        out[p + "modalities"] = not_applicable(p + "used", "user data")
    else:
        out[p + "services"] = to_be_completed(f"{p}services {ANSWER}")
        out[p + "modalities"] = to_be_completed(f"{p}modalities {ANSWER}")


_USER = frozenset({SourceOrigin.USER, SourceOrigin.USER_INTERACTIONS})


def processing(facts: ModelFacts, out: Fields) -> Fields:
    """Section 3; ``out`` already holds 3.1's reservations answer (from the crawled sources)."""
    p = "processing."
    result: Fields = {
        p + "tdm_opt_outs.code_of_practice_signatory": to_be_completed(
            f"{p}tdm_opt_outs.code_of_practice_signatory {ANSWER} (yes or no)"
        ),
        p + "tdm_opt_outs.measures": to_be_completed(
            f"{p}tdm_opt_outs.measures {ANSWER}: what was done before and during collection, and the "
            "opt-out protocols honoured (also by dataset suppliers)"
        ),
        p + "tdm_opt_outs.reservations_honoured": _honoured(out),
        p + "illegal_content.measures": to_be_completed(f"{p}illegal_content.measures {ANSWER}"),
        p + "other.personal_data_consent": derived(
            [
                {
                    "run": r.run_id,
                    "purpose": r.purpose,
                    "status": r.status,
                    "records_checked": r.records,
                    "people": r.subjects,
                    "started_at": r.started_at.isoformat(),
                }
                for r in facts.runs
            ],
            "training-run guard manifests: every record a run used was first checked against the "
            "consent ledger's decision for the run's purpose (docs/pipeline.md)",
        ),
    }
    return result


_GATHERED = (
    "sources.crawled.used",
    "sources.public_datasets.used",
    "sources.private_datasets.licensed.used",
    "sources.private_datasets.third_party.used",
)


def _honoured(out: Fields) -> Field:
    """3.1 asks how rights reservations were honoured, by the provider's crawlers and by the suppliers
    of datasets: not applicable only when the model used neither crawled data nor others' datasets."""
    path = "processing.tdm_opt_outs.reservations_honoured"
    if path in out:  # the crawled sources' answer, from reports/rights.py
        return out[path]
    if all(out[u].value is False and not out[u].open for u in _GATHERED):
        return derived(None, "not applicable: no crawled data and no dataset from others (section 2)")
    return to_be_completed(
        f"{path} {ANSWER}: how the suppliers of the datasets in section 2 honoured reservations"
    )


# -- helpers ---------------------------------------------------------------------------------------


def _modalities(facts: ModelFacts, members: list[Source]) -> Field:
    ids = _ids(members)
    missing = [s.id for s in members if not s.modality]
    if members and not missing and not facts.unmatched_runs:
        return derived(
            _unique(m.value for s in members for m in s.modality), f"modality of policy sources {ids}"
        )
    text = [d.name for d in facts.datasets if d.size is not None and d.size.text_columns]
    seen = f"; text was found in datasets {', '.join(text)}" if text else ""
    return to_be_completed(f"modality on policy sources {', '.join(missing) or ids}{seen}")


def _declared_by_all(facts: ModelFacts, members: list[Source], attribute: str) -> Field:
    missing = [s.id for s in members if not getattr(s, attribute)]
    if members and not missing and not facts.unmatched_runs:
        values = _unique(v for s in members for v in getattr(s, attribute))
        return derived(values, f"{attribute} of policy sources {_ids(members)}")
    who = ", ".join(missing) if missing else "the sources of the model's runs"
    return to_be_completed(f"{attribute} on policy sources {who}, or the answer {ANSWER}")


def _period(members: list[Source], path: str) -> Field:
    periods = [s.collected for s in members]
    if not members or any(c is None for c in periods):
        return to_be_completed(
            f"collected on every crawled policy source ({_ids(members)}), or {path} {ANSWER}"
        )
    first = min(c.from_ for c in periods if c is not None)
    ends: list[date | None] = [c.to for c in periods if c is not None]
    last = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    value = {"from": first.isoformat(), "to": last.isoformat() if last else "ongoing"}
    return derived(value, f"collected of policy sources {_ids(members)}")


def _all_or_open(values: list[str | None], where: str, path: str) -> Field:
    if all(values):
        return derived(_unique(v for v in values if v), where)
    return to_be_completed(f"{path.rsplit('.', 1)[-1]} of every crawler ({where}), or {path} {ANSWER}")


def _origins(members: list[Source]) -> list[str]:
    found = {f"https://{d}" for s in members for d in s.domains}
    for s in members:
        if s.url:
            parts = urlsplit(s.url)
            found.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(found)


def _field(raw: dict[str, Any]) -> Field:
    """A field object another module built (reports/rights.py), checked for shape."""
    provenance = raw.get("provenance")
    if provenance not in PROVENANCES or not isinstance(raw.get("from"), str):
        raise ValueError(f"not a field object: {raw!r}")
    return Field(raw.get("value"), provenance, raw["from"])


def _unique(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _ids(members: Iterable[Source] | dict[str, Source]) -> str:
    items = members.values() if isinstance(members, dict) else members
    return ", ".join(s.id for s in items) or "none"


def _ids_list(members: list[Source]) -> list[str]:
    return [s.id for s in members]
