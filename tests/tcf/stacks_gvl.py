"""A Global Vendor List with stacks in IAB's structure (id, purposes, specialFeatures, name, description):
the shipped snapshot has none. The stacks overlap as IAB's do, so choosing among them means something;
their texts are fixtures, not IAB's."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from consentgate.web.tcf.gvl import SNAPSHOT_NAME

STACKS: dict[str, dict[str, Any]] = {
    str(s["id"]): s
    for s in (
        {
            "id": 1,
            "purposes": [],
            "specialFeatures": [1, 2],
            "name": "Fixture stack 1: precise location and device scanning",
            "description": "Fixture: location and device characteristics.",
        },
        {
            "id": 2,
            "purposes": [2, 7],
            "specialFeatures": [],
            "name": "Fixture stack 2: limited-data advertising and its measurement",
            "description": "Fixture: ads from limited data, measured.",
        },
        {
            "id": 3,
            "purposes": [2, 3, 4],
            "specialFeatures": [],
            "name": "Fixture stack 3: personalised advertising",
            "description": "Fixture: profiles for ads.",
        },
        {
            "id": 4,
            "purposes": [2, 7, 9],
            "specialFeatures": [],
            "name": "Fixture stack 4: advertising, measurement and audiences",
            "description": "Fixture: ads, measured, audiences.",
        },
        {
            "id": 5,
            "purposes": [3, 4, 5, 6],
            "specialFeatures": [],
            "name": "Fixture stack 5: personalised advertising and content",
            "description": "Fixture: profiles for ads and content.",
        },
        {
            "id": 6,
            "purposes": [8, 9, 10],
            "specialFeatures": [],
            "name": "Fixture stack 6: content measurement, audiences, development",
            "description": "Fixture: measure and improve.",
        },
        {
            "id": 7,
            "purposes": [5, 6],
            "specialFeatures": [],
            "name": "Fixture stack 7: personalised content",
            "description": "Fixture: profiles for content.",
        },
        {
            "id": 8,
            "purposes": [10, 11],
            "specialFeatures": [],
            "name": "Fixture stack 8: development and limited-data content",
            "description": "Fixture: improve, content from limited data.",
        },
        {
            "id": 9,
            "purposes": [11],
            "specialFeatures": [],
            "name": "Fixture stack 9: one purpose only",
            "description": "Fixture: a stack of one item.",
        },
    )
}
VERSION = 151  # newer than the shipped snapshot's 150


def gvl_with_stacks(
    stacks: dict[str, dict[str, Any]] | None = None, version: int = VERSION
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (files("consentgate.web.tcf") / SNAPSHOT_NAME).read_text(encoding="utf-8")
    )
    data["stacks"] = STACKS if stacks is None else stacks
    data["vendorListVersion"] = version
    return data


def serve_from(directory: Path, data: dict[str, Any] | None = None) -> Path:
    """Put a list where the service reads it (as ``consentgate tcf update-gvl`` would)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / SNAPSHOT_NAME).write_text(json.dumps(data or gvl_with_stacks()), encoding="utf-8")
    return directory
