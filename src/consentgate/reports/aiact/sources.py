"""Section 2 of the summary: which kinds of source fed the model (2.1 … 2.6).

A category was used when a run certainly read one of its sources; "no" needs every source that fed
the model to have a known origin (docs/aiact.md, "How each answer is derived")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from consentgate.policy.models import SourceOrigin
from consentgate.reports.aiact.common import ANSWER, Fields, id_list, modalities, names_of
from consentgate.reports.aiact.crawled import crawled
from consentgate.reports.aiact.facts import ModelFacts, origin_of
from consentgate.reports.aiact.fields import Field, derived, not_applicable, to_be_completed

if TYPE_CHECKING:
    from consentgate.policy import Source
    from consentgate.store.engine import Engine


def sources(facts: ModelFacts, engine: Engine | None) -> Fields:
    out: Fields = {}
    public = _category(facts, out, "sources.public_datasets", {SourceOrigin.PUBLIC}, "public datasets")
    _listed(facts, out, "sources.public_datasets", public, "large_datasets", "public datasets")
    _category(facts, out, "sources.private_datasets.licensed", {SourceOrigin.LICENSED}, "licensed datasets")
    third = _category(
        facts,
        out,
        "sources.private_datasets.third_party",
        {SourceOrigin.THIRD_PARTY},
        "third-party datasets",
    )
    _listed(facts, out, "sources.private_datasets.third_party", third, "datasets", "third-party datasets")
    found = [s for s in facts.sources.values() if origin_of(s)[0] is SourceOrigin.CRAWLED]
    crawled(facts, out, engine, found, category_used(facts, found, "crawled"))
    _user_data(facts, out)
    _category(facts, out, "sources.synthetic", {SourceOrigin.SYNTHETIC}, "synthetic data")
    out["sources.synthetic.generators"] = (
        not_applicable("sources.synthetic.used", "synthetic data")
        if out["sources.synthetic.used"].value is False
        else to_be_completed(f"sources.synthetic.generators {ANSWER}: the models that generated it")
    )
    other = _category(
        facts, out, "sources.other", {SourceOrigin.OTHER}, "other sources", with_modalities=False
    )
    used = out["sources.other.used"]
    if used.value is True:
        where = f"policy sources {names_of(other)} (origin: other)"
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
    with_modalities: bool = True,
) -> list[Source]:
    """Fill ``prefix.used`` (and ``.modalities``); return the sources of the category."""
    members = [s for s in facts.sources.values() if origin_of(s)[0] in origins]
    used = category_used(facts, members, what)
    out[prefix + ".used"] = used
    if with_modalities:
        if members and used.value is True:
            out[prefix + ".modalities"] = modalities(facts, members)
        elif used.value is False:
            out[prefix + ".modalities"] = not_applicable(prefix + ".used", what)
        else:
            out[prefix + ".modalities"] = to_be_completed(f"{prefix}.modalities {ANSWER}")
    return members


def category_used(
    facts: ModelFacts, members: list[Source], what: str, *, unknown: list[str] | None = None
) -> Field:
    """Did the model use one of ``members``? Yes when a run certainly read one: it named it, read its
    dataset, or every source its purpose allows is among them. Unknown when a run may have (one of
    several sources its purpose allows), or a source's kind (``unknown``, default: the sources
    without an origin) is not known; no when no run could have."""
    ids = {s.id for s in members}
    certain = [
        r
        for r, (found, exact) in facts.per_run.items()
        if (exact and found & ids) or (not exact and found <= ids)
    ]
    if ids and certain:
        reasons = "; ".join(origin_of(s)[1] for s in members)
        return derived(True, f"{reasons}; fed {facts.runs_text()} ({facts.sources_text(id_list(members))})")
    maybe = sorted({sid for found, exact in facts.per_run.values() if not exact for sid in found & ids})
    if unknown is None:
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


def _listed(facts: ModelFacts, out: Fields, prefix: str, members: list[Source], key: str, what: str) -> None:
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
        out[prefix + "." + key] = derived(
            rows, f"id and url of policy sources {facts.sources_text(id_list(members))}"
        )
    out[prefix + ".description"] = derived(
        "none: every such dataset is listed above", f"policy sources {facts.sources_text(id_list(members))}"
    )


def _user_data(facts: ModelFacts, out: Fields) -> None:
    p = "sources.user_data."
    members = [s for s in facts.sources.values() if origin_of(s)[0] in _USER]
    used = category_used(facts, members, "user data")
    out[p + "used"] = used
    for key, origin, what in (
        ("model_interactions", SourceOrigin.USER_INTERACTIONS, "interactions with the model"),
        ("other_services", SourceOrigin.USER, "users of the provider's other services"),
    ):
        if used.value is not True:
            out[p + key] = used if used.open else derived(False, used.source)
            continue
        # Sources whose origin says only "users' data" (inferred) could be either kind.
        inferred = [s.id for s in members if s.origin is None]
        explicit = [s for s in members if s.origin is origin]
        out[p + key] = category_used(facts, explicit, what, unknown=inferred)
    if members and used.value is True:
        out[p + "services"] = derived(
            [_service(s) for s in members], f"policy sources {facts.sources_text(id_list(members))}"
        )
        out[p + "modalities"] = modalities(facts, members)
    elif used.value is False:
        out[p + "services"] = not_applicable(p + "used", "user data")
        out[p + "modalities"] = not_applicable(p + "used", "user data")
    else:
        out[p + "services"] = to_be_completed(f"{p}services {ANSWER}")
        out[p + "modalities"] = to_be_completed(f"{p}modalities {ANSWER}")


_USER = frozenset({SourceOrigin.USER, SourceOrigin.USER_INTERACTIONS})


def _service(source: Source) -> str:
    """``support-chats (chat_transcripts: user.content, user.contact)``: the system and what it holds."""
    held = f": {', '.join(source.categories)}" if source.categories else ""
    return f"{source.id} ({source.kind}{held})"
