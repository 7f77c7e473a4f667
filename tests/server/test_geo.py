"""Client address → country: a trusted header, a MaxMind-format database, or nothing; never the address."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from consentgate.errors import BadInput
from consentgate.server import create_app
from consentgate.server.geo import CountryResolver
from consentgate.service import ConsentService
from consentgate.settings import Settings

from .conftest import ago, bearer

Client = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def country_db(tmp_path: Path) -> Path:
    """A tiny GeoLite2-Country-shaped database over the documentation ranges."""
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type="GeoLite2-Country")
    writer.insert_network(IPSet(["192.0.2.0/25"]), {"country": {"iso_code": "DE"}})
    writer.insert_network(IPSet(["192.0.2.128/26"]), {"registered_country": {"iso_code": "FR"}})
    writer.insert_network(IPSet(["192.0.2.192/26"]), {"country": {"iso_code": "T1"}})
    writer.insert_network(IPSet(["2001:db8::/48"]), {"country": {"iso_code": "JP"}})
    path = tmp_path / "countries.mmdb"
    writer.to_db_file(str(path))
    return path


def test_a_configured_header_is_trusted() -> None:
    resolver = CountryResolver(header="CF-IPCountry")
    assert resolver.enabled
    assert resolver.country({"cf-ipcountry": "de"}, "192.0.2.1") == "DE"
    for junk in ("XX", "T1", "Germany", "D", "", "1A", "DÉ", "d\u0131"):
        assert resolver.country({"cf-ipcountry": junk}, "192.0.2.1") is None, junk
    assert resolver.country({}, "192.0.2.1") is None


def test_without_configuration_nothing_is_resolved(country_db: Path) -> None:
    resolver = CountryResolver()
    assert not resolver.enabled
    assert resolver.country({"cf-ipcountry": "DE"}, "192.0.2.1") is None


@pytest.mark.parametrize(
    ("address", "country"),
    [
        ("192.0.2.7", "DE"),
        ("192.0.2.130", "FR"),  # only a registered country: still a country
        ("192.0.2.200", None),  # Tor exit: not a country
        ("2001:db8::42", "JP"),
        ("198.51.100.1", None),  # not in the database
        ("testclient", None),  # not an address
        (None, None),
    ],
)
def test_a_maxmind_database_maps_addresses_to_countries(
    country_db: Path, address: str | None, country: str | None
) -> None:
    resolver = CountryResolver(database=country_db)
    try:
        assert resolver.country({}, address) == country
    finally:
        resolver.close()


def test_the_header_wins_and_the_database_is_the_fallback(country_db: Path) -> None:
    resolver = CountryResolver(header="CF-IPCountry", database=country_db)
    try:
        assert resolver.country({"cf-ipcountry": "IE"}, "192.0.2.7") == "IE"
        assert resolver.country({"cf-ipcountry": "XX"}, "192.0.2.7") == "DE"
    finally:
        resolver.close()


def test_a_missing_reader_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, country_db: Path
) -> None:
    monkeypatch.setitem(sys.modules, "maxminddb", None)  # import maxminddb → ImportError
    with pytest.raises(BadInput, match=r"pip install 'consentgate\[geo\]'"):
        CountryResolver(database=country_db)


def test_an_unreadable_database_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="cannot be read"):
        CountryResolver(database=tmp_path / "missing.mmdb")
    (tmp_path / "junk.mmdb").write_bytes(b"not a database")
    with pytest.raises(BadInput, match="cannot be read"):
        CountryResolver(database=tmp_path / "junk.mmdb")


# -- through the API ---------------------------------------------------------------------------------


@pytest.fixture
def geo_client(settings: Settings, service: ConsentService) -> Client:
    @asynccontextmanager
    async def make(host: str = "192.0.2.7", **update: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=update), service=service)
        transport = httpx.ASGITransport(app=app, client=(host, 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return make


def submission(subject: str, **extra: Any) -> dict[str, Any]:
    return {
        "subject": subject,
        "occurred_at": ago(minutes=1),
        "choices": [{"purpose": "security", "action": "object"}],
        **extra,
    }


@pytest.mark.anyio
async def test_a_submission_without_region_gets_the_clients_country(
    geo_client: Client, keys: dict[str, str], service: ConsentService, country_db: Path
) -> None:
    admin = bearer(keys["admin"])
    async with geo_client(country_header="CF-IPCountry") as c:
        header = {**admin, "CF-IPCountry": "AT"}
        assert (await c.post("/v1/consents", json=submission("geo-1"), headers=header)).status_code == 201
        given = submission("geo-2", region="US-CA")
        assert (await c.post("/v1/consents", json=given, headers=header)).status_code == 201
        batch = {"submissions": [submission("geo-3")]}
        assert (await c.post("/v1/consents/batch", json=batch, headers=header)).status_code == 201
    async with geo_client(host="2001:db8::9", geoip_db=country_db) as c:
        assert (await c.post("/v1/consents", json=submission("geo-4"), headers=admin)).status_code == 201
    async with geo_client() as c:  # nothing configured: the header is not trusted
        header = {**admin, "CF-IPCountry": "AT"}
        assert (await c.post("/v1/consents", json=submission("geo-5"), headers=header)).status_code == 201

    regions = {s: service.history(s)[0].region for s in ("geo-1", "geo-2", "geo-3", "geo-4", "geo-5")}
    # The importer's address says nothing about the people in a batch, so batches keep what they say.
    assert regions == {"geo-1": "AT", "geo-2": "US-CA", "geo-3": None, "geo-4": "JP", "geo-5": None}


@pytest.mark.anyio
async def test_the_address_itself_is_never_stored(
    geo_client: Client, keys: dict[str, str], service: ConsentService, country_db: Path
) -> None:
    async with geo_client(host="192.0.2.77", geoip_db=country_db) as c:
        headers = {**bearer(keys["admin"]), "X-Forwarded-For": "192.0.2.99"}
        response = await c.post("/v1/consents", json=submission("geo-6"), headers=headers)
        assert response.status_code == 201
        evidence = await c.get("/v1/subjects/geo-6/evidence", headers=headers)
    (event,) = service.history("geo-6")
    assert event.region == "DE"
    stored = json.dumps([repr(event), evidence.json(), response.json()])
    assert "192.0.2." not in stored
    with service.ledger.engine.connect() as conn:
        dump = "\n".join(str(row) for row in conn.exec_driver_sql("SELECT * FROM events"))
    assert "192.0.2." not in dump
