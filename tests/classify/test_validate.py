"""Checksums and structure checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.classify.validate import card_brand, card_ok, iban_ok, ipv4_ok, ipv6_ok, luhn_ok


@pytest.mark.parametrize(
    ("number", "brand"),
    [("4111111111111111", "visa"), ("5500000000000004", "mastercard"), ("378282246310005", "amex"),
     ("6011111111111117", "discover"), ("3530111333300000", "jcb"), ("2221000000000009", "mastercard")],
)  # fmt: skip
def test_test_cards_pass(number: str, brand: str) -> None:
    assert card_ok(number)
    assert card_brand(number) == brand


def test_luhn_rejects_a_changed_digit() -> None:
    assert luhn_ok("4111111111111111")
    assert not luhn_ok("4111111111111112")
    assert not card_ok("1234567812345678")  # no scheme starts with 1


@given(st.text(alphabet="0123456789", min_size=12, max_size=18))
def test_exactly_one_check_digit_completes_luhn(body: str) -> None:
    assert sum(luhn_ok(body + d) for d in "0123456789") == 1


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013000",
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "ES9121000418450200051332",
    ],
)
def test_valid_ibans(iban: str) -> None:
    assert iban_ok(iban)


@pytest.mark.parametrize(
    "iban", ["DE89370400440532013001", "DE8937040044053201300", "XX89370400440532013000"]
)
def test_invalid_ibans(iban: str) -> None:
    assert not iban_ok(iban)


def test_ip_addresses() -> None:
    assert ipv4_ok("192.0.2.1")
    assert not ipv4_ok("256.1.1.1")
    assert not ipv4_ok("01.2.3.4")
    assert ipv6_ok("2001:db8::1")
    assert ipv6_ok("fe80::1%eth0")
    assert not ipv6_ok("12:30:45")
    assert not ipv6_ok("00:1A:2B:3C:4D:5E")  # a MAC address
