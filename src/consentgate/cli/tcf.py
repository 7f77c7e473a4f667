"""``consentgate tcf``: the IAB Global Vendor List the service hosts for the TCF banner."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from consentgate.cli._shared import env_of
from consentgate.errors import BadInput, ConsentgateError

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
    newer list. Vendors and restrictions of the policy's web.tcf the new list cannot carry out are
    named in warnings. Stored in the tcf_gvl_dir setting (default ~/.local/share/consentgate/tcf/); a
    running service picks it up with its next request.

    Example:

        consentgate tcf update-gvl vendor-list.json
    """
    from consentgate.web.tcf.gvl import current_gvl, gvl_dir, store_gvl
    from consentgate.web.tcf.signals import policy_gaps

    env = env_of(ctx)
    directory = gvl_dir(env.settings.tcf_gvl_dir)
    before = current_gvl(directory)
    if re.match(r"^https?://", source):
        from consentgate.scan.update import fetch

        text: str | bytes = fetch(source)
    else:
        try:
            text = Path(source).read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {source}: {exc.strerror or exc}") from exc
    new = store_gvl(text, source, directory)
    env.out.print(
        Text(
            f"vendorListVersion {new.vendorListVersion} (tcfPolicyVersion {new.tcfPolicyVersion}, "
            f"{len(new.active_vendor_ids())} vendors) stored in {directory}; "
            f"it replaces {before.vendorListVersion}"
        )
    )
    try:
        tcf = env.policy().web.tcf
    except ConsentgateError as exc:
        env.note(
            f"warning: the policy's web.tcf was not checked against the new list: {exc.message}", "yellow"
        )
        return
    for gap in policy_gaps(tcf, new):
        env.note(f"warning: {gap}", style="yellow")


tcf_app.command("update-gvl")(update_gvl)
