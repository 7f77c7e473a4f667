"""What people see in a browser: the banner, the ``<consent-toggle>`` element, the privacy center.

The files beside this module are served as they are (``banner.js``, ``banner.css``,
``privacy-center.*``, ``i18n/*.json``, ``demo/*``); the Python here computes what the banner needs from
the policy (:mod:`consentgate.web.config`) and picks the visitor's language (:mod:`consentgate.web.i18n`).
docs/web.md is the guide.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import cache
from importlib.resources import files


@cache
def asset(*parts: str) -> bytes:
    """A file shipped in this package, e.g. ``asset("banner.js")`` or ``asset("demo", "index.html")``."""
    node = files("consentgate.web")
    for part in parts:
        node = node / part
    return node.read_bytes()


_BLOCK = re.compile(rb"^[ \t]*// only with (\w+):\n(.*?)^[ \t]*// end of \1\n", re.MULTILINE | re.DOTALL)


def keep_blocks(code: bytes, on: Collection[str]) -> bytes:
    """Script source with its optional blocks (between ``// only with NAME:`` and ``// end of NAME``
    lines) kept where ``NAME`` is in ``on`` and dropped elsewhere: code a policy setting turns on costs
    the default banner no bytes, where its gzip budget is counted (tests/web/test_assets.py)."""
    return _BLOCK.sub(lambda m: m.group(2) if m.group(1).decode() in on else b"", code)


def trim_css(code: bytes) -> bytes:
    """Stylesheet as served: without its whole-line ``/* … */`` comments — what keeps the banner
    smaller than the peers it is measured against (benchmarks/banner.py). Like :func:`trim_js`,
    nothing inside a line changes, so no string or ``url()`` can be touched.
    """
    lines = (line for line in code.decode("utf-8").splitlines())
    kept = (line for line in lines if line.strip() and not _whole_line_comment(line.strip()))
    return "\n".join(kept).encode("utf-8") + b"\n"


def _whole_line_comment(line: str) -> bool:
    return line.startswith("/*") and line.endswith("*/") and "*/" not in line[2:-2]


def trim_js(code: bytes) -> bytes:
    """Script source as served: without the leading ``/* … */`` header, whole-line ``//`` comments and
    indentation — about a sixth fewer bytes after gzip.

    Deliberately this little: nothing inside a line changes, so no string, regular expression or
    template can be touched (banner.js has no multi-line strings; tests/web/test_assets.py checks).
    """
    text = code.decode("utf-8")
    if text.startswith("/*"):
        text = text[text.index("*/") + 2 :]
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")).encode("utf-8") + b"\n"
