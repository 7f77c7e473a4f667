"""Redaction: placeholders, keyed pseudonyms, and the same output on every engine."""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from consentgate.classify import Mode, Redactor, Scanner
from consentgate.classify.findings import EntityType
from consentgate.classify.redact_engines import (
    redact_arrow,
    redact_duckdb,
    redact_pandas,
    redact_polars,
    redact_spark,
    register_duckdb,
)
from consentgate.errors import BadInput

KEY = b"unit-test-key-0123456789abcdef"
TABLE = pa.table(
    {
        "email": ["Anna@Example.com", "anna@example.com", None, "bob@example.org"],
        "notes": ["Ruf an: +49 30 12345678", "IBAN DE89 3704 0044 0532 0130 00", None, "nothing"],
        "n": [1, 2, 3, 4],
    }
)
COLUMNS: dict[str, EntityType | None] = {"email": EntityType.EMAIL, "notes": None}


def test_placeholders_in_text(scanner: Scanner) -> None:
    text = "Hi, I'm Emily Thompson, emily@example.com, +44 20 7946 0958."
    redacted = Redactor().text(text, scanner.scan(text, "en"))
    assert redacted == "Hi, I'm [PERSON], [EMAIL], [PHONE]."


def test_pseudonyms_are_consistent_and_keyed() -> None:
    r = Redactor(Mode.PSEUDONYM, KEY)
    a = r.token(EntityType.EMAIL, "Anna@Example.com ")
    assert a == r.token(EntityType.EMAIL, "anna@example.com")
    assert a.startswith("EMAIL_")
    assert len(a) == len("EMAIL_") + 12
    assert r.token(EntityType.IBAN, "DE89 3704 0044 0532 0130 00") == r.token(
        EntityType.IBAN, "de89370400440532013000"
    )
    assert r.token(EntityType.PHONE, "+49 30 1234-5678") == r.token(EntityType.PHONE, "+49 (30) 12345678")
    assert (
        Redactor(Mode.PSEUDONYM, b"another-key-0123456789").token(EntityType.EMAIL, "anna@example.com") != a
    )
    assert r.token(EntityType.USER_ID, "anna@example.com") != a  # the type is part of the message


def test_pseudonyms_need_a_long_key() -> None:
    with pytest.raises(BadInput, match="secret key"):
        Redactor(Mode.PSEUDONYM, b"short")
    with pytest.raises(BadInput):
        Redactor(Mode.PSEUDONYM, None)


def _expected() -> list[dict[str, Any]]:
    return redact_arrow(TABLE, COLUMNS, Redactor(Mode.PSEUDONYM, KEY)).to_pylist()


def test_arrow_result() -> None:
    rows = _expected()
    assert rows[0]["email"] == rows[1]["email"]  # same person, same token
    assert rows[2] == {"email": None, "notes": None, "n": 3}
    assert rows[0]["notes"].startswith("Ruf an: PHONE_")
    assert rows[1]["notes"].startswith("IBAN IBAN_")
    assert rows[3]["notes"] == "nothing"


def test_polars_pandas_duckdb_match_arrow() -> None:
    r = Redactor(Mode.PSEUDONYM, KEY)
    expected = _expected()
    assert redact_polars(pl.from_arrow(TABLE), COLUMNS, r).to_dicts() == expected
    assert redact_polars(pl.from_arrow(TABLE).lazy(), COLUMNS, r).collect().to_dicts() == expected
    frame = redact_pandas(TABLE.to_pandas(), COLUMNS, r)
    assert frame.replace({float("nan"): None}).to_dict("records") == expected
    con = duckdb.connect()
    con.register("t", TABLE)
    rel = redact_duckdb(con, "SELECT * FROM t", COLUMNS, r)
    assert [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()] == expected


def test_duckdb_udf_in_sql() -> None:
    con = duckdb.connect()
    register_duckdb(con, Redactor())
    row = con.execute(
        "SELECT cg_redact('anna@example.com', 'EMAIL'), cg_redact('call +49 30 12345678', '')"
    ).fetchone()
    assert row == ("[EMAIL]", "call [PHONE]")


def test_unknown_column_is_reported() -> None:
    with pytest.raises(BadInput, match="not in the data"):
        redact_pandas(pd.DataFrame({"a": [1]}), {"b": None}, Redactor())


def test_spark_matches_arrow(spark: Any) -> None:
    frame = spark.createDataFrame(TABLE.to_pandas().astype({"n": "int64"}))
    rows = redact_spark(frame, COLUMNS, Redactor(Mode.PSEUDONYM, KEY)).orderBy("n").collect()
    assert [r.asDict() for r in rows] == _expected()
