"""Client address → country, so a submission without a ``region`` still gets one and no address is kept.

Where the country comes from, first match wins:

1. ``Settings.country_header`` (e.g. ``CF-IPCountry``), trusted only when configured: set it only
   behind a proxy that always overwrites that header, or any client can claim any country.
2. ``Settings.geoip_db``: a MaxMind-format country database (GeoLite2-Country or GeoIP2-Country),
   looked up with the client address (which uvicorn takes from ``X-Forwarded-For`` only for trusted
   proxies, see ``--forwarded-allow-ips``). Needs ``pip install 'consentgate[geo]'``.
3. Nothing: the event is stored without a region, as before.

Only ``POST /v1/consents`` uses it: a single submission usually comes from the person's own browser,
while a batch comes from an importer whose address says nothing about the people in it. The address
itself is used for the lookup and dropped; it is never stored or logged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request

from consentgate.errors import BadInput
from consentgate.policy.models import region_code

# Codes proxies and databases use for "not a country": unknown, Tor, anonymous proxy, satellite, …
NOT_COUNTRIES = frozenset({"XX", "ZZ", "T1", "A1", "A2", "O1", "AP", "EU"})


class _Reader(Protocol):
    def get(self, ip_address: str) -> Any: ...

    def close(self) -> None: ...


def _country_code(value: object) -> str | None:
    code = region_code(value)  # the one region rule; a country has no subdivision part
    if code is None or "-" in code or code in NOT_COUNTRIES:
        return None
    return code


class CountryResolver:
    """Resolve a request's country from a trusted header or a MaxMind-format database."""

    def __init__(self, *, header: str | None = None, database: Path | None = None) -> None:
        self.header = header.strip().lower() if header and header.strip() else None
        self._reader: _Reader | None = open_database(database) if database is not None else None

    @property
    def by_address(self) -> bool:
        """Whether a country may come from the client's address (a database look-up)."""
        return self._reader is not None

    @property
    def enabled(self) -> bool:
        return self.header is not None or self._reader is not None

    def country(self, headers: Mapping[str, str], address: str | None) -> str | None:
        """An ISO 3166-1 alpha-2 code, or None when neither source knows."""
        if self.header is not None:
            code = _country_code(headers.get(self.header))
            if code is not None:
                return code
        if self._reader is not None and address:
            return self._lookup(address)
        return None

    def _lookup(self, address: str) -> str | None:
        assert self._reader is not None
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:  # a Unix socket or a test client has no IP address
            return None
        record = self._reader.get(str(ip))
        if not isinstance(record, Mapping):
            return None
        for field in ("country", "registered_country"):
            place = record.get(field)
            if isinstance(place, Mapping):
                code = _country_code(place.get("iso_code"))
                if code is not None:
                    return code
        return None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


def open_database(path: Path) -> _Reader:
    try:
        import maxminddb
    except ImportError:
        raise BadInput(
            f"geoip_db is set ({path}) but the MaxMind reader is not installed; "
            "run: pip install 'consentgate[geo]'"
        ) from None
    try:
        reader: _Reader = maxminddb.open_database(str(path))
    except (OSError, ValueError, RuntimeError) as exc:  # missing, or not a MaxMind DB (InvalidDatabaseError)
        raise BadInput(f"geoip_db {path} cannot be read as a MaxMind country database: {exc}") from None
    return reader


# async although it awaits nothing: FastAPI runs a plain ``def`` dependency in its threadpool, and that
# hop cost more than the lookup (a header, or a memory-mapped database) on every submission.
async def client_country(request: Request) -> str | None:
    resolver: CountryResolver | None = getattr(request.app.state, "country", None)
    if resolver is None or not resolver.enabled:
        return None
    return resolver.country(request.headers, request.client.host if request.client else None)


ClientCountry = Annotated[str | None, Depends(client_country)]
"""The requesting client's country, for endpoints that default a submission's region to it."""
