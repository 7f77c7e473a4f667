"""The reports package's fixtures: Chromium for the audit pack, one per package (tests/browser.py says
why a browser fixture is imported here and not into a test module)."""

from tests.browser import browser as browser  # the fixture, re-exported
