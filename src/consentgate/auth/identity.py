"""Identifiers that belong to one person: cookie ids, device ids, email hashes, account ids.

Links form an undirected graph; a person is a connected component. Linking a banner's cookie id to
an account at login therefore makes the anonymous choice follow the person, and the reverse. The
links are stored, and a person's component found, by ``store/aliases.py`` (re-exported here); this
module holds the rules a link must follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consentgate.errors import BadInput
from consentgate.ledger.intake import control_chars_problem
from consentgate.store import aliases
from consentgate.store.aliases import aliases_of, people, person

if TYPE_CHECKING:
    from consentgate.ledger.signing import Signer
    from consentgate.store.engine import Engine

__all__ = ["ALIAS_KINDS", "aliases_of", "link", "people", "person"]

ALIAS_KINDS = ("cookie_id", "device_id", "email_hash", "account_id", "visitor_id", "shared_domain", "other")


def link(
    engine: Engine, alias: str, subject: str, kind: str = "other", *, signer: Signer | None = None
) -> bool:
    """Record that ``alias`` identifies the same person as ``subject``. Returns False if already linked.

    Links change decisions (a person's choices follow every linked identifier), so each one is also
    a ``link`` record in the ledger's record chain, sealed with ``signer``: a row added to
    ``aliases`` behind the service's back fails ``ledger verify``."""
    if kind not in ALIAS_KINDS:
        raise BadInput(f"alias kind {kind!r} is not one of {', '.join(ALIAS_KINDS)}")
    if not alias or not subject or len(alias) > 256 or len(subject) > 256:
        raise BadInput("alias and subject must be non-empty identifiers of at most 256 characters")
    if alias == subject:
        raise BadInput("an identifier cannot be an alias of itself")
    for name, value in (("alias", alias), ("subject", subject)):
        if (problem := control_chars_problem(value)) is not None:
            raise BadInput(f"{name} {problem}")
    return aliases.add_link(engine, alias, subject, kind, signer=signer)
