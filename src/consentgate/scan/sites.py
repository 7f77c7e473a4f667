"""URLs, hosts and parties: which page is which, and whose is a cookie or a request.

"Site" is the registrable domain (eTLD+1 from the Public Suffix List): ``www.example.co.uk`` and
``shop.example.co.uk`` are one site, so cookies on either are first-party. An IP address or a
single-label host (``localhost``) is a site of its own, so a test site on 127.0.0.1 with third
parties on 127.0.0.2 has the parties a real site has.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urldefrag, urljoin, urlsplit, urlunsplit

from consentgate.errors import MissingExtra

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

# Navigations to these are downloads or assets, never pages.
_NOT_PAGES = frozenset(
    {
        ".7z",
        ".avi",
        ".bmp",
        ".css",
        ".csv",
        ".doc",
        ".docx",
        ".dmg",
        ".exe",
        ".gif",
        ".gz",
        ".ico",
        ".jpeg",
        ".jpg",
        ".js",
        ".json",
        ".m4a",
        ".mov",
        ".mp3",
        ".mp4",
        ".mpeg",
        ".ogg",
        ".pdf",
        ".png",
        ".ppt",
        ".pptx",
        ".rar",
        ".rss",
        ".svg",
        ".tar",
        ".tgz",
        ".tif",
        ".tiff",
        ".txt",
        ".wav",
        ".webm",
        ".webp",
        ".woff",
        ".woff2",
        ".xls",
        ".xlsx",
        ".xml",
        ".zip",
    }
)


@lru_cache(maxsize=1)
def _psl() -> PublicSuffixList:
    # Imported here: reading a scan (diff, report, /v1/declaration) needs neither it nor a browser.
    try:
        from publicsuffixlist import PublicSuffixList
    except ImportError:
        raise MissingExtra("the scanner", ["publicsuffixlist"], "scan") from None
    return PublicSuffixList()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def site_of(host: str) -> str:
    """The registrable domain of ``host`` (``a.b.example.com`` → ``example.com``), or the host itself."""
    host = host.lower().strip(".")
    if not host or _is_ip(host) or "." not in host:
        return host
    private = _psl().privatesuffix(host)
    return private or host


def same_site(host_a: str, host_b: str) -> bool:
    return site_of(host_a) == site_of(host_b)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def party(host: str, site_host: str) -> str:
    """``first`` when ``host`` (or a cookie domain) belongs to the scanned site, else ``third``."""
    return "first" if same_site(host.lstrip("."), site_host) else "third"


def normalise(url: str, base: str | None = None) -> str | None:
    """An absolute http(s) URL without fragment, default port or empty path; None for anything else."""
    try:
        joined = urljoin(base, url.strip()) if base else url.strip()
        joined, _ = urldefrag(joined)
        parts = urlsplit(joined)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and not (
        (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)
    ):
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path or "/", parts.query, ""))


def strip_query(url: str) -> str:
    """The URL without query and fragment: what reports keep of third-party requests, whose query
    strings often carry identifiers."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))


def looks_like_page(url: str) -> bool:
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    return dot <= path.rfind("/") or path[dot:] not in _NOT_PAGES


def in_scope(url: str, start_url: str) -> bool:
    """Crawled pages stay on the start URL's site (any of its hosts), scheme aside."""
    return same_site(host_of(url), host_of(start_url))


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
