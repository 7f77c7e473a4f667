"""Identifiers that only context can tell apart: cookie ids, device ids, hashed e-mails, user ids.

A UUID is a visitor's cookie after "visitor id", an advertising id after "IDFA", and nobody's after
"request id". Shaped values (UUIDs, hex digests, Google Analytics cookies) are found by pattern and
typed by the nearest context phrase before them; free-form ids (``KD-2023-00481``) only count right
after a phrase such as "customer number".
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from consentgate.classify.context import NEG, ContextIndex, Hit
from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.validate import luhn_ok

E = EntityType

UUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
SHAPED = re.compile(
    rf"(?<![\w-])(?:(?P<ga>GA\d\.\d\.\d{{5,12}}\.\d{{9,10}})|(?P<fb>fb\.\d\.\d{{13}}\.[\w-]{{5,200}})"
    rf"|(?P<uuid>{UUID})|(?P<hex>[0-9a-fA-F]{{16}}(?:[0-9a-fA-F]{{16}}(?:[0-9a-fA-F]{{8}}(?:[0-9a-fA-F]{{24}})?)?)?)"
    rf"|(?P<imei>\d{{15}}))(?![\w-])"
)
# What may stand between a context phrase and its value: separators, quotes, "is", "number", "#", "n°".
SEP = (
    r"""(?:\.?[\s"'`]*(?:[:=#]|->|=>)?[\s"'`]*"""
    r"""(?:(?:is|was|ist|lautet|war|est|es|era|de|del|du|:|n[º°o]\.?|nr\.?|no\.?|number|nummer|numéro|número)"""
    r"""\s*[:#=]?\s*["'`]?){0,2})"""
)
FREE_VALUE = re.compile(
    SEP
    + r"(\d{3,6}(?: \d{3,6}){1,4}(?![\w.,/-])|#?(?=[\w/-]*[\d_])[A-Za-z0-9][\w/.-]{1,38}[A-Za-z0-9]|#?\d{2,})"
    r"(?![\w@]|\.\w)"
)
# Bare words that name a thing rather than an identifier field: they need a value with digits.
_LOOSE = frozenset({
    "order", "commande", "pedido", "bestellung", "auftrag", "cookie", "localizador", "user", "customer",
    "client", "kunde", "kundin", "cliente", "utilisateur", "usuario", "benutzer", "nutzer", "account",
    "acct", "member",
})  # fmt: skip
_YEAR = re.compile(r"^(?:19|20)\d{2}$")
_PHONE_SHAPED = re.compile(r"^\+|^0\d{2,4}[ /-]\d")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{1,2}:\d{2}")
_VERSION_LIKE = re.compile(r"^v?\d+(?:\.\d+){1,3}$")
_MAIL_WORDS = re.compile(r"e-?mail|correo|courriel|\bmail", re.I)
_HASH_WORDS = re.compile(r"hash|sha-?\d|md5|hach|digest|cifrad|chiffr|verschlüssel|encrypt|crypt", re.I)
# Device words that name a field, not an id: they type a UUID or digest after them, nothing else.
_DEVICE_FIELD = frozenset({"device", "geraet", "gerät", "dispositivo"})

SHAPED_WINDOW = 60
HEX_TYPES = {16: E.DEVICE_ID, 32: E.HASHED_EMAIL, 40: E.HASHED_EMAIL, 64: E.HASHED_EMAIL}


def identifiers(text: str, ctx: ContextIndex) -> Iterator[Finding]:
    taken: list[tuple[int, int]] = []
    for hit in ctx.hits:
        if hit.kind not in _ID_VALUES or _negated(ctx, hit):
            continue
        found = _value_after(text, hit)
        if found is not None:
            taken.append((found.start, found.end))
            yield found
    for found in _answers(text, ctx):
        if not any(s < found.end and found.start < e for s, e in taken):
            taken.append((found.start, found.end))
            yield found
    for m in SHAPED.finditer(text):
        start, end = m.span()
        if any(s < end and start < e for s, e in taken):
            continue
        found = _shaped(text, ctx, m)
        if found is not None:
            yield found


_ID_VALUES = {E.USER_ID.value, E.COOKIE_ID.value, E.DEVICE_ID.value, E.HASHED_EMAIL.value}


_ANSWER_LINE = re.compile(
    r"^[ \t]*(?:\[[^\]\n]{1,24}\][ \t]*)?(?:[^\W\d][\w .'-]{0,20}[ \t]?:[ \t]*)?(?:[^\W\d]+[ \t]){0,3}?"
    r"(#?(?=[\w/-]*\d)[A-Za-z0-9][\w/-]{2,38}[A-Za-z0-9])[ \t.!]*$",
    re.M,
)


def _answers(text: str, ctx: ContextIndex) -> Iterator[Finding]:
    """A user id asked for on one line and given alone on the next ("order number?" / "A-74526")."""
    if "\n" not in text:
        return
    for m in _ANSWER_LINE.finditer(text):
        line_start = m.start()
        if line_start == 0:
            continue
        prev_start = text.rfind("\n", 0, line_start - 1) + 1
        hits = [h for h in ctx.before(line_start, line_start - prev_start) if h.start >= prev_start]
        hits = [h for h in hits if h.kind in _ID_VALUES or h.kind == NEG]
        if hits and hits[-1].kind == E.USER_ID.value and not _negated(ctx, hits[-1]):
            value = m.group(1)
            if not _DATE_LIKE.match(value.lstrip("#")) and not _VERSION_LIKE.match(value):
                yield Finding(m.start(1), m.end(1), E.USER_ID, 0.7, "user_id_answer")


def _negated(ctx: ContextIndex, hit: Hit) -> bool:
    """A negative phrase that contains the context phrase ("transaction id", "request id")."""
    return any(
        h.kind == NEG and h.start <= hit.start and h.end >= hit.end and h.end - h.start > hit.end - hit.start
        for h in ctx.before(hit.end, 40)
    )


def _value_after(text: str, hit: Hit) -> Finding | None:
    entity = E(hit.kind)
    m = FREE_VALUE.match(text, hit.end)
    if m is None or m.start(1) - hit.end > 24 or "\n" in text[hit.end : m.start(1)]:
        return None
    value = m.group(1)
    bare = value.lstrip("#")
    if _DATE_LIKE.match(bare) or (_VERSION_LIKE.match(bare) and entity is not E.COOKIE_ID):
        return None  # ("1.1.1234567.1700000000" is a _gcl_au cookie, not a version)
    if entity is E.HASHED_EMAIL:
        if len(bare) not in (32, 40, 64) or not _is_hex(bare):
            return None
    elif entity is E.DEVICE_ID:
        if len(bare) < 8 or hit.phrase in _DEVICE_FIELD:
            return None
    elif entity is E.COOKIE_ID:
        if len(bare) < 6:
            return None
    elif len(bare) < 3 or (
        sum(c.isdigit() for c in bare) < 2 and (hit.phrase in _LOOSE or "_" not in bare or len(bare) < 6)
    ):
        return None
    elif hit.phrase in _LOOSE and (len(bare) < 4 or _PHONE_SHAPED.match(value) or _YEAR.match(bare)):
        return None  # "customer 12" is a count, "customer 2024" a year, "customer +49 30 …" a phone
    score = 0.85 if entity is not E.USER_ID else 0.6 if hit.phrase in _LOOSE else 0.8
    return Finding(m.start(1), m.end(1), entity, score, f"{entity.value.lower()}_context")


def _is_hex(value: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in value)


def _shaped(text: str, ctx: ContextIndex, m: re.Match[str]) -> Finding | None:
    start = m.start()
    line_start = text.rfind("\n", 0, start) + 1
    window = min(SHAPED_WINDOW, start - line_start)
    hits = [h for h in ctx.before(start, window) if h.end <= start]
    nearest = hits[-1] if hits else None
    kind = m.lastgroup
    if kind == "ga" or kind == "fb":
        return Finding(start, m.end(), E.COOKIE_ID, 0.9, f"cookie_{kind}")
    value = m.group()
    if nearest is not None and nearest.kind == NEG:
        # "hash:" is a negative for ids but the very word that introduces a hashed e-mail.
        if not (kind == "hex" and len(value) in (32, 40, 64) and nearest.phrase in ("hash", "sha")):
            return None
        nearest = None
    entity = E(nearest.kind) if nearest is not None and nearest.kind in _ID_VALUES else None
    if kind == "uuid":
        if entity in (E.COOKIE_ID, E.DEVICE_ID, E.USER_ID):
            return Finding(start, m.end(), entity, 0.8, f"uuid_{entity.value.lower()}")
        return None
    if kind == "imei":
        if entity is E.DEVICE_ID and luhn_ok(value):
            return Finding(start, m.end(), E.DEVICE_ID, 0.8, "imei")
        return None
    # Hex digests and 16-hex Android ids.
    size = len(value)
    if size == 16:
        if entity is E.DEVICE_ID and not value.isdigit():  # 16 digits are a card or an order number
            return Finding(start, m.end(), E.DEVICE_ID, 0.8, "android_id")
        return None
    if size not in (32, 40, 64):
        return None
    if entity is E.HASHED_EMAIL:
        return Finding(start, m.end(), E.HASHED_EMAIL, 0.85, "hashed_email_context")
    before = text[max(line_start, start - 2 * SHAPED_WINDOW) : start]
    mail = _MAIL_WORDS.search(before) or "@" in before
    if (
        mail
        and _HASH_WORDS.search(before)
        and not re.search(r"commit|file|datei|fichier|archivo", before, re.I)
    ):
        return Finding(start, m.end(), E.HASHED_EMAIL, 0.75, "hashed_email_window")
    if entity in (E.COOKIE_ID, E.DEVICE_ID, E.USER_ID):
        return Finding(start, m.end(), entity, 0.7, f"hex_{entity.value.lower()}")
    return None
