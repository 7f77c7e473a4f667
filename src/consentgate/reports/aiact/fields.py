"""The summary's answers as field objects, and the template's layout they fill.

Every leaf answer of the summary says where it came from: ``derived`` (computed from the training
runs, their datasets and the policy), ``declared`` (written by the provider in the answers file) or
``to_be_completed`` (nothing consentgate holds answers it; the value is null and ``from`` says what
would fill it). Nothing is ever filled with a default: a summary the Commission's template calls
complete must be true, so a gap stays visible (and the command exits 3).

:data:`LAYOUT` is the Commission's template (Explanatory Notice and Template for the Public Summary
of Training Content, 24 July 2025, adopted as C(2025) 8311) in its exact order: one
:class:`Subsection` per numbered part, each listing the JSON paths of its answers with the wording
the renderers print. The answers file accepts exactly these paths, so the layout is also the one
list of valid keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Provenance = Literal["derived", "declared", "to_be_completed"]
PROVENANCES: tuple[Provenance, ...] = ("derived", "declared", "to_be_completed")
TEMPLATE = (
    "European Commission, Explanatory Notice and Template for the Public Summary of Training Content "
    "for general-purpose AI models, 24 July 2025 (Communication C(2025) 8311)"
)
FORMAT = "consentgate-ai-act-summary/1"


@dataclass(frozen=True, slots=True)
class Field:
    """One answer: its value, how it is known, and from where (in words a reader can check)."""

    value: Any
    provenance: Provenance
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "provenance": self.provenance, "from": self.source}

    @property
    def open(self) -> bool:
        return self.provenance == "to_be_completed"


def derived(value: Any, source: str) -> Field:
    return Field(value, "derived", source)


def declared(value: Any, source: str) -> Field:
    return Field(value, "declared", source)


def to_be_completed(what_fills_it: str) -> Field:
    return Field(None, "to_be_completed", what_fills_it)


def not_applicable(used_path: str, what: str) -> Field:
    """A sub-question of a category the model did not use: answered by that "no", never left open."""
    return Field(None, "derived", f"not applicable: {what} not used ({used_path})")


@dataclass(frozen=True, slots=True)
class Item:
    path: str  # e.g. "general.provider.name"
    label: str  # the template's question, as the renderers print it
    optional: bool = False  # the template's "optional comments": left out when nobody declares it
    date: bool = False  # answered with a date (YYYY-MM-DD)


@dataclass(frozen=True, slots=True)
class Subsection:
    number: str  # "1.1"
    title: str
    items: tuple[Item, ...]


DATES = frozenset({"general.model.placed_on_market", "general.training_data.latest_acquisition"})


def _items(*pairs: tuple[str, str] | tuple[str, str, bool]) -> tuple[Item, ...]:
    return tuple(Item(p[0], p[1], optional=len(p) == 3, date=p[0] in DATES) for p in pairs)


LAYOUT: tuple[Subsection, ...] = (
    Subsection(
        "1.1",
        "Provider identification",
        _items(
            ("general.provider.name", "Provider name"),
            ("general.provider.contact", "Provider contact details"),
            (
                "general.provider.authorised_representative",
                "Authorised representative: name and contact details, if any",
            ),
        ),
    ),
    Subsection(
        "1.2",
        "Model identification",
        _items(
            ("general.model.name", "Model name"),
            ("general.model.versions", "Versioned model name(s)"),
            ("general.model.dependencies", "Model dependencies (the base model, with a link to its summary)"),
            ("general.model.placed_on_market", "Date the model was placed on the Union market"),
        ),
    ),
    Subsection(
        "1.3",
        "Modalities, overall training data size and other characteristics",
        _items(
            ("general.training_data.modalities", "Modalities"),
            ("general.training_data.size.records", "Records in the training datasets"),
            ("general.training_data.size.text_characters", "Characters of text"),
            ("general.training_data.size.text_tokens", "Tokens of text"),
            ("general.training_data.size.text_band", "Text size band"),
            ("general.training_data.size.other_modalities", "Size of the other modalities, in their units"),
            ("general.training_data.content_types", "Types of content"),
            ("general.training_data.latest_acquisition", "Latest date of data acquisition or collection"),
            ("general.training_data.continued_training", "Does the model keep training on new data?"),
            ("general.training_data.languages", "Languages"),
            ("general.training_data.other_characteristics", "Other relevant characteristics", True),
        ),
    ),
    Subsection(
        "2.1",
        "Publicly available datasets",
        _items(
            ("sources.public_datasets.used", "Used"),
            ("sources.public_datasets.modalities", "Modalities"),
            ("sources.public_datasets.large_datasets", "Large publicly available datasets (name and link)"),
            ("sources.public_datasets.description", "General description of the other public datasets"),
        ),
    ),
    Subsection(
        "2.2",
        "Private non-publicly available datasets obtained from third parties",
        _items(
            ("sources.private_datasets.licensed.used", "2.2.1 Datasets licensed from rightsholders: used"),
            ("sources.private_datasets.licensed.modalities", "2.2.1 Modalities"),
            (
                "sources.private_datasets.third_party.used",
                "2.2.2 Private datasets from other third parties: used",
            ),
            ("sources.private_datasets.third_party.modalities", "2.2.2 Modalities"),
            ("sources.private_datasets.third_party.datasets", "2.2.2 Publicly known datasets"),
            ("sources.private_datasets.third_party.description", "2.2.2 General description of the others"),
        ),
    ),
    Subsection(
        "2.3",
        "Data crawled and scraped from online sources",
        _items(
            ("sources.crawled.used", "Crawlers used by or on behalf of the provider"),
            ("sources.crawled.crawlers", "Crawler names or identifiers"),
            ("sources.crawled.purposes", "Purposes of the crawlers"),
            ("sources.crawled.behaviour", "Crawler behaviour (robots.txt, paywalls, login walls, CAPTCHAs)"),
            ("sources.crawled.period", "Period of data collection"),
            ("sources.crawled.content", "Content types, online sources and modalities crawled"),
            ("sources.crawled.top_domains", "Most relevant domain names crawled"),
            ("sources.crawled.reservations_checked", "Rights reservations found on the crawled origins"),
        ),
    ),
    Subsection(
        "2.4",
        "User data",
        _items(
            ("sources.user_data.used", "Data from users used"),
            ("sources.user_data.model_interactions", "Data from user interactions with the model used"),
            ("sources.user_data.other_services", "Data from users of the provider's other services used"),
            ("sources.user_data.services", "Services or products the user data came from"),
            ("sources.user_data.modalities", "Modalities"),
        ),
    ),
    Subsection(
        "2.5",
        "Synthetic data",
        _items(
            ("sources.synthetic.used", "AI-generated data created by or for the provider used"),
            ("sources.synthetic.modalities", "Modalities"),
            ("sources.synthetic.generators", "Models used to generate it"),
        ),
    ),
    Subsection(
        "2.6",
        "Other sources of data",
        _items(
            ("sources.other.used", "Other sources used"),
            ("sources.other.description", "Description"),
        ),
    ),
    Subsection(
        "3.1",
        "Respect of reservation of rights from the text and data mining exception or limitation",
        _items(
            (
                "processing.tdm_opt_outs.code_of_practice_signatory",
                "Signatory to the General-Purpose AI Code of Practice (copyright chapter)",
            ),
            (
                "processing.tdm_opt_outs.measures",
                "Measures before and during collection to honour opt-outs, protocols honoured",
            ),
            ("processing.tdm_opt_outs.reservations_honoured", "How the reservations found were honoured"),
        ),
    ),
    Subsection(
        "3.2",
        "Removal of illegal content",
        _items(("processing.illegal_content.measures", "Measures to remove illegal content")),
    ),
    Subsection(
        "3.3",
        "Other information",
        _items(
            ("processing.other.personal_data_consent", "Consent and objections of the people in the data"),
            ("processing.other.information", "Other information", True),
        ),
    ),
)

ITEMS: dict[str, Item] = {item.path: item for sub in LAYOUT for item in sub.items}
HEADER_KEYS = ("version", "last_update")  # the template's "Version of the Summary" and "Last update"


def nest(fields: dict[str, Field]) -> dict[str, Any]:
    """``{"general.provider.name": Field}`` → ``{"general": {"provider": {"name": {...}}}}``, in the
    layout's order (the JSON reads in the template's order too)."""
    root: dict[str, Any] = {}
    for path in ITEMS:
        field = fields.get(path)
        if field is None:
            continue
        node = root
        *parents, leaf = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = field.to_json()
    return root
