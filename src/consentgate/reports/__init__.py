"""Reports for the people who run a consent programme: consent rates by purpose, region and time.

``rates`` holds the public entry point (:func:`~consentgate.reports.rates.consent_rates`) and the
report's value types; docs/reports.md defines every figure. SQL stays in ``store/``; decisions come
from the pure :mod:`consentgate.decide`.
"""

from __future__ import annotations

from consentgate.reports.rates import Interval, RateReport, RateRow, Series, consent_rates
from consentgate.store.rates import GROUPINGS

__all__ = ["GROUPINGS", "Interval", "RateReport", "RateRow", "Series", "consent_rates"]
