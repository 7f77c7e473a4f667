"""People's names: gazetteers plus the context rules each language writes names in.

A run of capitalised words is a name when one of these holds, strongest first:
- a title stands before it (Mr, Frau, Mme, Sra.) — any capitalised word then is a surname;
- a phrase introduces it ("my name is", "ich heiße", "je m'appelle", "me llamo", "Name:", a sign-off);
- it starts with a known first name followed by a known surname or another capitalised word;
- it is a known first name after a greeting ("Hi Anna", "Hallo Jonas", "Hola Lucía");
- it is written surname-first with a comma ("Schmidt, Anna").
A known first name alone also counts, with a low score, unless it is also an everyday word
(Will, May, Grant) or a place (Paris). Capitalised words inside e-mail addresses, URLs and street
addresses are never names; the scanner passes those spans in as blocked.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from functools import lru_cache

from consentgate.classify.addresses import street_vocabulary
from consentgate.classify.context import GREET, INTRO, ContextIndex
from consentgate.classify.findings import EntityType, Finding
from consentgate.classify.gazetteer import Gazetteer, fold, gazetteer
from consentgate.classify.lexicon import NAME_PARTICLES, NOT_NAMES, TITLES

UP = "A-ZÀ-ÖØ-ÞŒŠŽ"
TOKEN = re.compile(
    rf"(?<![\w@/.:#-])(?:[{UP}][^\W\d_]*(?:['’-][^\W\d_]+)*|(?:Mc|Mac|O['’]|D['’])[{UP}][^\W\d_]+)"
)
_PARTICLES = "|".join(sorted(NAME_PARTICLES, key=len, reverse=True))
GAP = re.compile(rf"^(?:\.?[ \u00a0](?:(?:{_PARTICLES})[ \u00a0])*|\.)$")
_TITLES = {t.rstrip(".") for t in TITLES}
_NOT = {fold(w) for w in NOT_NAMES}
_STRONG_INTROS = frozenset(
    """my name is|my name's|name:|full name:|customer name:|contact person:|signed,|signed:|
    account holder:|cardholder:|card holder:|recipient:|attn:|attn.|c/o|regards,|best regards,|
    kind regards,|thanks,|thank you,|cheers,|best,|sincerely,|yours,|mein name ist|ich heiße|ich heisse|
    vorname:|nachname:|ansprechpartner:|ansprechpartnerin:|kontoinhaber:|kontoinhaberin:|empfänger:|
    mit freundlichen grüßen|mit freundlichen grüssen|viele grüße|beste grüße|grüße|lg|vg|mfg|gruß|
    je m'appelle|je m’appelle|mon nom est|nom :|nom:|prénom :|prénom:|nom et prénom :|titulaire :|
    titulaire du compte :|destinataire :|cordialement,|cordialement|bien à vous,|bien cordialement,|
    me llamo|mi nombre es|nombre:|nombre y apellidos:|apellidos:|titular:|destinatario:|saludos,|
    saludos|un saludo,|atentamente,|atentamente|from:|von:|de :|de:|danke,|merci,|gracias,|
    contacto:|contact :|kontakt:|holder|account holder|titular|titulaire|kontoinhaber|inhaber|inhaberin|
    kontoinhaberin|name was|named|her name is|his name is|name is|hieß|heißt|namens|s'appelait|s'appelle|
    nommé|nommée|se llamaba|se llama|llamado|llamada|note from|notiz von|note de|nota de|message from|
    nachricht von|message de|mensaje de""".replace("\n", "")
    .replace("    ", "")
    .split("|")
)
MAX_NAME_TOKENS = 4
_ELISION = re.compile(r"^(?:[LDJNSC]|Qu)['’][^\W\d_A-Z]")
# Form labels: "Name (optional): ", "Nom complet : ", "Nombre completo:", "Vor- und Nachname:".
_NAME_LABEL = re.compile(
    r"(?i:\b(?:name|full name|first name|last name|surname|nom|prénom|nom complet|nombre|apellidos?|"
    r"vorname|nachname|vor- und nachname|nombre completo|contact|kontakt))\b[^:\n]{0,16}:[ \t]*$"
)
_LOWER_TITLE = re.compile(r"\b(?:don|doña|señor|señora|señorita|monsieur|madame|mademoiselle)\s$")


class _Tok:
    __slots__ = ("end", "first", "key", "last", "start", "word")

    def __init__(self, m: re.Match[str], g: Gazetteer) -> None:
        self.start, self.end = m.span()
        self.word = m.group()
        self.key, self.first, self.last = _lookup(self.word, g)


@lru_cache(maxsize=65536)
def _lookup(word: str, g: Gazetteer) -> tuple[str, bool, bool]:
    key = fold(word)
    if _ELISION.match(word) or key.endswith(("team", "-service", "-support")):
        key = "the"  # "L'équipe", "Datenschutz-Team": never a name
    return key, g.is_first(word), g.is_last(word)


def persons(
    text: str,
    ctx: ContextIndex,
    blocked: Sequence[tuple[int, int]] = (),
    evidence: frozenset[str] = frozenset(),
) -> Iterator[Finding]:
    """Names in ``text``; ``evidence`` holds folded words seen in the text's e-mail addresses
    (``grace.ashworth@…`` makes "Grace Ashworth" a name even where the gazetteer does not know it)."""
    g = gazetteer()
    starts = [s for s, _ in blocked]
    toks = [_Tok(m, g) for m in TOKEN.finditer(text) if not _inside(m.start(), m.end(), blocked, starts)]
    names: list[tuple[int, int]] = []
    i, n = 0, len(toks)
    while i < n:
        chain = [toks[i]]
        j = i
        while j + 1 < n and len(chain) < MAX_NAME_TOKENS + 2:
            gap = text[toks[j].end : toks[j + 1].start]
            if not GAP.match(gap):
                break
            if gap.startswith(".") and not (len(toks[j].word) == 1 or toks[j].word in _TITLES):
                break
            chain.append(toks[j + 1])
            j += 1
        found = _judge(text, ctx, chain, g, evidence)
        if found is not None:
            names.append((found.start, found.end))
            yield found
            # Continue after the name; tokens of the chain beyond it may start another name.
            while i < n and toks[i].start < found.end:
                i += 1
        else:
            i += 1
    yield from _labelled(text, [*blocked, *names])
    yield from _lowercase_intro(text, g, [*blocked, *names])


_LABEL_FIELD = re.compile(
    r"^[ \t]*(?i:full[ _]name|name|customer[ _]name|nom(?: complet)?|prénom|nom et prénom|nombre"
    r"(?: completo| y apellidos)?|apellidos|vor- und nachname|vorname|nachname)[ \t]*:[ \t]*"
    r"(?P<v>[^\W\d_]{2,}(?:[ '’-][^\W\d_]{2,}){0,3})[ \t]*(?=$|[,;|])",
    re.M,
)


def _labelled(text: str, taken: Sequence[tuple[int, int]]) -> Iterator[Finding]:
    """Form fields at the start of a line ("name: anna schmidt"): whatever the case, the value is a name."""
    if ":" not in text:
        return
    for m in _LABEL_FIELD.finditer(text):
        start, end = m.span("v")
        if any(s < end and start < e for s, e in taken):
            continue
        if all(fold(w) in _NOT for w in re.split(r"[ '’-]", m.group("v"))):
            continue
        yield Finding(start, end, EntityType.PERSON, 0.7, "person_form_field")


_LOWER_INTRO = re.compile(
    r"(?i:\b(?:my name is|my name's|je m['’]appelle|mon nom est|me llamo|mi nombre es|ich heiße|ich heisse|"
    r"mein name ist)) (?P<v>[a-zà-öø-ÿ][^\W\d_]+(?: [a-zà-öø-ÿ][^\W\d_]+){0,2})"
)


def _lowercase_intro(text: str, g: Gazetteer, taken: Sequence[tuple[int, int]]) -> Iterator[Finding]:
    """Chat typed in lower case: "my name is anna schmidt". The words must be known names."""
    for m in _LOWER_INTRO.finditer(text):
        words = m.group("v").split(" ")
        kept = []
        for k, w in enumerate(words):
            if (g.is_first(w) if k == 0 else g.is_last(w) or g.is_first(w)) and fold(w) not in _NOT:
                kept.append(w)
            else:
                break
        if not kept:
            continue
        start = m.start("v")
        end = start + len(" ".join(kept))
        if not any(s < end and start < e for s, e in taken):
            yield Finding(start, end, EntityType.PERSON, 0.7, "person_intro_lowercase")


def _inside(start: int, end: int, blocked: Sequence[tuple[int, int]], starts: list[int]) -> bool:
    k = bisect_right(starts, start) - 1
    return (k >= 0 and blocked[k][1] > start) or (k + 1 < len(blocked) and blocked[k + 1][0] < end)


def _judge(
    text: str, ctx: ContextIndex, chain: list[_Tok], g: Gazetteer, evidence: frozenset[str]
) -> Finding | None:
    # Leading titles: "Frau Dr. Schmidt", "Mme Dupont", and lower-case "don", "doña", "señora".
    titled = _LOWER_TITLE.search(text, max(0, chain[0].start - 12), chain[0].start) is not None
    while chain and chain[0].word in _TITLES and len(chain) > 1:
        # "M." and "D." are titles only with their dot; "Don" / "Me" only before a capitalised word.
        word = chain[0].word
        if (
            word in ("M", "D", "Fr", "Hr", "Sr", "Sra", "Srta", "Dña")
            and text[chain[0].end : chain[0].end + 1] != "."
        ):
            break
        titled = True
        chain = chain[1:]
    names = _name_tokens(chain, titled)
    if not names:
        return None
    following = chain[len(names) : len(names) + 1]
    if following and following[0].key in _NOT and text[names[-1].end : following[0].start] == " ":
        return None  # "Release Team", "Anna Support" are not people
    first, rest = names[0], names[1:]
    start, end = first.start, names[-1].end
    if titled:
        return Finding(start, end, EntityType.PERSON, 0.85, "person_title")
    intro = _intro(text, ctx, first.start)
    if intro == "strong":
        return Finding(start, end, EntityType.PERSON, 0.8, "person_intro")
    if len(first.word) == 1 and not any(t.last or t.key in evidence for t in rest):
        return None  # "J. Smith" needs a known surname
    if evidence and rest and first.key in evidence and any(t.key in evidence for t in rest):
        return Finding(start, end, EntityType.PERSON, 0.8, "person_email_evidence")
    known_first = first.first and first.key not in g.ambiguous
    if rest and first.key in g.ambiguous and _street_word(rest[-1].word):
        return None  # "Mark Lane", "Grant Street": a street, not a person
    if rest:
        if first.first and any(t.last for t in rest):
            return Finding(start, end, EntityType.PERSON, 0.85, "person_first_last")
        if known_first and _surname_like(rest[0]):
            return Finding(start, end, EntityType.PERSON, 0.7, "person_first_unknown")
        if intro and (known_first or first.last):
            return Finding(start, end, EntityType.PERSON, 0.75, "person_intro_weak")
        if first.last and len(rest) >= 1 and all(t.last for t in rest) and intro:
            return Finding(start, end, EntityType.PERSON, 0.7, "person_surnames")
    inverted = _inverted(text, first, g)
    if inverted is not None:
        return inverted
    if first.word.isupper():
        return None  # a lone word in capitals is an acronym (IBAN), not a name
    if intro == "greet" and not rest and _ends_address(text, first.end) and first.word not in _TITLES:
        return Finding(start, first.end, EntityType.PERSON, 0.6, "person_greeting")
    if intro and (known_first or (intro == "weak" and first.last)):
        end = names[0].end if not rest else end
        return Finding(
            start, end, EntityType.PERSON, 0.7, "person_greeting" if intro == "greet" else "person_intro_weak"
        )
    if not rest and g.is_primary_first(first.word) and _standalone(text, first):
        return Finding(first.start, first.end, EntityType.PERSON, 0.45, "person_first_name")
    return None


def _name_tokens(chain: list[_Tok], titled: bool) -> list[_Tok]:
    out: list[_Tok] = []
    for k, t in enumerate(chain):
        particle = t.key in NAME_PARTICLES and k + 1 < len(chain) and (out or titled)
        if not particle and (
            t.key in _NOT
            or (t.word in _TITLES and not titled and k == 0)
            or (t.word.isupper() and len(t.word) > 1 and not (t.first or t.last))
        ):
            break
        out.append(t)
        if len(out) == MAX_NAME_TOKENS:
            break
    while out and (len(out[-1].word) == 1 or out[-1].key in NAME_PARTICLES):
        out.pop()
    return out


def _street_word(word: str) -> bool:
    return word in street_vocabulary()["en"] or word.lower() in _STREET_WORDS_LOWER


_STREET_WORDS_LOWER = frozenset({"straße", "strasse", "weg", "gasse", "allee", "platz", "rue", "calle"})


def _ends_address(text: str, pos: int) -> bool:
    """ "Hi Mei," / "Hola Itziar!" / "Dear Kwame\n": the greeting's name ends at punctuation."""
    nxt = text[pos : pos + 1]
    return nxt in ("", ",", "!", "\n", ":", ";", "?", ".")


def _surname_like(t: _Tok) -> bool:
    return len(t.word) >= 2 and not t.word.isupper() and t.key not in _NOT


def _intro(text: str, ctx: ContextIndex, pos: int) -> str | None:
    """ "strong", "weak", "greet" or None: what introduces the capitalised words at ``pos``."""
    if _NAME_LABEL.search(text, max(0, pos - 30), pos):
        return "strong"
    best: str | None = None
    for h in reversed(ctx.before(pos, 40)):
        if h.kind not in (INTRO, GREET):
            continue
        gap = text[h.end : pos]
        if gap.strip(" \t\n,:;!-–—\u00a0") or gap.count("\n") > 1:
            continue
        if h.kind == GREET:
            best = best or "greet"
            continue
        if h.phrase in _STRONG_INTROS:
            return "strong"
        best = "weak" if best in (None, "greet") else best
    return best


def _inverted(text: str, first: _Tok, g: Gazetteer) -> Finding | None:
    """ "Schmidt, Anna": a surname, a comma, a known first name."""
    m = re.match(rf",\s?([{UP}][^\W\d_]+(?:-[{UP}][^\W\d_]+)?)", text[first.end : first.end + 40])
    if m is None or not first.last:
        return None
    given = m.group(1)
    if g.is_first(given) and not g.is_ambiguous(given):
        return Finding(first.start, first.end + m.end(1), EntityType.PERSON, 0.7, "person_inverted")
    return None


_DETERMINERS = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "your",
        "our",
        "his",
        "her",
        "their",
        "this",
        "that",
        "der",
        "die",
        "das",
        "den",
        "dem",
        "des",
        "ein",
        "eine",
        "einen",
        "mein",
        "meine",
        "dein",
        "deine",
        "unser",
        "unsere",
        "ihr",
        "ihre",
        "le",
        "la",
        "les",
        "un",
        "une",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "son",
        "sa",
        "notre",
        "votre",
        "el",
        "los",
        "las",
        "una",
        "mi",
        "mis",
        "tu",
        "su",
        "sus",
        "nuestro",
        "nuestra",
    ]
)
_PREV_WORD = re.compile(r"([^\W\d_]+)[^\w\n]*$")


def _standalone(text: str, tok: _Tok) -> bool:
    """A lone first name counts inside a sentence, not at its start (where every word is capitalised),
    not after an article or possessive ("my Nova"), and not before a number ("Mate 40")."""
    before = text[max(0, tok.start - 24) : tok.start]
    stripped = before.rstrip(" \t\"'(")
    if not stripped or stripped.endswith(("\n", ".", "!", "?", ":", "¡", "¿", "-", "–", "|")):
        return False
    m = _PREV_WORD.search(stripped)
    if m is not None and m.group(1).lower() in _DETERMINERS:
        return False
    return not re.match(r"\s?\d", text[tok.end : tok.end + 2])
