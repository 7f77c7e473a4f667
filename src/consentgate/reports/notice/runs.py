"""The models of the ledger's stored training runs, per purpose: "which systems it improves"."""

from __future__ import annotations

from consentgate.reports.notice.facts import trained_models
from consentgate.store.runs import RunStore


def trained_from(store: RunStore) -> dict[str, list[str]]:
    """purpose id → the models its training runs trained, oldest run first (see
    :func:`~consentgate.reports.notice.facts.trained_models` for which runs count)."""
    found = store.runs(kind="training")  # newest first
    return trained_models((r.purpose, r.model) for r in reversed(found))
