"""The EU AI Act public summary of training content for one model (Art. 53(1)(d)), built from the
training runs, their datasets and the policy, with a provider's answers file for the rest.

``build_summary`` → :class:`Summary` (``to_json()``, ``open``); ``render_markdown`` and
``render_html``; ``load_answers`` reads the answers file. docs/aiact.md describes every answer.
"""

from __future__ import annotations

from consentgate.reports.aiact.answers import DEFAULT_NAME, load_answers
from consentgate.reports.aiact.build import Summary, build_summary
from consentgate.reports.aiact.fields import LAYOUT, TEMPLATE, Field
from consentgate.reports.aiact.render import render_html, render_markdown

__all__ = [
    "DEFAULT_NAME",
    "LAYOUT",
    "TEMPLATE",
    "Field",
    "Summary",
    "build_summary",
    "load_answers",
    "render_html",
    "render_markdown",
]
