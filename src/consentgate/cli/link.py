"""``link``: two identifiers of one person, so choices made under either count for both."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from consentgate.cli._shared import env_of


class AliasKind(StrEnum):
    """``consentgate.auth.identity.ALIAS_KINDS`` as choices for ``--kind`` (a test keeps the two equal)."""

    COOKIE_ID = "cookie_id"
    DEVICE_ID = "device_id"
    EMAIL_HASH = "email_hash"
    ACCOUNT_ID = "account_id"
    VISITOR_ID = "visitor_id"
    SHARED_DOMAIN = "shared_domain"
    OTHER = "other"


def link(
    ctx: typer.Context,
    alias: Annotated[
        str,
        typer.Option(
            metavar="ALIAS", help="Another identifier of the same person, e.g. `--alias cookie-9f2c1a`."
        ),
    ],
    subject: Annotated[
        str, typer.Option(metavar="SUBJECT", help="The identifier it belongs to, e.g. `--subject user-42`.")
    ],
    kind: Annotated[
        AliasKind,
        typer.Option(help="What the alias is, e.g. `--kind cookie_id` when a banner visitor logs in."),
    ] = AliasKind.OTHER,
) -> None:
    """Record that two identifiers are one person, so choices made under either count for both.

    Example:

        consentgate link --alias cookie-9f2c1a --subject user-42 --kind cookie_id
    """
    env = env_of(ctx)
    created = env.service(appends=True).link(alias, subject, kind.value)
    if created:
        env.out.print(f"linked {alias} ({kind.value}) to {subject}")
    else:
        env.out.print(f"{alias} was already linked to {subject}")
