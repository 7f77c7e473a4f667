"""``consentgate tcf``: the IAB Global Vendor List the service hosts for the TCF banner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput, Conflict, ConsentgateError, PolicyError
from consentgate.policy.tcf import TcfSettings

tcf_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode="markdown",
    help="IAB TCF v2.3: the Global Vendor List the service serves (docs/tcf.md).",
)


def update_gvl(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|URL",
            help="A vendor-list.json file, or its http(s) address, e.g. "
            "`https://vendor-list.consensu.org/v3/vendor-list.json`.",
        ),
    ],
) -> None:
    """Check a Global Vendor List and serve it from now on, if it is newer than the one served.

    An older or equal vendorListVersion is refused (exit 1): TC strings already written name the
    newer list; so is a list the policy's web.tcf.stacks do not fit (docs/tcf.md, "Stacks"). Vendors
    and restrictions of the policy's web.tcf the new list cannot carry out are named in warnings; a
    change in the purposes the TCF layers show (and Accept all consents to) is said. The list replaced
    is kept beside it, so the ledger can still check strings written against it.
    Stored in the tcf_gvl_dir setting (default ~/.local/share/consentgate/tcf/); a running service
    picks it up with its next request.

    Example:

        consentgate tcf update-gvl vendor-list.json
    """
    from consentgate.web.tcf.gvl import current_gvl, gvl_dir, parse_gvl, store_gvl
    from consentgate.web.tcf.signals import policy_gaps
    from consentgate.web.tcf.stacks import shown_stacks
    from consentgate.web.tcf.used import used

    env = env_of(ctx)
    directory = gvl_dir(env.settings.tcf_gvl_dir)
    before = current_gvl(directory)
    text = _read(source)
    try:
        tcf: TcfSettings | None = env.policy().web.tcf
    except ConsentgateError as exc:
        tcf, unchecked = None, exc.message
    if tcf is not None and tcf.enabled:
        try:  # the banner's first layer must still be able to show the policy's stacks
            shown_stacks(tcf, parse_gvl(text, source))
        except PolicyError as exc:
            raise Conflict(
                f"{source} was not stored: {exc.message}. Change web.tcf.stacks first (auto, or stacks "
                "both lists have), restart the service, then update again"
            ) from None
    new = store_gvl(text, source, directory)
    env.out.print(
        Text(
            f"vendorListVersion {new.vendorListVersion} (tcfPolicyVersion {new.tcfPolicyVersion}, "
            f"{len(new.active_vendor_ids())} vendors) stored in {directory}; "
            f"it replaces {before.vendorListVersion}"
        )
    )
    if tcf is None:
        env.note(f"warning: the policy's web.tcf was not checked against the new list: {unchecked}", "yellow")
        return
    for gap in policy_gaps(tcf, new):
        env.note(f"warning: {gap}", style="yellow")
    if tcf.enabled and (was := used(tcf, before).choices()) != (now := used(tcf, new).choices()):
        # what the layers show, and so what Accept all consents to, follows the vendors' declarations
        env.out.print(Text(f"the TCF layers now show, and Accept all consents to, {now} (before: {was})"))


tcf_app.command("update-gvl")(update_gvl)


def add_translation(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE|URL",
            help="IAB's translation of the GVL's texts, e.g. "
            "`https://vendor-list.consensu.org/v3/purpose-translations/purposes-de.json`.",
        ),
    ],
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            help="Its two-letter language (ISO 639-1), e.g. de; by default from the file's name "
            "(purposes-de.json).",
        ),
    ] = None,
) -> None:
    """Show the TCF layers' purposes, features and data categories in a language, from IAB's own
    translation of the served GVL (TCF requires IAB's texts, so consentgate never writes its own).

    Refused (exit 1) when a purpose, special feature or stack of the list served has no translated
    name, or the translation is for another tcfPolicyVersion. Without a translation for a visitor's language
    the layers show the GVL's English texts, and TC strings say ConsentLanguage EN.

    Example:

        consentgate tcf add-translation purposes-de.json
    """
    from consentgate.web.tcf.gvl import gvl_dir, store_translation

    env = env_of(ctx)
    directory = gvl_dir(env.settings.tcf_gvl_dir)
    named = re.search(r"purposes-([A-Za-z]{2})\.json$", source)
    chosen = language or (named.group(1) if named else None)
    if chosen is None:
        raise BadInput(f"cannot tell the language of {source}: pass --language, e.g. --language de")
    text = _read(source)
    kept = store_translation(text, source, chosen, directory)
    stacks = f" and {len(kept['stacks'])} stacks" if kept.get("stacks") else ""
    env.out.print(
        Text(f"{chosen.lower()}: {len(kept['purposes'])} purposes{stacks} translated, stored in {directory}")
    )


tcf_app.command("add-translation")(add_translation)


def _read(source: str) -> str | bytes:
    """A file, or an http(s) address fetched as the scanner fetches its updates."""
    if re.match(r"^https?://", source):
        from consentgate.scan.update import fetch

        return fetch(source)
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from exc
