"""What an erasure does to the free text of requests: notes, reasons, ``verified_by``, outcomes.

A request's log is the proof that it was honoured, so it stays; but operators write what they see
("Ann Lee, ann.lee@example.com, called from 192.0.2.7"), and after the erasure that must not be left.
Each text loses the person's identifiers (replaced by their pseudonyms, so the log still says *whose*
request it was, as the ``subject`` column does) and whatever the classifier's free-text scanner finds:
e-mail and IP addresses, phone numbers, names, street addresses, account numbers — written as
``[EMAIL]``, ``[IP_ADDRESS]``, … like ``consentgate scan-text``'s placeholders.

``verified_by`` is checked at input too (:func:`contact_data_in`): it says *how* an identity was
checked ("email link", "support ticket 1234"), never the contact data it was checked with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

from consentgate.classify.findings import EntityType
from consentgate.classify.redact import Mode, Redactor
from consentgate.classify.scanner import Scanner
from consentgate.errors import BadInput

VERIFIED_BY_MAX = 64  # the column's width

# What a verified_by may never hold: contact data and direct identifiers of a person.
_CONTACT = frozenset({
    EntityType.EMAIL, EntityType.PHONE, EntityType.IP_ADDRESS, EntityType.IBAN, EntityType.CREDIT_CARD,
    EntityType.STREET_ADDRESS, EntityType.DATE_OF_BIRTH,
})  # fmt: skip
_WORDS = {
    EntityType.EMAIL: "an e-mail address",
    EntityType.PHONE: "a phone number",
    EntityType.IP_ADDRESS: "an IP address",
    EntityType.IBAN: "an IBAN",
    EntityType.CREDIT_CARD: "a card number",
    EntityType.STREET_ADDRESS: "a street address",
    EntityType.DATE_OF_BIRTH: "a date of birth",
}


@lru_cache(maxsize=1)
def _scanner() -> Scanner:
    return Scanner()


_PLACEHOLDERS = Redactor(mode=Mode.PLACEHOLDER)


def scrubber(pseudonyms: Mapping[str, str]) -> Callable[[str], str]:
    """A function that scrubs one text: ``pseudonyms`` maps the person's identifiers to theirs."""
    # Longest first, so an identifier that contains another is replaced whole.
    ids = sorted((i for i in pseudonyms if i), key=len, reverse=True)

    def scrub(text: str) -> str:
        spans: list[tuple[int, int, str]] = []
        for ident in ids:
            start = text.find(ident)
            while start != -1:
                end = start + len(ident)
                if not _overlaps(spans, start, end):
                    spans.append((start, end, pseudonyms[ident]))
                start = text.find(ident, end)
        for f in _scanner().scan(text):
            if not _overlaps(spans, f.start, f.end):
                spans.append((f.start, f.end, _PLACEHOLDERS.token(f.type, text[f.start : f.end])))
        if not spans:
            return text
        out, pos = [], 0
        for start, end, replacement in sorted(spans):
            out += [text[pos:start], replacement]
            pos = end
        out.append(text[pos:])
        return "".join(out)

    return scrub


def contact_data_in(text: str) -> str | None:
    """What kind of contact data ``text`` holds ("an e-mail address"), or None."""
    for f in _scanner().scan(text):
        if f.type in _CONTACT:
            return _WORDS[f.type]
    return None


def verified_by_method(method: str) -> str:
    """``method`` as ``verified_by`` stores it, or BadInput: it names how an identity was checked,
    never the contact data it was checked with (it is shown wherever the request is)."""
    method = method.strip()
    if len(method) > VERIFIED_BY_MAX:
        raise BadInput(f"verified_by is longer than {VERIFIED_BY_MAX} characters; name the method briefly")
    found = contact_data_in(method)
    if found is not None:
        raise BadInput(
            f"verified_by holds {found}: say how the identity was checked (e.g. 'email link', "
            "'support ticket 1234', 'signed-in account'), not the contact data it was checked with"
        )
    return method


def _overlaps(spans: list[tuple[int, int, str]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e, _ in spans)
