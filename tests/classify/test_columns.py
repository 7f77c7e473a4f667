"""Column classification: types with their share of rows, levels, special categories."""

from __future__ import annotations

import datetime as dt

import pytest

from consentgate.classify import Scanner
from consentgate.classify.columns import classify_column, name_hint
from consentgate.classify.findings import EntityType, Level


@pytest.mark.parametrize(
    ("name", "hint"),
    [("email", EntityType.EMAIL), ("customerEmail", EntityType.EMAIL), ("email_sha256", EntityType.HASHED_EMAIL),
     ("visitor_id", EntityType.COOKIE_ID), ("idfa", EntityType.DEVICE_ID), ("customer_no", EntityType.USER_ID),
     ("date_of_birth", EntityType.DATE_OF_BIRTH), ("first_name", EntityType.PERSON), ("Nachname", EntityType.PERSON),
     ("shipping_address", EntityType.STREET_ADDRESS), ("client_ip", EntityType.IP_ADDRESS), ("amount", None),
     ("request_id", None), ("sku", None)],
)  # fmt: skip
def test_name_hints(name: str, hint: EntityType | None) -> None:
    assert name_hint(name) is hint


def test_email_column_is_personal(scanner: Scanner) -> None:
    values = ["anna@example.com", "bob@example.org", None, "", "carol@example.net", "n/a"]
    report = classify_column("contact", values, scanner=scanner)
    assert report.non_empty == 4
    assert report.as_json()["types"] == {"EMAIL": 0.75}
    assert report.level is Level.PERSONAL


def test_uuid_column_needs_its_name(scanner: Scanner) -> None:
    uuids = ["0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5", "7f9c2a10-5b3e-4c8d-9e1f-2a3b4c5d6e7f"] * 5
    assert classify_column("visitor_id", uuids, scanner=scanner).level is Level.PSEUDONYMOUS
    assert classify_column("request_id", uuids, scanner=scanner).level is Level.NON_PERSONAL


def test_numbers_are_user_ids_only_under_an_id_name(scanner: Scanner) -> None:
    ids = list(range(100000, 100020))
    assert classify_column("customer_id", ids, scanner=scanner).as_json()["types"] == {"USER_ID": 1.0}
    assert classify_column("quantity", ids, scanner=scanner).level is Level.NON_PERSONAL


def test_birth_dates_as_dates_and_strings(scanner: Scanner) -> None:
    dates = [dt.date(1985, 3, 12), dt.date(1990, 1, 2)]
    assert classify_column("dob", dates, scanner=scanner).as_json()["types"] == {"DATE_OF_BIRTH": 1.0}
    strings = ["12.03.1985", "02.01.1990", "1979-11-30"]
    assert classify_column("geburtsdatum", strings, scanner=scanner).level is Level.PERSONAL
    # A date column under another name is not a birth date, nor a phone number.
    assert classify_column("created", strings, scanner=scanner).level is Level.NON_PERSONAL


def test_free_text_column_is_scanned(scanner: Scanner) -> None:
    texts = [
        "Hi, my name is Emily Thompson, please call +44 20 7946 0958",
        "Mein Name ist Jürgen Köhler, Rückruf unter +49 30 12345678",
        "The app crashes on start, version 2.3.1",
        "Je m'appelle Chloé Girard, merci de me rappeler",
    ]
    report = classify_column("message", texts, scanner=scanner).as_json()
    assert report["types"]["PERSON"] == 0.75
    assert report["types"]["PHONE"] == 0.5
    assert report["level"] == "personal"


def test_special_category_by_name_and_by_text(scanner: Scanner) -> None:
    assert classify_column("diagnosis", ["J45", "E11"], scanner=scanner).level is Level.SENSITIVE
    assert classify_column("religion", ["x"], scanner=scanner).as_json()["special_categories"] == ["religion"]
    notes = ["Patient reports diabetes since 2019, insulin daily"] * 3 + ["no issues reported at the visit"]
    report = classify_column("notes", notes, scanner=scanner)
    assert report.level is Level.SENSITIVE
    assert report.art9 == {"health"}


def test_one_stray_match_does_not_make_a_column_personal(scanner: Scanner) -> None:
    values = ["ok"] * 200 + ["write to anna@example.com"]
    report = classify_column("status", values, scanner=scanner).as_json()
    assert report["level"] == "non_personal"
    assert report["also_seen"] == {"EMAIL": 0.005}
