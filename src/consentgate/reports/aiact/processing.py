"""Section 3 of the summary: respect of text-and-data-mining opt-outs, removal of illegal content,
and the consent gate every training run passed through."""

from __future__ import annotations

from consentgate.reports.aiact.common import ANSWER, Fields
from consentgate.reports.aiact.facts import ModelFacts
from consentgate.reports.aiact.fields import Field, derived, to_be_completed


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
