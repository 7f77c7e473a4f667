"""Due dates: one calendar month (clamped to the month's last day), three after the one extension,
15 business days for US-style opt-outs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentgate.requests.dates import add_business_days, add_months, due_on, extended_due_on


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 20), date(2027, 1, 20)),  # over the year end
    ],
)
def test_one_calendar_month(received: date, due: date) -> None:
    assert due_on("erase", received) == due
    assert due_on("access", received) == due


def test_the_extension_counts_three_months_from_receipt_not_two_from_the_clamped_due_date() -> None:
    assert extended_due_on(date(2026, 1, 31)) == date(2026, 4, 30)  # not 28 April
    assert extended_due_on(date(2026, 11, 30)) == date(2027, 2, 28)


def test_opt_out_requests_have_fifteen_business_days() -> None:
    # Friday 6 March 2026: 15 weekdays later is Friday 27 March.
    assert due_on("opt_out", date(2026, 3, 6)) == date(2026, 3, 27)
    # Received on a Saturday: the count starts on Monday.
    assert add_business_days(date(2026, 3, 7), 1) == date(2026, 3, 9)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(0, 36))
def test_add_months_lands_in_the_right_month_and_never_after_the_day(day: date, months: int) -> None:
    out = add_months(day, months)
    assert (out.year * 12 + out.month) - (day.year * 12 + day.month) == months
    assert out.day <= day.day
    assert out.day == day.day or (out + timedelta(days=1)).month != out.month  # clamped to the last day


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_a_month_is_28_to_31_days_and_the_extension_comes_later(day: date) -> None:
    due = due_on("erase", day)
    assert 28 <= (due - day).days <= 31
    assert extended_due_on(day) > due
