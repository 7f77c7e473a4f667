"""Scaffolding every test package shares: one server launcher (``servers``), one PostgreSQL launcher
(``pg``), and the loopback port they both pick."""

from __future__ import annotations

import socket
from pathlib import Path


def free_port() -> int:
    """A loopback port free right now; whoever binds it next may lose a race, so launchers retry."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DECIDE_POLICY_PATH = Path(__file__).with_name("decide_policy.yaml")
