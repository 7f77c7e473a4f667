"""The AI-training part of a privacy notice, in plain words, from the policy and the training runs.

``consentgate notice render`` and ``GET /notice`` both call :func:`render_notice`: per AI purpose,
what data feeds it, which systems it improves, the basis in each region, retention, the vendors who
receive it and whether they may train their own models; then the person's choices and requests. The
frame text is translated into every banner language (``i18n/``); the policy's own wording never is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal

from consentgate.policy import Policy
from consentgate.reports.notice.build import build_notice
from consentgate.reports.notice.document import NoticeDocument
from consentgate.reports.notice.facts import NoticeFacts, notice_facts, trained_models
from consentgate.reports.notice.render import render_html, render_markdown

__all__ = [
    "NoticeDocument",
    "NoticeFacts",
    "build_notice",
    "notice_facts",
    "render_html",
    "render_markdown",
    "render_notice",
    "trained_models",
]

NoticeFormat = Literal["md", "html"]


def render_notice(
    policy: Policy,
    locale: str,
    fmt: NoticeFormat = "md",
    *,
    trained: Mapping[str, Sequence[str]] | None = None,
    privacy_center: str | None = None,
    css_href: str | None = None,
    now: datetime | None = None,
) -> str:
    """The notice in an interface ``locale`` as Markdown or HTML (see :func:`notice_facts` for
    ``trained`` and ``privacy_center``, :func:`render_html` for ``css_href``)."""
    doc = build_notice(policy, notice_facts(policy, trained, privacy_center=privacy_center), locale, now=now)
    return render_html(doc, css_href=css_href) if fmt == "html" else render_markdown(doc)
