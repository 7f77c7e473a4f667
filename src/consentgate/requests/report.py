"""The access report (GDPR Art. 15): what is held about a person, what it was used for, who got it.

Built from what consentgate itself knows — nothing here is typed in by hand:

* consent history with the exact wording shown (the ledger's evidence) and whether its chain holds;
* per purpose: the lawful basis that applies to the person's region and today's decision;
* data categories and sources with their retention (the policy's data map), and how many records
  each registered source holds for the person right now;
* training runs that used their data (run manifests) — with dates and models —, the filtered dataset
  files that hold it (filter runs) and the vendors that received it (export manifests);
* their requests and what came of them, an erasure included.

Honest limits are part of the report: a model already trained on the data is listed and marked for
the team's retraining or unlearning decision; nothing claims that a model forgot.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from consentgate.ledger.erasure import is_pseudonym
from consentgate.requests.models import DataRequest
from consentgate.requests.report_locale import FALLBACK, ReportLocale, choose
from consentgate.service import ConsentService
from consentgate.store.checkpoints import CheckpointStore
from consentgate.store.runs import RunStore

REPORT_SCHEMA = "consentgate-access-report/1"


class Desk(Protocol):
    """What the report reads from the request desk (``requests/desk.py`` builds the report when it
    completes an access request, so the report names the desk by this shape, not by import)."""

    @property
    def service(self) -> ConsentService: ...

    def requests_of(self, subject: str) -> list[DataRequest]: ...

    def locate(self, subject: str) -> dict[str, Any]: ...


def access_report(
    desk: Desk, subject: str, *, now: datetime | None = None, locale: ReportLocale | None = None
) -> dict[str, Any]:
    """The report as JSON. Keys and codes are the same in every locale; the few sentences meant for
    the person (``model_status``, ``limits``, how long consent records are kept) are in ``locale``,
    by default the policy's default locale."""
    service = desk.service
    policy = service.policy
    words = locale or choose(None, None, policy.web.default_locale)
    when = now or datetime.now(UTC)
    evidence = service.evidence(subject, when)
    ids = set(evidence["identifiers"])
    raw = sorted(i for i in ids if not is_pseudonym(i))
    state = service.state(subject, when)
    erase_events = [e for e in evidence["events"] if e["action"] == "erase"]
    requests = desk.requests_of(subject)

    store = RunStore(service.ledger.engine)
    used = store.used(raw) if raw else []
    runs = {r.run_id: r for r in used}
    noted: dict[str, dict[str, Any]] = {}
    for req in requests:
        for note in req.outcome.get("affected_runs", []):
            noted[note["run_id"]] = note
    for run_id in noted:
        if run_id not in runs and (found := store.get(run_id)) is not None:
            runs[run_id] = found
    # The checkpoints saved after a run first used the person: those that hold their data.
    holding = CheckpointStore(service.ledger.engine).containing(store.hasher.many(raw)) if raw else {}
    training = []
    datasets = []  # filter runs whose output holds the person's records
    vendors = []
    for r in sorted(runs.values(), key=lambda r: (r.started_at, r.run_id)):
        if r.kind == "training":
            training.append(
                {
                    "run_id": r.run_id,
                    "model": r.model,
                    "purpose": r.purpose,
                    "started_at": r.started_at.isoformat(),
                    "finished_at": None if r.finished_at is None else r.finished_at.isoformat(),
                    "status": r.status,
                    "model_status": words.text("model_status"),
                    "flagged_by_erasure": r.run_id in noted,
                    "checkpoints": [c.name for c in holding.get(r.run_id, [])],
                }
            )
        elif r.kind == "filter":
            datasets.append(
                {
                    "run_id": r.run_id,
                    "purpose": r.purpose,
                    "output": r.manifest.get("output"),
                    "prepared_at": r.started_at.isoformat(),
                    "status": r.status,
                }
            )
        else:
            vendors.append(
                {
                    "vendor": r.vendor,
                    "purpose": r.purpose,
                    "run_id": r.run_id,
                    "exported_at": r.started_at.isoformat(),
                    "status": r.status,
                }
            )

    held = desk.locate(subject)["sources"] if raw else {}
    sources = []
    for s in policy.sources:
        sources.append(
            {
                "id": s.id,
                "kind": s.kind,
                "categories": list(s.categories),
                "purposes": list(s.purposes),
                "retention_days": s.retention_days,
                "records_held": held.get(s.id) if s.store is not None else None,
                "registered_for_erasure": s.store is not None,
            }
        )
    purposes = []
    for p in policy.purposes:
        d = state[p.id]
        purposes.append(
            {
                "id": p.id,
                "title": p.title,
                "kind": p.kind.value,
                "ai": p.is_ai,
                "max_age_days": p.max_age_days,
                "region": d.region,
                "basis": d.basis,
                "allowed": d.allowed,
                "reason": d.reason,
                "evidence_event": d.evidence_event,
            }
        )
    # The reason told in the reader's words beside the decision's own English ``reason``, so every
    # page that shows the report (the download, the console) explains it in its reader's language.
    erased_at = None if not erase_events else {"at": erase_events[0]["event_time"]}
    by_id = {ev["event_id"]: ev for ev in evidence["events"]}
    for entry in purposes:
        entry["explanation"] = _why(words, entry, by_id, erased_at, when)
    org = policy.organization
    return {
        "schema_version": REPORT_SCHEMA,
        "generated_at": when.isoformat(),
        "subject": subject,
        "controller": {"name": org.name, "contact": org.contact},
        "identifiers": raw,
        "erased": None
        if not erase_events
        else {"at": erase_events[0]["event_time"], "event_id": erase_events[0]["event_id"]},
        "consent_history": evidence["events"],
        "chain": evidence["chain"],
        "purposes": purposes,
        "sources": sources,
        "training_runs": training,
        "datasets": datasets,
        "vendors": vendors,
        "requests": [{k: v for k, v in r.to_json().items() if k not in ("subject", "log")} for r in requests],
        "retention": {
            "sources": {s.id: s.retention_days for s in policy.sources},
            "consent_records": words.text("retention_records"),
        },
        "limits": [words.text("limit_forget"), words.text("limit_erasure")],
        "locale": {"used": words.locale, "requested": words.requested, "fell_back": words.fell_back},
    }


# The page's only styling, inline so that the downloaded file stands alone; the server admits exactly
# this block by its hash in the page's Content-Security-Policy (server/routers/requests.py).
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
  color: #1d1d1f; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; vertical-align: top; text-align: start; }
th { background: #f3f3f3; }
.erased, .fallback { padding: .75rem; background: #fff4e5; border-inline-start: 4px solid #b35c00; }
.empty { color: #555; }
"""


def _locale_of(report: dict[str, Any]) -> ReportLocale:
    """The locale a report was built in (a report stored before reports had one is English)."""
    chosen = report.get("locale") or {}
    return ReportLocale(chosen.get("used", "en"), chosen.get("requested"), bool(chosen.get("fell_back")))


def _label(words: ReportLocale, prefix: str, code: str | None) -> str | None:
    """A code (``grant``, ``in_progress``, ``banner``) in the person's words; a code the catalogue does
    not know (a source a deployment named itself) is shown as recorded."""
    if code is None:
        return None
    return words.strings.get(f"{prefix}_{code}", code)


def _why(
    words: ReportLocale,
    purpose: dict[str, Any],
    events: dict[str, dict[str, Any]],
    erased: dict[str, Any] | None,
    generated: datetime,
) -> str:
    """The decision's reason in the person's words. The JSON keeps the decision's own ``reason`` (an
    English line for operators); here the same facts are told from the basis and the deciding event."""
    basis, event = purpose["basis"], events.get(purpose["evidence_event"] or "")
    if erased:
        return words.text("why_erased", date=words.when(erased["at"]) or "")
    if basis in (None, "not_allowed"):
        return words.text("why_not_allowed")
    if basis == "contract":
        return words.text("basis_contract")
    if event is None:
        return words.text("why_no_objection" if purpose["allowed"] else "why_no_consent")
    when = words.when(event["event_time"]) or ""
    if event["action"] != "grant" or basis != "consent":
        # A choice that decided it; a "yes" under another basis is a choice, not the consent a
        # consent basis needs, so it is not called one.
        return words.text("why_choice", date=when, choice=_label(words, "act", event["action"]) or "")
    if purpose["allowed"]:
        return words.text("why_granted", date=when)
    days = purpose.get("max_age_days")
    if days and datetime.fromisoformat(event["event_time"]) + timedelta(days=days) <= generated:
        return words.text("why_expired", date=when, days=words.days(days))
    return words.text("why_stale", date=when)


def report_html(report: dict[str, Any]) -> str:
    """The report as one self-contained, readable page (no scripts, no outside resources), in the
    locale it was built in: ``lang`` and ``dir`` on the page, the policy's own wording marked with the
    language it was shown in."""
    e = html.escape
    words = _locale_of(report)
    t = words.text

    def cell(value: Any) -> str:
        if isinstance(value, tuple):  # (text, lang): wording recorded in a language of its own
            text, lang = value
            attrs = f' lang="{e(lang)}" dir="auto"' if lang else ' dir="auto"'
            return f"<td{attrs}>{e('—' if text is None else str(text))}</td>"
        return f"<td>{e('—' if value is None else str(value))}</td>"

    def table(head: list[str], rows: list[list[Any]], empty: str) -> str:
        if not rows:
            return f"<p class='empty'>{e(t(empty))}</p>"
        th = "".join(f"<th scope='col'>{e(t(h))}</th>" for h in head)
        body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in rows)
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    def title(value: str | None) -> tuple[str | None, None]:
        return (value, None)  # the policy's words: direction from the text, language unknown

    ctrl = report["controller"]
    erased = report["erased"]
    by_id = {ev["event_id"]: ev for ev in report["consent_history"]}
    generated = datetime.fromisoformat(report["generated_at"])
    history = table(
        ["col_when", "col_choice", "col_purpose", "col_wording", "col_version", "col_region", "col_via"],
        [
            [
                words.when(ev["event_time"]),
                _label(words, "act", ev["action"]),
                title(ev["purpose_title"] or ev["purpose"]) if ev["purpose"] else t("all_purposes"),
                ((ev["privacy_notice"] or {}).get("text"), (ev["privacy_notice"] or {}).get("locale")),
                (ev["privacy_notice"] or {}).get("version"),
                ev["region"],
                _label(words, "via", ev["collection_method"]),
            ]
            for ev in report["consent_history"]
        ],
        "empty_choices",
    )
    purposes = table(
        ["col_purpose", "col_ai", "col_basis", "col_region", "col_allowed", "col_why"],
        [
            [
                title(p["title"]),
                t("yes") if p["ai"] else t("no"),
                _label(words, "basis", p["basis"]),
                p["region"],
                t("allowed") if p["allowed"] else t("not_allowed"),
                _why(words, p, by_id, erased, generated),
            ]
            for p in report["purposes"]
        ],
        "empty_purposes",
    )
    sources = table(
        ["col_source", "col_kind", "col_categories", "col_used_for", "col_kept_for", "col_records_now"],
        [
            [
                s["id"],
                s["kind"],
                words.join(s["categories"]),
                words.join(s["purposes"]),
                words.days(s["retention_days"]) if s["retention_days"] else None,
                (None if s["records_held"] is None else words.number(s["records_held"]))
                if s["registered_for_erasure"]
                else t("not_registered"),
            ]
            for s in report["sources"]
        ],
        "empty_sources",
    )
    runs = table(
        ["col_model", "col_purpose", "col_trained", "col_status", "col_meaning"],
        [
            [
                r["model"],
                r["purpose"],
                t(
                    "period",
                    start=words.when(r["started_at"]) or "",
                    end=words.when(r["finished_at"]) or t("run_running"),
                ),
                _label(words, "run", r["status"]),
                t("model_status")
                + (" " + t("checkpoints", names=words.join(r["checkpoints"])) if r["checkpoints"] else ""),
            ]
            for r in report["training_runs"]
        ],
        "empty_runs",
    )
    datasets = table(
        ["col_dataset", "col_purpose", "col_prepared", "col_status"],
        [
            [d["output"] or "", d["purpose"], words.when(d["prepared_at"]), _label(words, "run", d["status"])]
            for d in report["datasets"]
        ],
        "empty_datasets",
    )
    vendors = table(
        ["col_vendor", "col_purpose", "col_sent", "col_status"],
        [
            [v["vendor"], v["purpose"], words.when(v["exported_at"]), _label(words, "run", v["status"])]
            for v in report["vendors"]
        ],
        "empty_vendors",
    )
    requests = table(
        ["col_request", "col_request_kind", "col_status", "col_received", "col_due", "col_closed"],
        [
            [
                r["request_id"],
                _label(words, "req", r["kind"]),
                _label(words, "st", r["status"]),
                words.when(r["received_at"]),
                words.day(r["due"]),
                words.when(r["closed_at"]),
            ]
            for r in report["requests"]
        ],
        "empty_requests",
    )
    limits = "".join(f"<li>{e(t(k))}</li>" for k in ("limit_forget", "limit_erasure"))
    erased_note = ""
    if erased:
        erased_note = f"<p class='erased'>{e(t('erased', date=words.when(erased['at']) or ''))}</p>"
    fallback = (
        f"<p class='fallback'>{e(FALLBACK.format(requested=words.requested))}</p>" if words.fell_back else ""
    )
    intact = report["chain"]["intact"]
    chain = (
        t("chain_nothing")
        if intact is None
        else t("chain_intact")
        if intact
        else t("chain_broken", problem=str(report["chain"]["problem"] or "—"))
    )
    heading = t("title", org=ctrl["name"])
    return f"""<!doctype html>
<html lang="{e(words.locale)}" dir="{words.direction}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(heading)}</title>
<style>{STYLE}</style></head><body>
<main>
{fallback}
<h1>{e(heading)}</h1>
<p>{e(t("intro", subject=report["subject"], date=words.when(report["generated_at"]) or ""))}
{e(t("questions", contact=ctrl["contact"] or ctrl["name"]))}</p>
<p>{e(t("as_recorded"))}</p>
{erased_note}
<h2>{e(t("h_choices"))}</h2>{history}
<p>{e(chain)}</p>
<h2>{e(t("h_purposes"))}</h2>{purposes}
<h2>{e(t("h_sources"))}</h2>{sources}
<h2>{e(t("h_runs"))}</h2>{runs}
<h2>{e(t("h_datasets"))}</h2>{datasets}
<h2>{e(t("h_vendors"))}</h2>{vendors}
<h2>{e(t("h_requests"))}</h2>{requests}
<h2>{e(t("h_limits"))}</h2><ul>{limits}</ul>
</main>
</body></html>
"""
