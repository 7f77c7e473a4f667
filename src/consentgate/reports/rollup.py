"""The consent-rate tally the reports answer from (first version: a full recomputation each time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from consentgate.policy import Policy
from consentgate.reports import replay
from consentgate.reports.persons import Tally
from consentgate.store.engine import Engine


def tally(engine: Engine, policy: Policy, instants: Sequence[datetime]) -> Tally:
    return replay.tally(engine, policy, instants)
