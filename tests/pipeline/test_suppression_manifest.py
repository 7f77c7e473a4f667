"""The suppression list (keyed hashes, never identifiers) and the manifest's fingerprints."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pytest

from consentgate.errors import BadInput
from consentgate.pipeline import Suppression, input_files
from consentgate.pipeline.manifest import fingerprint_files, fingerprint_sample

KEY = b"k" * 32


def test_a_list_holds_hashes_only_and_round_trips(tmp_path: Path) -> None:
    sup = Suppression(KEY)
    sup.add("user-1@example.com", "cookie-9")
    path = tmp_path / "sup.json"
    sup.save(path)
    text = path.read_text()
    assert "example.com" not in text
    assert "cookie-9" not in text
    back = Suppression.load(path, KEY)
    assert len(back) == 2
    assert "cookie-9" in back
    assert "cookie-8" not in back
    assert back.matching(["cookie-9", "cookie-8", "user-1@example.com"]) == {"cookie-9", "user-1@example.com"}
    assert back.digest == sup.digest


def test_the_key_must_match_the_list(tmp_path: Path) -> None:
    path = tmp_path / "sup.json"
    Suppression(KEY, []).save(path)
    with pytest.raises(BadInput, match="made with key"):
        Suppression.load(path, b"x" * 32)
    with pytest.raises(BadInput, match="at least 16 bytes"):
        Suppression(b"short")
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(BadInput, match="not a suppression list"):
        Suppression.load(path, KEY)


def test_file_fingerprints_follow_size_and_mtime(tmp_path: Path) -> None:
    (tmp_path / "a.parquet").write_bytes(b"one")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.parquet").write_bytes(b"two")
    (tmp_path / "_SUCCESS").write_bytes(b"")
    root, files = input_files(tmp_path)
    assert [f.relative_to(root).as_posix() for f in files] == ["a.parquet", "sub/b.parquet"]
    first = fingerprint_files(root, files)
    assert first == fingerprint_files(root, files)
    os.utime(files[0], ns=(1, 1))
    assert fingerprint_files(root, files) != first
    assert input_files(str(tmp_path / "*.parquet"))[1] == [files[0]]


def test_sample_fingerprints_see_schema_rows_and_content() -> None:
    t = pa.table({"a": [1, 2, 3]})
    base = fingerprint_sample(t, 3)
    assert base == fingerprint_sample(t, 3)
    assert fingerprint_sample(t, 4) != base
    assert fingerprint_sample(pa.table({"a": [1, 2, 4]}), 3) != base
    assert fingerprint_sample(pa.table({"b": [1, 2, 3]}), 3) != base
