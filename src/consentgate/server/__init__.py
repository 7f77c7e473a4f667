"""The HTTP API (FastAPI): capture, decisions, state and evidence over one consent service."""

from consentgate.server.app import create_app

__all__ = ["create_app"]
