"""The history of scheduled scans: one JSON file per scan, in one folder per start URL.

``SCAN_HISTORY_DIR/www.example.com-1a2b3c4d5e/20261207T031500123456Z.json`` — names sort in time
order, so the newest scan is the last name and the time of the last scan survives a restart (the
schedule is computed from it, not kept in memory). Files are written whole, then renamed into place,
so a reader (``/v1/declaration``) never sees half a scan.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from consentgate.scan.diff import check_document

STAMP = "%Y%m%dT%H%M%S%fZ"
_NAME = re.compile(r"^\d{8}T\d{12}Z\.json$")


def site_key(url: str) -> str:
    """A folder name for a start URL: readable (its host) and unique (a digest of the whole URL)."""
    host = re.sub(r"[^a-z0-9.-]", "_", (urlsplit(url).hostname or "site").lower())
    return f"{host}-{hashlib.sha256(url.encode()).hexdigest()[:10]}"


@dataclass(frozen=True)
class ScanHistory:
    root: Path

    def folder(self, url: str) -> Path:
        return self.root / site_key(url)

    def scans(self, url: str) -> list[Path]:
        """Every kept scan of ``url``, oldest first."""
        folder = self.folder(url)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if _NAME.match(p.name))

    def latest(self, url: str) -> Path | None:
        found = self.scans(url)
        return found[-1] if found else None

    def last_scanned(self, url: str) -> datetime | None:
        """When the newest kept scan of ``url`` started (from its file name)."""
        latest = self.latest(url)
        return None if latest is None else datetime.strptime(latest.stem, STAMP).replace(tzinfo=UTC)

    def save(self, url: str, doc: dict[str, Any], at: datetime) -> Path:
        folder = self.folder(url)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{at.astimezone(UTC).strftime(STAMP)}.json"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2, ensure_ascii=False)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @staticmethod
    def load(path: Path) -> dict[str, Any]:
        with path.open(encoding="utf-8") as fh:
            return check_document(json.load(fh), str(path))
