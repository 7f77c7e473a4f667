"""Starting Chromium for a scan: Debian's build through Playwright, one fresh profile per phase.

Each phase gets its own persistent profile in a temporary directory rather than an incognito-like
context: Chromium blocks third-party cookies in off-the-record profiles, and the scan must see what
vendors set, so the profile's ``cookie_controls_mode`` is written as "allow" before start-up.
Cookies the browser still refuses (``SameSite`` rules on plain HTTP) are read from the
``Set-Cookie`` headers instead (see observe.py).

The scan presents as an ordinary browser: ``--disable-blink-features=AutomationControlled`` keeps
``navigator.webdriver`` false and the user agent names Chrome, not "HeadlessChrome". Consent
platforms hide their banner from automated browsers (vanilla-cookieconsent's ``hideFromBots`` is on
by default), and a scan that never sees the banner cannot test a choice.

Site isolation is switched off so that cross-site iframes stay in the page's own target: one
DevTools session per tab then sees the requests of every frame in it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from consentgate.errors import BadInput

DEFAULT_CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-blink-features=AutomationControlled",
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
)
INSTALL_HINT = "pip install 'consentgate[scan]'"


def require_playwright() -> Any:
    """The ``playwright.async_api`` module, or an error that says how to install it."""
    try:
        from playwright import async_api
    except ImportError:
        raise BadInput(f"the website scanner needs Playwright: {INSTALL_HINT}") from None
    return async_api


def chromium_path(explicit: str | None = None) -> str:
    path = explicit or os.environ.get("CONSENTGATE_CHROMIUM") or DEFAULT_CHROMIUM
    found = shutil.which(path) if not os.path.isabs(path) else path
    if not found or not os.path.exists(found):
        raise BadInput(
            f"Chromium not found at {path}; install Debian's `chromium` package "
            "(scripts/system-deps.sh does) or pass --chromium PATH (env CONSENTGATE_CHROMIUM)"
        )
    return found


def user_agent(executable: str) -> str:
    """The user agent desktop Chrome on Linux sends, for this Chromium's major version.

    Chrome's reduced user agent carries only the major version (``Chrome/131.0.0.0``), so nothing
    more is needed to look ordinary; headless mode would otherwise say ``HeadlessChrome``.
    """
    try:
        out = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    m = re.search(r"(\d+)\.\d+\.\d+\.\d+", out)
    major = m.group(1) if m else "131"
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


def resolver_rules(resolve: dict[str, str]) -> str | None:
    """``{"shop.test": "127.0.0.1:8001"}`` → ``MAP shop.test 127.0.0.1:8001`` for Chromium's resolver."""
    if not resolve:
        return None
    return ", ".join(f"MAP {host} {target}" for host, target in resolve.items())


def prepare_profile(directory: Path) -> None:
    """A new profile that accepts third-party cookies (Chromium's default blocks them in some modes)."""
    default = directory / "Default"
    default.mkdir(parents=True, exist_ok=True)
    prefs = {"profile": {"cookie_controls_mode": 0, "block_third_party_cookies": False}}
    (default / "Preferences").write_text(json.dumps(prefs), encoding="utf-8")


def launch_args(resolve: dict[str, str]) -> list[str]:
    args = list(BASE_ARGS)
    rules = resolver_rules(resolve)
    if rules:
        args.append(f"--host-resolver-rules={rules}")
    return args
