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
from datetime import UTC, datetime
from typing import Any, Protocol

from consentgate.ledger.erasure import is_pseudonym
from consentgate.requests.models import DataRequest
from consentgate.service import ConsentService
from consentgate.store.checkpoints import CheckpointStore
from consentgate.store.runs import RunStore

REPORT_SCHEMA = "consentgate-access-report/1"
LIMITS = (
    "Models already trained on this person's data are listed under training runs. A trained model "
    "cannot be made to forget; each is marked for the team's decision to retrain or unlearn. Future "
    "training and exports exclude the person's data from the moment of their objection, withdrawal "
    "or erasure.",
    "After an erasure the ledger keeps the events that prove the request was honoured, with the "
    "person's identifiers replaced by keyed pseudonyms, so the record of consent still verifies.",
)


class Desk(Protocol):
    """What the report reads from the request desk (``requests/desk.py`` builds the report when it
    completes an access request, so the report names the desk by this shape, not by import)."""

    @property
    def service(self) -> ConsentService: ...

    def requests_of(self, subject: str) -> list[DataRequest]: ...

    def locate(self, subject: str) -> dict[str, Any]: ...


def access_report(desk: Desk, subject: str, *, now: datetime | None = None) -> dict[str, Any]:
    service = desk.service
    policy = service.policy
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
                    "model_status": "trained on this person's data; the model has not forgotten it. "
                    "Marked for the team's retraining or unlearning decision.",
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
                "region": d.region,
                "basis": d.basis,
                "allowed": d.allowed,
                "reason": d.reason,
                "evidence_event": d.evidence_event,
            }
        )
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
            "consent_records": "kept as long as they may be needed to prove consent or the handling "
            "of a request; identifiers are replaced by keyed pseudonyms on erasure",
        },
        "limits": list(LIMITS),
    }


def _when(value: str | None) -> str | None:
    """``2026-07-01T10:00:00.123+02:00`` → ``2026-07-01 10:00 (UTC+02:00)``: minutes and the zone."""
    if not value:
        return value
    try:
        d = datetime.fromisoformat(value)
    except ValueError:
        return value
    offset = d.strftime("%z")
    zone = "UTC" if offset in ("", "+0000") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{d:%Y-%m-%d %H:%M} ({zone})"


def _words(value: str | None) -> str | None:
    return None if value is None else value.replace("_", " ")


def report_html(report: dict[str, Any]) -> str:
    """The report as one self-contained, readable page (no scripts, no outside resources)."""
    e = html.escape

    def table(head: list[str], rows: list[list[Any]], empty: str) -> str:
        if not rows:
            return f"<p class='empty'>{e(empty)}</p>"
        th = "".join(f"<th>{e(h)}</th>" for h in head)
        body = "".join(
            "<tr>" + "".join(f"<td>{e('—' if c is None else str(c))}</td>" for c in row) + "</tr>"
            for row in rows
        )
        return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"

    ctrl = report["controller"]
    erased = report["erased"]
    history = table(
        ["when", "choice", "purpose", "wording shown", "version", "region", "via"],
        [
            [
                _when(ev["event_time"]),
                _words(ev["action"]),
                ev["purpose_title"] or ev["purpose"] or "all purposes",
                (ev["privacy_notice"] or {}).get("text"),
                (ev["privacy_notice"] or {}).get("version"),
                ev["region"],
                ev["collection_method"],
            ]
            for ev in report["consent_history"]
        ],
        "No consent choices are recorded.",
    )
    purposes = table(
        ["purpose", "AI", "lawful basis", "region", "may we use your data?", "why"],
        [
            [
                p["title"],
                "yes" if p["ai"] else "no",
                p["basis"],
                p["region"],
                "yes" if p["allowed"] else "no",
                p["reason"],
            ]
            for p in report["purposes"]
        ],
        "No purposes.",
    )
    sources = table(
        ["source", "kind", "data categories", "used for", "kept for", "your records now"],
        [
            [
                s["id"],
                s["kind"],
                ", ".join(s["categories"]),
                ", ".join(s["purposes"]),
                f"{s['retention_days']} days" if s["retention_days"] else None,
                s["records_held"] if s["registered_for_erasure"] else "not registered",
            ]
            for s in report["sources"]
        ],
        "No sources are declared.",
    )
    runs = table(
        ["model", "purpose", "trained", "status", "what it means"],
        [
            [
                r["model"],
                r["purpose"],
                f"{_when(r['started_at'])} to {_when(r['finished_at']) or 'running'}",
                r["status"],
                r["model_status"]
                + (
                    f" Checkpoints holding your data: {', '.join(r['checkpoints'])}."
                    if r["checkpoints"]
                    else ""
                ),
            ]
            for r in report["training_runs"]
        ],
        "No training run used your data.",
    )
    datasets = table(
        ["dataset file", "purpose", "prepared", "status"],
        [[d["output"] or "", d["purpose"], _when(d["prepared_at"]), d["status"]] for d in report["datasets"]],
        "No filtered dataset holds your data.",
    )
    vendors = table(
        ["vendor", "purpose", "sent", "status"],
        [[v["vendor"], v["purpose"], _when(v["exported_at"]), v["status"]] for v in report["vendors"]],
        "No vendor received your data.",
    )
    requests = table(
        ["request", "kind", "status", "received", "due", "closed"],
        [
            [
                r["request_id"],
                _words(r["kind"]),
                _words(r["status"]),
                _when(r["received_at"]),
                r["due"],
                _when(r["closed_at"]),
            ]
            for r in report["requests"]
        ],
        "No requests.",
    )
    limits = "".join(f"<li>{e(x)}</li>" for x in report["limits"])
    erased_note = (
        f"<p class='erased'>Your data was erased on {e(_when(erased['at']) or '')}. "
        "What remains below is the record that proves it.</p>"
        if erased
        else ""
    )
    chain = "intact" if report["chain"]["intact"] else f"NOT intact: {report['chain']['problem']}"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your data at {e(ctrl["name"])}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
  color: #1d1d1f; }}
table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }}
th, td {{ border: 1px solid #ccc; padding: .35rem .5rem; vertical-align: top; text-align: left; }}
th {{ background: #f3f3f3; }}
.erased {{ padding: .75rem; background: #fff4e5; border-left: 4px solid #b35c00; }}
.empty {{ color: #555; }}
</style></head><body>
<h1>Your data at {e(ctrl["name"])}</h1>
<p>Report for <b>{e(report["subject"])}</b>, generated {e(_when(report["generated_at"]) or "")}.
Questions: {e(ctrl["contact"] or ctrl["name"])}.</p>
{erased_note}
<h2>Your choices</h2>{history}
<p>The record of these choices is {e(chain)}.</p>
<h2>What we may use your data for</h2>{purposes}
<h2>Where your data is kept</h2>{sources}
<h2>AI models trained with your data</h2>{runs}
<h2>Datasets prepared for training that hold your data</h2>{datasets}
<h2>Vendors that received your data</h2>{vendors}
<h2>Your requests</h2>{requests}
<h2>What this report cannot promise</h2><ul>{limits}</ul>
</body></html>
"""
