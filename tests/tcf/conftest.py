"""A policy with ``web.tcf`` enabled (the example policy plus TCF settings), and the app serving it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI

from consentgate.ledger.store import Ledger
from consentgate.policy.load import _PolicyYamlLoader
from consentgate.server import create_app
from consentgate.settings import Settings

TCF = {
    "enabled": True,
    "cmp_id": 300,
    "cmp_version": 4,
    "publisher_cc": "DE",
    "vendors": [1, 2, 3, 4, 8, 25, 755],
    "legitimate_interest_purposes": [2, 7, 8, 10],
    "restrictions": [{"purpose": 2, "type": "require_consent", "vendors": [755]}],
    # one provider by id alone, one with the words Google's ATP list gives (fictional here)
    "google_ac_vendors": [
        89,
        {"id": 1301, "name": "Example Ad Tech Ltd", "privacy_url": "https://ads.example.com/privacy"},
    ],
    "publisher_purposes": [1, 10],
    "publisher_legitimate_interest_purposes": [7],
}


AC_IDS = [89, 1301]  # the ids of TCF["google_ac_vendors"]


def write_policy(example_policy_path: Path, target: Path, tcf: dict[str, Any] | None) -> Path:
    # the policy loader's YAML 1.2 booleans: Norway's NO stays a country code
    data = yaml.load(example_policy_path.read_text(encoding="utf-8"), Loader=_PolicyYamlLoader)
    if tcf is not None:
        data["web"]["tcf"] = tcf
    target.write_text(json.dumps(data, default=str), encoding="utf-8")  # JSON is YAML
    return target


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tcf_policy(tmp_path: Path, example_policy_path: Path) -> Path:
    return write_policy(example_policy_path, tmp_path / "policy.yaml", TCF)


@pytest.fixture
def gvl_dir(tmp_path: Path) -> Path:
    return tmp_path / "gvl"


def tcf_settings(tmp_path: Path, policy: Path, gvl_dir: Path) -> Settings:
    db = tmp_path / "ledger.db"
    if not db.exists():
        Ledger.open(str(db)).close()
    return Settings(db=str(db), policy=policy, tcf_gvl_dir=gvl_dir)


@pytest.fixture
def tcf_app(tmp_path: Path, tcf_policy: Path, gvl_dir: Path) -> FastAPI:
    return create_app(tcf_settings(tmp_path, tcf_policy, gvl_dir))


@pytest.fixture
async def client(tcf_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=tcf_app), base_url="http://testserver"
    ) as c:
        yield c
