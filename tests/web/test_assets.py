"""What a site downloads: small, no eval, no markup from strings, and the same code that is tested.

The size budget (issue 5): banner JS + CSS at most 8 KB gzip, smaller than vanilla-cookieconsent
(15.5 KB), Osano cookieconsent (8.1 KB) and Klaro! (68.9 KB) — measured on what the server sends for
the example policy (its Consent Mode defaults compiled in), each file gzipped as a server would.
benchmarks/banner.py measures the three competitors in the same run.
"""

from __future__ import annotations

import gzip
import re

import pytest

from consentgate.policy import Policy
from consentgate.policy.models import AcceptSettings
from consentgate.server.routers.web import BOOT_MARKER, compiled_banner
from consentgate.web import asset, trim_css, trim_js

BUDGET = 8192  # bytes, gzip, JS + CSS
SCRIPTS = ("banner.js", "privacy-center.js")


def gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=9, mtime=0))


def test_banner_js_and_css_fit_the_size_budget(example_policy: Policy) -> None:
    js = compiled_banner(example_policy)
    css = trim_css(asset("banner.css"))
    total = gzipped(js) + gzipped(css)
    print(f"banner.js {gzipped(js)} B + banner.css {gzipped(css)} B = {total} B gzip (budget {BUDGET})")
    assert total <= BUDGET, f"banner JS + CSS is {total} bytes gzip; the budget is {BUDGET}"
    # The policy's options that add code (web.accept.fetch_tags_while_recording) must fit too.
    web = example_policy.web.model_copy(update={"accept": AcceptSettings(fetch_tags_while_recording=True)})
    everything = gzipped(compiled_banner(example_policy.model_copy(update={"web": web}))) + gzipped(css)
    assert everything <= BUDGET, (
        f"banner JS + CSS with every option is {everything} bytes gzip; the budget is {BUDGET}"
    )


@pytest.mark.parametrize("name", SCRIPTS)
def test_no_eval_no_html_parsing_no_inline_handlers(name: str) -> None:
    code = asset(name).decode()
    # Policy text must never be parsed as markup, and nothing may need 'unsafe-eval' or 'unsafe-inline'.
    for forbidden in ("eval(", "new Function", "innerHTML", "outerHTML", "insertAdjacentHTML",
                      "document.write", "setAttribute('on", "style=", ".style."):  # fmt: skip
        assert forbidden not in code, f"{name} uses {forbidden}"
    assert not re.search(r"setTimeout\(\s*['\"`]", code), "setTimeout with a string is eval"


def test_trimming_keeps_the_code_and_drops_only_comments_and_indentation() -> None:
    source = asset("banner.js").decode()
    trimmed = trim_js(asset("banner.js")).decode()
    assert BOOT_MARKER.decode() in trimmed
    assert "//" not in "".join(line for line in trimmed.splitlines() if line.startswith("//"))
    code_lines = [
        line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("//")
    ]
    assert trimmed.splitlines()[0] == code_lines[code_lines.index("((B) => {")]
    assert "`" not in source, "no template literals: trimming could change a multi-line one"


def test_the_stylesheet_loses_only_its_whole_line_comments() -> None:
    source = asset("banner.css").decode()
    served = trim_css(asset("banner.css")).decode()
    assert "/*" not in served
    assert "*/" not in served
    rules = [line for line in source.splitlines() if line.strip() and not line.lstrip().startswith("/*")]
    assert served.splitlines() == rules
    # A comment that shares its line with a rule stays (the rule must not be cut).
    assert trim_css(b"/* a */\n.x{color:red} /* b */\n") == b".x{color:red} /* b */\n"
