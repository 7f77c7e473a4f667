"""Google's Additional Consent string (specification version 2, ``2~consented~dv.refused``) as the ledger
reads it: which Google Ad Tech Providers it consents to, which it says were disclosed and refused, and
why the service could not have written it (docs/tcf.md, "What the ledger checks").

A recorded AC string is evidence that a person consented to, or refused, each provider it names; the
ledger takes one only if it names exactly the providers the banner disclosed (``web.tcf.google_ac_vendors``),
each once, in the way the banner's choice allows.
"""

from __future__ import annotations

from dataclasses import dataclass

from consentgate.errors import BadInput
from consentgate.ledger.tcstring import TcfIssuer


@dataclass(frozen=True)
class AcChoices:
    consented: frozenset[int]
    refused: frozenset[int]  # the ``dv.`` part: disclosed, not consented


def parse_ac(text: str) -> AcChoices:
    """The two lists of an AC string; :class:`BadInput` saying what is wrong when it is not one."""
    head, sep, rest = text.partition("~")
    given, sep2, disclosed = rest.partition("~")
    if head != "2" or not sep or not sep2 or not disclosed.startswith("dv."):
        raise BadInput("is not an Additional Consent string of specification version 2 (2~ids~dv.ids)")
    consented, refused = _ids(given), _ids(disclosed[3:])
    twice = sorted({i for i in consented + refused if (consented + refused).count(i) > 1})
    if twice:
        raise BadInput(f"names providers {_listed(twice)} more than once (consented and refused at once?)")
    return AcChoices(frozenset(consented), frozenset(refused))


def _ids(part: str) -> list[int]:
    if not part:
        return []
    pieces = part.split(".")
    if not all(p.isascii() and p.isdigit() and int(p) >= 1 for p in pieces):
        raise BadInput(f"has {part!r} where provider ids 1 and up, joined by '.', belong")
    return [int(p) for p in pieces]


def _listed(ids: list[int] | set[int] | frozenset[int]) -> str:
    return ", ".join(map(str, sorted(ids)))


def ac_string_problems(text: str, issuer: TcfIssuer, choice: object) -> list[str]:
    """Why the service could not have written this AC string for this choice (empty: it could have).

    Imported strings were written under the settings of their day, so only their shape is checked;
    live capture must match this policy's providers exactly.
    """
    try:
        ac = parse_ac(text)
    except BadInput as exc:
        return [exc.message]
    if not issuer.live:
        return []
    problems = []
    disclosed = set(issuer.settings.ac_vendor_ids())
    named = ac.consented | ac.refused
    if extra := named - disclosed:
        problems.append(
            f"names providers {_listed(extra)}, which web.tcf.google_ac_vendors does not list, so the banner "
            "never asked about them"
        )
    if missing := disclosed - named:
        problems.append(
            f"leaves out providers {_listed(missing)} of web.tcf.google_ac_vendors; the service names every "
            "provider the banner disclosed"
        )
    if choice == "accept_all" and ac.refused:
        problems.append(f"comes with banner_choice accept_all but refuses providers {_listed(ac.refused)}")
    if choice == "reject_all" and ac.consented:
        problems.append(
            f"comes with banner_choice reject_all but consents to providers {_listed(ac.consented)}"
        )
    return problems
