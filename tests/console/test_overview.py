"""The overview's controls: the period, interval and split a person asks for drive the charts and
tables, a field to fix is named on the page with no figures beside it, and the CSV of a table holds
the figures the page shows."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from consentgate.policy import Policy
from consentgate.server.consoleviews import version_dates
from tests.console.conftest import CHOICES, PURPOSE, sign_in


class _Tables(HTMLParser):
    """The body rows of every table on a page, as lists of cell texts, and the page's alerts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.alerts: list[str] = []
        self.csv_links: list[str] = []
        self._cell: list[str] | None = None
        self._in_body = False
        self._alert = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.tables[-1].append([])
        elif tag == "td" and self._in_body:
            self._cell = []
        elif tag == "p" and a.get("role") == "alert":
            self._alert = True
            self.alerts.append("")
        elif tag == "a" and "csv" in (a.get("class") or ""):
            self.csv_links.append(a.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "p":
            self._alert = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._alert:
            self.alerts[-1] += data


def _page(client: TestClient, **params: str) -> tuple[int, _Tables, str]:
    response = client.get("/console", params=params)
    parsed = _Tables()
    parsed.feed(response.text)
    return response.status_code, parsed, response.text


@pytest.fixture
def signed_in(console_client: TestClient, console_keys: dict[str, str]) -> TestClient:
    sign_in(console_client, console_keys["audit"])
    return console_client


def _expected(policy: Policy) -> dict[str, tuple[int, int]]:
    """People and allowed per region group for the seeded choices, counted here from the seed: in
    the example policy every action but grant leaves the purpose not allowed (deny, withdraw and an
    opt-out under an opt-out basis)."""
    people = Counter(policy.region_group(region) for _, region, _ in CHOICES)
    allowed = Counter(policy.region_group(region) for _, region, action in CHOICES if action == "grant")
    return {group: (n, allowed[group]) for group, n in people.items()}


def test_a_daily_series_split_by_region_has_one_row_per_day_and_group(
    signed_in: TestClient, example_policy: Policy
) -> None:
    today = datetime.now(UTC).date()
    start = today - timedelta(days=10)
    status, page, _ = _page(signed_in, **{"from": start.isoformat(), "to": today.isoformat(),
                                          "interval": "day", "by": "region"})  # fmt: skip
    assert status == 200, page.alerts
    assert page.alerts == []
    series = page.tables[1]
    seeded = today - timedelta(days=7)  # conftest.seed: the choices are a week old
    expected = _expected(example_policy)
    days = {row[0] for row in series}
    # Midnight UTC of each day from `from` to `to`, then `to` itself (it covers its whole day, up
    # to now): the choices count from the midnight after they were made.
    ends = {day for day in days if day.startswith(f"{today.isoformat()} ")}
    assert len(ends) == 1, days  # the series reaches now, labelled with its time
    assert days - ends == {
        (start + timedelta(days=n)).isoformat() for n in range(11) if start + timedelta(days=n) > seeded
    }
    for day in days:
        got = {row[2]: (int(row[3]), int(row[4])) for row in series if row[0] == day}
        assert {row[1] for row in series if row[0] == day} == {PURPOSE}
        assert got == expected, day
    # The at-`to` tables answer for the end of the period.
    by_region = {row[0]: (int(row[2]), int(row[3])) for row in page.tables[0]}
    assert by_region == expected


def test_a_monthly_series_reaches_to_and_counts_the_choices_since_the_last_step(
    signed_in: TestClient, example_policy: Policy
) -> None:
    """From two months and a day before the choices to now, by month: no step lands between the
    choices and now, so only the series' last instant (`to` itself) counts them."""
    today = datetime.now(UTC).date()
    start = today - timedelta(days=7 + 62)  # conftest.seed: the choices are a week old
    status, page, _ = _page(signed_in, **{"from": start.isoformat(), "interval": "month", "by": "region"})
    assert status == 200, page.alerts
    series = page.tables[1]
    last = max(row[0] for row in series)
    assert last.startswith(f"{today.isoformat()} ")  # now, with its time
    got = {row[2]: (int(row[3]), int(row[4])) for row in series if row[0] == last}
    assert got == _expected(example_policy)
    assert {row[0] for row in series} == {last}  # nobody had chosen at the monthly steps


def test_an_empty_series_still_heads_the_column_it_is_split_by(signed_in: TestClient) -> None:
    long_ago = datetime.now(UTC).date() - timedelta(days=400)
    for by, column in (("region", "Region"), ("notice_version", "Notice version")):
        status, _, html = _page(signed_in, **{"from": long_ago.isoformat(), "interval": "week", "by": by,
                                              "to": (long_ago + timedelta(days=60)).isoformat()})  # fmt: skip
        assert status == 200
        heads = re.findall(r'<th scope="col">([^<]*)</th>', html.split("<table>")[2])
        assert heads[:3] == ["Date", "Purpose", column], by


def test_a_period_before_any_choice_shows_no_figures(signed_in: TestClient) -> None:
    long_ago = datetime.now(UTC).date() - timedelta(days=400)
    status, page, _ = _page(signed_in, **{"from": long_ago.isoformat(),
                                          "to": (long_ago + timedelta(days=60)).isoformat(),
                                          "interval": "month"})  # fmt: skip
    assert status == 200
    assert all(len(table) == 1 and len(table[0]) == 1 for table in page.tables)  # "Nothing to show yet."


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"from": "last tuesday"}, 'From: "last tuesday" is not a date'),
        ({"to": "2026-02-30"}, 'To: "2026-02-30" is not a date'),
        ({"from": "2026-03-01T10:00:00"}, "has no time zone"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, 'From: "2026-05-02" is not before To (2026-05-01)'),
        ({"interval": "year"}, 'Interval: "year" is not one of the choices (day, week, month)'),
        ({"by": "source"}, 'Also by: "source" is not one of the choices (region, notice_version)'),
        ({"from": "2016-01-01", "to": "2026-01-01", "interval": "day"}, "more than the page draws"),
        ({"to": "2999-01-01T00:00:00Z"}, "is in the future"),
        ({"to": "2999-01-01"}, "is in the future"),
    ],
)
def test_a_field_to_fix_is_named_on_the_page_with_no_figures(
    signed_in: TestClient, params: dict[str, str], named: str
) -> None:
    status, page, html = _page(signed_in, **params)
    assert status == 400
    assert len(page.alerts) == 1
    assert named in page.alerts[0], page.alerts
    assert page.tables == []
    assert "<canvas" not in html
    assert "None" not in page.alerts[0]
    # The form keeps the dates as typed, so the person fixes them rather than typing them again.
    for field in ("from", "to"):
        if field in params:
            assert f'name="{field}" type="text" inputmode="numeric" placeholder' in html
            assert f'value="{params[field]}"' in html


@pytest.mark.parametrize("by", ["", "region", "notice_version"])
def test_each_tables_csv_holds_the_figures_the_page_shows(signed_in: TestClient, by: str) -> None:
    today = datetime.now(UTC).date()
    status, page, _ = _page(signed_in, **{"from": (today - timedelta(days=21)).isoformat(),
                                          "to": today.isoformat(), "interval": "week", "by": by})  # fmt: skip
    assert status == 200
    assert len(page.csv_links) == len(page.tables) == 3
    for link, table in zip(page.csv_links, page.tables, strict=True):
        response = signed_in.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        header, body = rows[0], rows[1:]
        assert header[-3:] == ["subjects", "allowed", "rate"]
        assert len(body) == len(table)
        assert body
        # The same rows, whatever order each sorts them in: the table leads with its axis.
        axis = "at" if "over_time" in link else header[1]
        split = [by] if "over_time" in link and by else []
        as_shown = []
        for sent in body:
            row = dict(zip(header, sent, strict=True))
            rate = f"{float(row['rate']) * 100:.1f}" if row["rate"] else "-"
            at = row[axis]  # the series' last instant, `to`, shows its time (it is not midnight)
            label = f"{at[:10]} {at[11:16]}" if axis == "at" and at[11:19] != "00:00:00" else at[:10]
            as_shown.append([label, row["purpose"], *(row[s] for s in split),
                             row["subjects"], row["allowed"], rate])  # fmt: skip
        # A notice version's cell adds the dates its wording was in force (tested below).
        bare = [[re.sub(r" \(\d{4}-\d\d-\d\d \u2013.*\)$", "", cell) for cell in row] for row in table]
        assert sorted(as_shown) == sorted(bare)


def test_the_csv_refuses_an_unknown_table_a_bad_query_and_a_stranger(
    console_client: TestClient, console_keys: dict[str, str]
) -> None:
    stranger = console_client.get("/console/overview.csv", follow_redirects=False)
    assert stranger.status_code in (303, 307)
    assert "sign-in" in stranger.headers["location"]
    sign_in(console_client, console_keys["audit"])
    assert console_client.get("/console/overview.csv", params={"table": "subjects"}).status_code == 404
    bad = console_client.get("/console/overview.csv", params={"interval": "hour"})
    assert bad.status_code == 400
    assert 'Interval: "hour" is not one of the choices' in bad.text


def test_the_json_report_takes_the_forms_query(
    console_client: TestClient, console_keys: dict[str, str], example_policy: Policy
) -> None:
    auth = {"Authorization": f"Bearer {console_keys['audit']}"}
    today = datetime.now(UTC).date()
    params = {"from": (today - timedelta(days=3)).isoformat(), "to": today.isoformat(),
              "interval": "day", "by": "region"}  # fmt: skip
    body = console_client.get("/v1/reports/overview", params=params, headers=auth).json()
    series = body["over_time"]
    assert (series["from"][:10], series["interval"]) == (params["from"], "day")
    days = sorted({row["at"][:10] for row in series["rows"]})
    assert days == [(today - timedelta(days=n)).isoformat() for n in (3, 2, 1, 0)]
    expected = _expected(example_policy)
    for day in days:
        got = {r["region"]: (r["subjects"], r["allowed"]) for r in series["rows"] if r["at"].startswith(day)}
        assert got == expected
    bad = console_client.get("/v1/reports/overview", params={"by": "vendor"}, headers=auth)
    assert bad.status_code == 422
    # The JSON API names the query parameter, as its caller wrote it.
    assert 'by: "vendor" is not one of the choices (region, notice_version)' in bad.json()["error"]["message"]


def test_a_notice_version_shows_the_dates_its_wording_was_in_force(
    signed_in: TestClient, example_policy: Policy
) -> None:
    # The example policy: ai-training (train_support_chatbot, finetune_recommender) v1 from
    # 2026-01-01, v2 from 2026-06-01 (+02:00, the date as written).
    assert version_dates(example_policy, PURPOSE, "1") == "2026-01-01 \u2013 2026-06-01"
    assert version_dates(example_policy, PURPOSE, "2") == "2026-06-01 \u2013"
    assert version_dates(example_policy, PURPOSE, "9") is None
    assert version_dates(example_policy, "no_such_purpose", "1") is None  # no notice asks about it
    status, page, _ = _page(signed_in)
    assert status == 200
    by_version = page.tables[2]
    assert [row[0] for row in by_version] == ["2 (2026-06-01 \u2013)"]  # the seed chose under v2
