"""The audit pack's sections about what the organisation declared and did: the policy (purposes and
their bases, regions, vendors, sources), every notice version's wording, and the training runs and
vendor exports (``reports/audit.py`` assembles the pack)."""

from __future__ import annotations

from typing import Any

from consentgate.policy import Policy
from consentgate.reports.pack import Cell, Section, Table
from consentgate.store.activity import notice_answers
from consentgate.store.engine import Engine
from consentgate.store.runs import RunStore


def policy_section(p: Policy) -> Section:
    """Purposes with their basis per region, regions, vendors and sources, as the policy declares them."""
    purposes: list[dict[str, Cell]] = [
        {
            "purpose": x.id,
            "title": x.title,
            "kind": x.kind.value,
            "notice": x.notice,
            "max_age_days": x.max_age_days,
            "basis": "; ".join(f"{region}: {basis.value}" for region, basis in x.basis.items()),
        }
        for x in p.purposes
    ]
    regions: list[dict[str, Cell]] = [
        {"region": rid, "countries": " ".join(r.countries), "honour_gpc": r.honour_gpc}
        for rid, r in p.regions.items()
    ]
    vendors: list[dict[str, Cell]] = [
        {
            "vendor": v.id,
            "name": v.name,
            "purposes": " ".join(v.purposes),
            "self_training": v.self_training,
            "self_training_approved": v.self_training_approved,
        }
        for v in p.vendors
    ]
    sources: list[dict[str, Cell]] = [
        {
            "source": s.id,
            "kind": s.kind,
            "categories": " ".join(s.categories),
            "purposes": " ".join(s.purposes),
            "retention_days": s.retention_days,
        }
        for s in p.sources
    ]
    return Section(
        "policy",
        "Policy: purposes, lawful bases, regions, vendors and sources",
        tables=[
            Table(
                "purposes",
                "Purposes and their lawful basis per region",
                ("purpose", "title", "kind", "notice", "max_age_days", "basis"),
                purposes,
                "The policy declares no purposes.",
            ),
            Table(
                "regions",
                "Regions",
                ("region", "countries", "honour_gpc"),
                regions,
                'The policy declares no regions: every event falls under the "*" basis.',
            ),
            Table(
                "vendors",
                "Vendors",
                ("vendor", "name", "purposes", "self_training", "self_training_approved"),
                vendors,
                "The policy declares no vendors.",
            ),
            Table(
                "sources",
                "Data sources that can feed AI",
                ("source", "kind", "categories", "purposes", "retention_days"),
                sources,
                "The policy declares no sources.",
                missing="not declared",
            ),
        ],
    )


def notices_section(engine: Engine, policy: Policy) -> Section:
    """Every version of every notice, wording per locale, and the events recorded under it."""
    answered = notice_answers(engine)
    rows: list[dict[str, Cell]] = []
    for notice in policy.notices:
        for v in policy.versions_of(notice.id):
            for locale, text in v.text.items():
                rows.append(
                    {
                        "notice": notice.id,
                        "version": v.label,
                        "effective_from": v.effective_from.isoformat(),
                        "reconsent": v.reconsent,
                        "purposes": " ".join(notice.purposes),
                        "locale": locale,
                        "events_recorded": answered.get((notice.id, v.label), 0),
                        "text": text,
                    }
                )
    columns = (
        "notice",
        "version",
        "effective_from",
        "reconsent",
        "purposes",
        "locale",
        "events_recorded",
        "text",
    )
    return Section(
        "notices",
        "Notices: every version's wording and dates",
        notes=[
            "Wording is shown exactly as the policy holds it. events_recorded counts the ledger's events "
            "recorded under the notice version (all locales); each event also stores the sha256 of the exact "
            "wording shown, which `consentgate evidence` resolves per person."
        ],
        tables=[Table("notices", "Notice versions", columns, rows, "The policy declares no notices.")],
    )


def runs_section(engine: Engine) -> Section:
    """Every training run and vendor export, with what its manifest pins."""
    runs = RunStore(engine).runs()
    rows: list[dict[str, Cell]] = [
        {
            "run_id": r.run_id,
            "kind": r.kind,
            "purpose": r.purpose,
            "model": r.model,
            "vendor": r.vendor,
            "status": r.status,
            "started_at": r.started_at.isoformat(),
            "finished_at": None if r.finished_at is None else r.finished_at.isoformat(),
            "records": r.records,
            "subjects": r.subjects,
            "snapshot_head_first": r.head_seq_first,
            "snapshot_head_last": r.head_seq_last,
            "policy_fingerprint": _fingerprint_of(r.manifest),
        }
        for r in runs
        if r.kind in ("training", "export")
    ]
    return Section(
        "runs",
        "Training runs and vendor exports",
        notes=[
            "Each run's manifest pins the ledger head its decisions came from (snapshot_head) and "
            "the policy it ran under; the people it used are stored as keyed hashes, so `consentgate "
            'runs --subject S` answers "was my data used?" without this pack holding any identifier.'
        ],
        tables=[Table("runs", "Runs", _RUN_COLUMNS, rows, "No training run or vendor export was recorded.")],
    )


_RUN_COLUMNS = (
    "run_id", "kind", "purpose", "model", "vendor", "status", "started_at", "finished_at", "records",
    "subjects", "snapshot_head_first", "snapshot_head_last", "policy_fingerprint",
)  # fmt: skip


def _fingerprint_of(manifest: dict[str, Any]) -> str | None:
    """The policy fingerprint a run's manifest pins: an export's snapshot, a training run's last one."""
    snapshot = manifest.get("snapshot")
    if not isinstance(snapshot, dict):
        return None
    last = snapshot.get("last")
    found = last.get("policy_fingerprint") if isinstance(last, dict) else snapshot.get("policy_fingerprint")
    return str(found) if found is not None else None
