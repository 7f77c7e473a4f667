"""Publisher rights reservations on crawled origins, as answers of the AI Act summary (2.3, 3.1).

PROVISIONAL (branch ``aiact``): the ``tdm`` branch builds ``consentgate signals check`` and the real
version of this module, which reads the reservations it recorded; the lead takes that one at the
merge. Until then nothing has been checked, so both answers say so — never a claim that an origin
reserved nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consentgate.store.engine import Engine


def rights_fields(engine: Engine | None, origins: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Field objects for ``reservations_checked`` and ``reservations_honoured`` over ``origins``."""
    del engine
    listed = ", ".join(origins) if origins else "the crawled sources' origins"
    checked = f"record what each origin reserves with `consentgate signals check` ({listed})"
    return {
        "reservations_checked": {"value": None, "provenance": "to_be_completed", "from": checked},
        "reservations_honoured": {
            "value": None,
            "provenance": "to_be_completed",
            "from": f"how the reservations of {listed} were honoured, once they are recorded",
        },
    }
