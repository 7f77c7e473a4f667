"""``consentgate cookies update``: fetch the current Open Cookie Database, check it, keep it, report.

Only ever run on request, never during a scan: a scan's categories must not change under it. The
new file is parsed with the same loader the scanner uses before it replaces anything, and written
atomically next to its destination.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from consentgate.errors import BadInput
from consentgate.scan.knowledge import Entry, KnowledgeBase, parse_ocd

UPSTREAM_URL = (
    "https://raw.githubusercontent.com/jkwakman/Open-Cookie-Database/master/open-cookie-database.csv"
)
MIN_ENTRIES = 100  # a truncated download or an error page must not replace a good database
MAX_BYTES = 50 * 1024 * 1024


@dataclass
class UpdateReport:
    destination: Path
    entries: int
    added: list[Entry]
    removed: list[Entry]
    recategorised: list[tuple[Entry, Entry]]  # (old, new)
    warnings: list[str]


def fetch(url: str, *, timeout: float = 60.0) -> str:
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise BadInput(f"{url}: HTTP {response.status_code}")
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise BadInput(
                        f"{url}: larger than {MAX_BYTES // (1024 * 1024)} MiB; not a cookie database"
                    )
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise BadInput(f"could not download {url}: {exc}") from None
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{url}: not UTF-8 text") from None


def update(url: str, destination: Path, current: KnowledgeBase) -> UpdateReport:
    text = fetch(url)
    entries, warnings = parse_ocd(text)
    if len(entries) < MIN_ENTRIES:
        raise BadInput(f"{url}: only {len(entries)} entries; refusing to replace the cookie database")
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=".ocd-", suffix=".csv")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, destination)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    before = {e.id: e for e in current.entries}
    after = {e.id: e for e in entries}
    return UpdateReport(
        destination=destination,
        entries=len(entries),
        added=[e for i, e in after.items() if i not in before],
        removed=[e for i, e in before.items() if i not in after],
        recategorised=[
            (before[i], e) for i, e in after.items() if i in before and before[i].category != e.category
        ],
        warnings=warnings,
    )
