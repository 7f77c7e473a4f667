"""The risk page links each source and vendor it names to its row on the data map, where the person
reads what the policy declares for it; every link lands on a row that exists."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.console.conftest import sign_in


def test_every_risk_link_lands_on_a_data_map_row(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    sign_in(console_client, console_keys["audit"])
    risk = console_client.get("/console/risk").text
    datamap = console_client.get("/console/data-map").text
    targets = re.findall(r'href="/console/data-map#([^"]+)"', risk)
    rows = set(re.findall(r'<tr id="([^"]+)"', datamap))
    # The example policy: AI purposes fed by its personal sources, and a vendor that self-trains.
    assert "vendor-example-labelling" in targets
    assert {"source-support-chats", "source-feedback-forms"} <= set(targets)
    assert set(targets) <= rows
