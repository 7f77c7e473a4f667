"""A website per test, on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .site import Site, serve


@pytest.fixture
def site() -> Iterator[Site]:
    with serve() as s:
        yield s
