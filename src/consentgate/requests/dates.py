"""Due dates of data-subject requests.

GDPR Art. 12(3): answer "without undue delay and in any event within one month of receipt of the
request", extendable "by two further months where necessary", the person being told within the
first month. A month is a calendar month counted from the day of receipt; when the next month has no
such day (received 31 January), the period ends on that month's last day — the reading of the EDPB
(Guidelines 01/2022 on the right of access, §5.3) and of Regulation 1182/71. Dates are UTC calendar
days: a request received at 23:30 in Berlin on 31 March is received on 31 March UTC only if it is
still 31 March in UTC; the receipt time is stored with its zone, so a team that reckons in another
zone can see both.

US-style opt-out requests (``opt_out``) follow the CCPA regulations instead (§ 7026(f)): act within
15 business days, with no extension.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

OPT_OUT_BUSINESS_DAYS = 15


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the last day of a shorter month."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_business_days(day: date, days: int) -> date:
    """``day`` plus ``days`` weekdays (Saturday and Sunday do not count; public holidays are not known)."""
    out = day
    left = days
    while left > 0:
        out += timedelta(days=1)
        if out.weekday() < 5:
            left -= 1
    return out


def due_on(kind: str, received: date) -> date:
    """When a request of ``kind`` received on ``received`` must be answered."""
    if kind == "opt_out":
        return add_business_days(received, OPT_OUT_BUSINESS_DAYS)
    return add_months(received, 1)


def extended_due_on(received: date) -> date:
    """The due date after the one allowed extension: two further months, i.e. three from receipt."""
    return add_months(received, 3)


def can_extend(kind: str) -> bool:
    return kind != "opt_out"
