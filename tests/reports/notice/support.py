"""Reading the notice's document model back in tests: sections by anchor, lines as plain text."""

from __future__ import annotations

import json
from typing import Any

from consentgate.policy import Policy
from consentgate.policy.load import parse_policy_text
from consentgate.reports.notice.catalogue import strings
from consentgate.reports.notice.document import Block, Bullets, Heading, Line, NoticeDocument

EN = strings("en")


def policy_of(data: dict[str, Any]) -> Policy:
    return parse_policy_text(json.dumps(data))


def plain(line: Line) -> str:
    return "".join(piece.text for piece in line)


def section(doc: NoticeDocument, anchor: str) -> list[Block]:
    """The blocks after the heading ``anchor`` up to the next heading."""
    out: list[Block] = []
    inside = False
    for block in doc.blocks:
        if isinstance(block, Heading):
            if inside:
                break
            inside = block.anchor == anchor
            continue
        if inside:
            out.append(block)
    assert inside or out, f"no section {anchor!r}"
    return out


def items(blocks: list[Block]) -> list[list[str]]:
    """Each bullet item of the blocks as its lines' text; a paragraph counts as a one-line item."""
    out: list[list[str]] = []
    for block in blocks:
        if isinstance(block, Bullets):
            out += [[plain(line) for line in item] for item in block.items]
        else:
            out.append([plain(block.line)])  # type: ignore[union-attr]
    return out


def anchors(doc: NoticeDocument) -> list[str]:
    return [b.anchor for b in doc.blocks if isinstance(b, Heading)]
