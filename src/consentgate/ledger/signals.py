"""What an event's ``signals`` may hold: a closed schema, nothing free-form.

Signals are stored inside the hash chain, so whatever lands there can never be scrubbed without
breaking the chain — an erasure (GDPR Art. 17) could not reach an e-mail address or an IP address
someone put there. The schema therefore holds only what the decision function, the banner and the
request desk need, each value enumerated or boolean:

* ``gpc`` (bool) and ``via`` (``dom`` | ``header``): the request carried Global Privacy Control,
  and how the banner saw it (``navigator.globalPrivacyControl`` or the ``Sec-GPC`` header);
* ``do_not_train`` (bool): the banner's summary — no AI purpose is allowed after this choice;
* ``consent_mode``: the Google Consent Mode v2 state the choice produced, type → granted | denied;
* ``request_id``: the data-subject request an event carries out (``req-`` and 16 hex digits);
* ``banner_choice`` (``accept_all`` | ``reject_all`` | ``custom``): which of the banner's buttons made
  the choice — "Accept all", "Reject all", or "Save" after setting the switches — for the banner
  outcome report (``reports/banner.py``); the purposes alone cannot tell a "Save" with every switch on
  from "Accept all".
* ``tc_string`` and ``addtl_consent``: the IAB TCF v2 TC string and Google's Additional Consent string
  the choice produced (docs/tcf.md), as evidence of what vendors were told. Here only their shape
  (base64url segments starting with a version-2 core; lists of numbers) and length are checked;
  intake (``ledger/intake.py``) then decodes the TC string and refuses one the service could not have
  written (another CMP id or version, a list it never served, trailing bits, consents a refusal
  cannot carry). The AC string is checked for shape only.

Anything else is refused with the key and the allowed ones named, so a sender learns at once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, model_validator
from pydantic_core import ErrorDetails

from consentgate.ledger.events import ConsentEvent

ConsentModeState = Literal["granted", "denied"]
BannerChoice = Literal["accept_all", "reject_all", "custom"]
REQUEST_ID_PATTERN = r"^req-[0-9a-f]{16}$"
# A TC string: 1-4 base64url segments; the core segment of TCF v2 starts with "C" (version 2).
TC_STRING_PATTERN = r"^C[A-Za-z0-9_-]{20,}(\.[A-Za-z0-9_-]{2,}){0,3}$"
ADDTL_CONSENT_PATTERN = r"^2~[0-9.]*~dv\.[0-9.]*$"


@functools.cache
def _names(model: type[BaseModel]) -> frozenset[str]:
    # Once per model: pydantic's ``model_fields`` is a property, slow to read once per key of every
    # event's signals (a quarter of intake's time, measured with cProfile).
    return frozenset(model.model_fields)


def _closed(model: type[BaseModel], where: str, value: Any) -> Any:
    """Refuse unknown keys with a message naming them and the allowed ones (pydantic's own says only
    "extra inputs are not permitted", which does not tell the sender what to send instead)."""
    if isinstance(value, Mapping):
        names = _names(model)
        unknown = sorted(str(k) for k in value if k not in names)
        if unknown:
            allowed = ", ".join(model.model_fields)
            raise ValueError(
                f"{', '.join(repr(k) for k in unknown)} {'is' if len(unknown) == 1 else 'are'} not "
                f"{where}; allowed: {allowed}"
            )
    return value


class ConsentMode(BaseModel):
    """Google Consent Mode v2: the seven storage types, each granted or denied."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ad_storage: ConsentModeState | None = None
    ad_user_data: ConsentModeState | None = None
    ad_personalization: ConsentModeState | None = None
    analytics_storage: ConsentModeState | None = None
    functionality_storage: ConsentModeState | None = None
    personalization_storage: ConsentModeState | None = None
    security_storage: ConsentModeState | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_types(cls, value: Any) -> Any:
        return _closed(cls, "a Consent Mode v2 type", value)


class Signals(BaseModel):
    """Facts about the request an event came with; see the module docstring for why it is closed."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"gpc": True, "via": "header"}, {"do_not_train": True}]},
    )

    gpc: StrictBool | None = Field(default=None, description="The request carried Global Privacy Control.")
    via: Literal["dom", "header"] | None = Field(
        default=None, description="How GPC was seen: navigator.globalPrivacyControl (dom) or Sec-GPC."
    )
    do_not_train: StrictBool | None = Field(
        default=None, description="True when no AI purpose is allowed after this choice."
    )
    consent_mode: ConsentMode | None = Field(
        default=None, description="The Consent Mode v2 state the choice produced."
    )
    request_id: Annotated[str, Field(pattern=REQUEST_ID_PATTERN)] | None = Field(
        default=None, description="The data-subject request this event carries out."
    )
    banner_choice: BannerChoice | None = Field(
        default=None,
        description="Which banner button made the choice: accept_all, reject_all or custom (Save).",
    )
    tc_string: Annotated[str, Field(pattern=TC_STRING_PATTERN, max_length=8192)] | None = Field(
        default=None, description="The IAB TCF v2 TC string the choice produced (euconsent-v2)."
    )
    addtl_consent: Annotated[str, Field(pattern=ADDTL_CONSENT_PATTERN, max_length=8192)] | None = Field(
        default=None, description="Google's Additional Consent string (2~ids~dv.ids) the choice produced."
    )

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, value: Any) -> Any:
        return _closed(cls, "a signal consentgate stores (signals hold no notes or identifiers)", value)

    def to_json(self) -> dict[str, Any]:
        """What the ledger stores: only the keys given (null means not given)."""
        return self.model_dump(exclude_none=True)


ALLOWED = tuple(Signals.model_fields)


def parse_signals(raw: Any) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``raw`` checked against the schema: the signals to store, or problems as ``(where, message)``
    with ``where`` like ``signals.consent_mode.ad_storage``."""
    if raw is None:
        return {}, []
    if isinstance(raw, Signals):
        return raw.to_json(), []
    if not isinstance(raw, Mapping):
        return {}, [("signals", 'must be an object, e.g. {"gpc": true}')]
    try:
        return Signals.model_validate(dict(raw)).to_json(), []
    except ValidationError as exc:
        return {}, [_problem(err) for err in exc.errors()]


def outside_schema(events: Iterable[ConsentEvent]) -> Iterator[tuple[ConsentEvent, list[str]]]:
    """Stored events whose signals do not fit the schema (ledgers written before it was closed), each
    with the names of its signals — never their values, which may be the personal data in question."""
    for event in events:
        if event.signals and parse_signals(event.signals)[1]:
            yield event, sorted(str(k) for k in event.signals)


_PYDANTIC_RULE = "Input should be"


def _problem(err: ErrorDetails) -> tuple[str, str]:
    where = ".".join(["signals", *(str(p) for p in err["loc"])])
    if err["type"] == "string_pattern_mismatch":
        return where, "must be a request id such as req-0123456789abcdef"
    msg = err["msg"].removeprefix("Value error, ")
    if msg.startswith(_PYDANTIC_RULE):  # "Input should be 'dom' or 'header'" reads as a rule
        msg = "must be" + msg[len(_PYDANTIC_RULE) :]
    return where, msg
