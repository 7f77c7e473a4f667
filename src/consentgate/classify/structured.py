"""Detectors for identifiers with a fixed shape: e-mail, IP address, payment card, IBAN, phone number.

Each pattern proposes candidates; a validator (checksum, address parser, phone number metadata) or the
words before the candidate decide. Look-alikes — version strings, dates, order numbers, numbers that
fail Luhn — are what the validators exist for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.lexicon import NOT_PHONE_CONTEXT, PHONE_CONTEXT
from consentgate.classify.validate import IBAN_LENGTHS, card_brand, card_ok, iban_ok, ipv4_ok, ipv6_ok

_LOCAL = r"[\w%&'*+-]+(?:\.[\w%&'*+-]+)*"
EMAIL = re.compile(
    rf"(?<![\w.+@%&'*-]){_LOCAL}@(?:[^\W_](?:[\w-]{{0,61}}[^\W_])?\.)+[^\W\d_]{{2,24}}(?![\w@-])"
)
EMAIL_OBFUSCATED = re.compile(
    r"(?<![\w.])[\w.+-]+\s?[\[(<{]\s?(?:at|AT|@|ät)\s?[\])>}]\s?[\w-]+"
    r"(?:(?:\s?[\[(<{]\s?(?:dot|DOT|punkt|point|punto)\s?[\])>}]\s?|\.)[\w-]+)+"
)
IPV4 = re.compile(r"(?<![\w.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\w]|\.\d)")
IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:(?::?[0-9A-Fa-f]{1,4}:?){1,7}|::[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6}"
    r"|[0-9A-Fa-f]{1,4}::)(?:[0-9A-Fa-f]{1,4}|(?<=:)\d{1,3}(?:\.\d{1,3}){3})?(?:%\w+)?(?![\w:])"
)
VERSION_BEFORE = re.compile(
    r"(?:\bv|\bver\.?|version|versión|release|build|firmware|fw|sdk|app|update|oid|patch|\bv\s?)\s*[:=]?\s*$",
    re.I,
)
CARD = re.compile(r"(?<![\w+.,/-])\d(?:[ \u00a0-]?\d){11,18}(?![\w]|[-.,/]\d)")
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?=[ -]?[A-Z0-9])")
# Possessive digit groups (Python 3.11+): a long run of digits is read one way only, in linear time,
# instead of trying every way to split it into groups.
PHONE = re.compile(
    r"(?<![\w+/.#-])(?:\+|00)?\(?\d{1,5}+\)?(?:[ \u00a0./-]{0,2}\(?\d{1,6}+\)?){1,7}+"
    r"(?:[ \u00a0]?(?:x|ext\.?|extension|Durchwahl|poste)[ \u00a0]?\d{1,6})?(?![\w]|[./-]\d)"
)
_EXTENSION = re.compile(r"[ \u00a0]?(?:x|ext\.?|extension|Durchwahl|poste)[ \u00a0]?\d{1,6}$")
_US_DOTTED = re.compile(r"^\(?\d{3}\)?[.]\d{3}[.]\d{4}$")
_DATE_SHAPE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{4}-\d{2}-\d{2}")
_LONG_PARENS = re.compile(r"\(\d{6,}")
_DOTTED_VERSION = re.compile(r"^[1-9]\d*(?:\.\d+){1,3}$")
_PHONE_CTX = re.compile(rf"(?<![^\W\d_])(?:{PHONE_CONTEXT})", re.I)  # prefixes of words: tel, telefon
_NOT_PHONE_CTX = re.compile(rf"(?<!\w)(?:{NOT_PHONE_CONTEXT})(?!\w)", re.I)

REGIONS_BY_LANG: dict[str | None, tuple[str, ...]] = {
    "en": ("US", "GB", "IE", "CA", "AU"),
    "de": ("DE", "AT", "CH"),
    "fr": ("FR", "BE", "CH"),
    "es": ("ES", "MX", "AR"),
    None: ("US", "GB", "DE", "FR", "ES", "AT", "CH"),
}


def emails(text: str) -> Iterator[Finding]:
    for m in EMAIL.finditer(text):
        yield Finding(m.start(), m.end(), EntityType.EMAIL, 0.95, "email")
    if "[" in text or "(" in text or "<" in text or "{" in text:
        for m in EMAIL_OBFUSCATED.finditer(text):
            yield Finding(m.start(), m.end(), EntityType.EMAIL, 0.75, "email_obfuscated")


def _version_before(text: str, start: int) -> bool:
    return bool(VERSION_BEFORE.search(text, max(0, start - 16), start))


_IP_CTX = re.compile(r"(?i:\bip\b|address|adresse|dirección|host|server|client|from|von|desde|depuis)")


def _looks_like_version(value: str) -> bool:
    """ "4.9.5.79": single-digit leading parts read as a four-part version, not an address."""
    a, b, c, _ = value.split(".")
    return len(a) == 1 and len(b) == 1 and len(c) == 1


def ip_addresses(text: str) -> Iterator[Finding]:
    for m in IPV4.finditer(text):
        value = m.group()
        if not ipv4_ok(value) or _version_before(text, m.start()):
            continue
        if _looks_like_version(value) and not _IP_CTX.search(text, max(0, m.start() - 30), m.start()):
            continue
        yield Finding(m.start(), m.end(), EntityType.IP_ADDRESS, 0.9, "ipv4")
    if "::" in text or text.count(":") >= 7:
        for m in IPV6.finditer(text):
            if ipv6_ok(m.group()):
                yield Finding(m.start(), m.end(), EntityType.IP_ADDRESS, 0.9, "ipv6")


_CARD_CTX = re.compile(
    r"(?i:card|karte|carte|tarjeta|visa|master|amex|cb\b|cc\b|kreditkarte|pago|payment|zahlung|paiement)"
)
_GROUPINGS = ((4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3), (4, 4, 4, 1), (4, 4, 4, 4, 2), (4, 4, 5))


def cards(text: str) -> Iterator[Finding]:
    for m in CARD.finditer(text):
        raw = m.group().replace("\u00a0", " ")
        digits = raw.replace(" ", "").replace("-", "")
        if not card_ok(digits):
            continue
        groups = tuple(len(g) for g in re.split(r"[ -]", raw))
        if len(groups) > 1 and groups not in _GROUPINGS:
            continue  # "696-7522934-9626402" is an order number that happens to pass Luhn
        ctx = _CARD_CTX.search(text, max(0, m.start() - 40), m.start()) is not None
        if not ctx and (card_brand(digits) == "maestro" or len(digits) == 13):
            continue  # EAN-13 barcodes and 6xxx numbers pass too often without a card word nearby
        yield Finding(m.start(), m.end(), EntityType.CREDIT_CARD, 0.95, "card_luhn")


def ibans(text: str) -> Iterator[Finding]:
    for m in IBAN_START.finditer(text):
        start = m.start()
        want = IBAN_LENGTHS.get(text[start : start + 2])
        if want is None:
            continue
        compact: list[str] = []
        i, n = start, len(text)
        while i < n and len(compact) < want:
            ch = text[i]
            if ch.isascii() and ch.isalnum():
                compact.append(ch.upper())
            elif ch in " -" and compact and i + 1 < n and text[i + 1].isalnum():
                pass
            else:
                break
            i += 1
        if len(compact) == want and (i >= n or not text[i].isalnum()) and iban_ok("".join(compact)):
            yield Finding(start, i, EntityType.IBAN, 0.95, "iban_mod97")


def phones(text: str, lang: str | None = None) -> Iterator[Finding]:
    regions = REGIONS_BY_LANG.get(lang, REGIONS_BY_LANG[None])
    for m in PHONE.finditer(text):
        raw = m.group().rstrip(" ./-")
        start = m.start()
        if raw.count(")") > raw.count("("):
            raw = raw[:-1] if raw.endswith(")") else raw
        if raw.startswith("(") and ")" not in raw:
            raw, start = raw[1:], start + 1
        ext = _EXTENSION.search(raw)  # "x2684", "ext. 12": part of the span, not of the number
        number = raw[: ext.start()] if ext else raw
        digits = sum(c.isdigit() for c in number)
        if not 7 <= digits <= 15:
            continue
        if _DATE_SHAPE.match(number) or _LONG_PARENS.search(number):
            continue
        if _DOTTED_VERSION.match(number) and not _US_DOTTED.match(number):
            continue
        before = text[max(0, start - 32) : start].lower()
        intl = raw.startswith(("+", "00"))
        has_ctx = bool(_PHONE_CTX.search(before))
        if not has_ctx and _NOT_PHONE_CTX.search(before, max(0, len(before) - 18)):
            continue
        separated = any(not c.isdigit() for c in number.lstrip("+"))
        if not (intl or has_ctx or separated or raw.startswith("0")):
            continue  # a bare run of digits is an id or an amount unless something says "phone"
        # "+44 7700 900123" is written as a phone number even where the range is unassigned.
        score = _phone_score(number, intl, regions, possible=has_ctx or (intl and separated))
        if score is None:
            continue
        if has_ctx:
            score = min(0.95, score + 0.2)
        yield Finding(start, start + len(raw), EntityType.PHONE, score, "phone_intl" if intl else "phone")


def _phone_score(raw: str, intl: bool, regions: tuple[str, ...], *, possible: bool) -> float | None:
    """Valid per the number plan → a phone number. With a phone word before it, a number that is only
    *possible* (right length, unassigned range — e.g. the UK's 07700 900xxx drama numbers) counts too."""
    candidate = "+" + raw[2:] if raw.startswith("00") else raw
    fallback: float | None = None
    for region in (None,) if intl else regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return 0.85 if intl else 0.65
        if possible and fallback is None and phonenumbers.is_possible_number(number):
            fallback = 0.45
    return fallback
