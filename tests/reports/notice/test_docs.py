"""docs/notice.md shows the English notice of the example policy exactly as the command renders it."""

from __future__ import annotations

import re
from pathlib import Path

from consentgate.policy import Policy
from consentgate.reports.notice import render_notice

DOC = Path(__file__).resolve().parents[3] / "docs" / "notice.md"
EXAMPLE = re.compile(r"<!-- example:start -->\n```markdown\n(.*?)```\n<!-- example:end -->", re.DOTALL)


def test_the_documented_example_is_what_the_command_renders(example_policy: Policy) -> None:
    found = EXAMPLE.search(DOC.read_text(encoding="utf-8"))
    assert found is not None, "docs/notice.md lost its example markers"
    rendered = render_notice(
        example_policy, "en", "md", privacy_center="https://consent.example.com/privacy-center"
    )
    assert found.group(1) == rendered, "regenerate the example in docs/notice.md (see the command above it)"
