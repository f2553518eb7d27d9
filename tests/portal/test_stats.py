"""The stats page: tiles against the previous period, charts, breakdowns, top customers — numbers
that agree with the orders recorded through the services, in the tenant's local days."""
from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from extensions import db
from models.control import utcnow
from models.tenant import Order
from services import audit, orders, stats
from services.errors import ValidationFailed
from services.flags import set_override
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order, read
from tenancy.context import tenant_context
from tests.querycount import count_queries

UTC = dt.timezone.utc
# A fixed week in the past (and the week before it): custom ranges make the numbers exact.
WEEK = {"range": "custom", "date_from": "2025-03-08", "date_to": "2025-03-14"}


def at(day: str, time: str = "12:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{time}:00+00:00")


def tile(page: str, label: str) -> tuple[str, str]:
    """(value, foot text) of the tile labelled `label`, as a person reads them."""
    match = re.search(r'<span class="tile-label">' + re.escape(label) + r'</span>\s*'
                      r'<span class="tile-value">([^<]*)</span>(.*?)</div>', page, re.S)
    assert match, f"no tile {label!r}"
    foot = re.sub(r"<[^>]+>", "", match.group(2))
    return html.unescape(match.group(1)), " ".join(html.unescape(foot).split())


def table_rows(page: str, figure_id: str) -> list[tuple[str, str]]:
    """The (label, value) rows of a chart's data table."""
    figure = re.search(r'<figure class="chart" id="' + figure_id + r'">(.*?)</figure>', page, re.S)
    assert figure, f"no chart {figure_id}"
    return [(html.unescape(a), html.unescape(b)) for a, b in re.findall(
        r'<tr><th scope="row">([^<]*)</th><td class="num">([^<]*)</td></tr>', figure.group(1))]


def in_utc(tenant) -> None:
    """Days in UTC, so the timestamps below read as the days they fall on."""
    tenant.timezone = "UTC"
    db.session.commit()


def crafted_history(tenant) -> None:
    """Orders of the week before WEEK and of WEEK itself, through services.orders."""
    in_utc(tenant)
    prev = [("2025-03-02", 10_000, "paid"), ("2025-03-03", 3_000, "expired"),
            ("2025-03-05", 30_000, "paid"), ("2025-03-06", 5_000, None)]
    for day, total, status in prev:
        add_order(tenant, total=total, status=status, created_at=at(day))
    add_order(tenant, total=7_000, status="failed", created_at=at("2025-03-07", "23:59"))
    current = [(at("2025-03-08", "00:00"), 20_000, "paid", "web", "card"),
               (at("2025-03-09"), 40_000, "paid", "store", "cash"),
               (at("2025-03-10"), 15_000, "paid", "web", "card"),      # refunded below
               (at("2025-03-12"), 30_000, "paid", "phone", "card"),
               (at("2025-03-13"), 1_000, "cancelled", "web", "ewallet"),
               (at("2025-03-14", "23:59"), 9_000, None, "web", "card")]
    for created, total, status, channel, method in current:
        order = add_order(tenant, total=total, status=status, channel=channel, method=method,
                          created_at=created)
        if total == 15_000:
            with tenant_context(tenant) as ctx:
                orders.change_status(ctx.session, tenant, orders.get_order(ctx.session, order.id),
                                     "refunded", "test")
                ctx.session.commit()
    # just outside the week on either side
    add_order(tenant, total=99_000, status="paid", created_at=at("2025-02-28", "23:59"))
    add_order(tenant, total=99_000, status="paid", created_at=at("2025-03-15", "00:00"))


def test_it_requires_a_signed_in_user_of_the_tenant(client, people, backend, isolation):
    url = f"/t/{people.a.slug}/stats"
    assert client.get(url).status_code == 302
    people.charlie.sign_in(client)
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_numbers_match_the_orders_and_the_previous_period(client, people, backend, isolation):
    crafted_history(people.a)
    people.bob.sign_in(client)  # staff can read stats
    response = client.get(f"/t/{people.a.slug}/stats", query_string=WEEK)
    assert response.status_code == 200
    page = response.data.decode()
    # week: 6 orders; paid 20k + 40k + 30k (the 15k one was refunded); previous: 5 orders, 2 paid (40k)
    assert tile(page, "Net revenue") == ("$900.00", "▲ 125% up vs $400.00")
    assert tile(page, "Orders") == ("6", "▲ 20% up vs 5")
    assert tile(page, "Paid rate") == ("50%", "▲ 10 pts up vs 40%")
    assert tile(page, "Average order value") == ("$300.00", "▲ 50% up vs $200.00")
    assert tile(page, "New customers") == ("0", "— none in the previous period")
    assert "$150.00 refunded in this period" in page
    assert table_rows(page, "revenue-chart") == [
        ("Sat 8 Mar 2025", "$200.00"), ("Sun 9 Mar 2025", "$400.00"), ("Mon 10 Mar 2025", "$0.00"),
        ("Tue 11 Mar 2025", "$0.00"), ("Wed 12 Mar 2025", "$300.00"), ("Thu 13 Mar 2025", "$0.00"),
        ("Fri 14 Mar 2025", "$0.00")]
    assert table_rows(page, "status-chart") == [
        ("Pending", "1"), ("Paid", "3"), ("Failed", "0"), ("Expired", "0"), ("Cancelled", "1"),
        ("Refunded", "1")]
    # the same week counted afresh from the orders themselves
    week = [o for o in read(people.a, select(Order))
            if dt.date(2025, 3, 8) <= o.created_at.astimezone(UTC).date() <= dt.date(2025, 3, 14)]
    assert len(week) == 6
    assert sum(o.total for o in week if o.payment_status == "paid") == 90_000


def test_a_downturn_shows_a_down_arrow_not_only_red(client, people, backend, isolation):
    in_utc(people.a)
    add_order(people.a, total=10_000, status="paid", created_at=at("2025-03-03"))
    add_order(people.a, total=10_000, status="paid", created_at=at("2025-03-04"))
    add_order(people.a, total=5_000, status="paid", created_at=at("2025-03-10"))
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats", query_string=WEEK).data.decode()
    assert tile(page, "Net revenue") == ("$50.00", "▼ 75% down vs $200.00")
    assert tile(page, "Orders") == ("1", "▼ 50% down vs 2")
    assert tile(page, "Paid rate") == ("100%", "– 0 pts vs 100%")


def test_days_are_the_tenants_local_days(client, people, backend, isolation):
    people.a.timezone = "Asia/Jakarta"  # UTC+7
    db.session.commit()
    # 20:00 UTC on 1 March is 03:00 on 2 March in Jakarta; 16:59 UTC is still 1 March there
    add_order(people.a, total=1_000, status="paid", created_at=at("2025-03-01", "20:00"))
    add_order(people.a, total=2_000, status="paid", created_at=at("2025-03-01", "16:59"))
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/stats"
    first = client.get(url, query_string={"date_from": "2025-03-01", "date_to": "2025-03-01"}).data.decode()
    second = client.get(url, query_string={"date_from": "2025-03-02", "date_to": "2025-03-02"}).data.decode()
    assert tile(first, "Net revenue")[0] == "$20.00" and tile(first, "Orders")[0] == "1"
    assert tile(second, "Net revenue")[0] == "$10.00" and tile(second, "Orders")[0] == "1"
    assert "Asia/Jakarta" in second


def test_presets_end_today_in_the_tenants_time_zone(client, people, backend, isolation):
    zone = "Pacific/Kiritimati"  # UTC+14: its "today" is often tomorrow in UTC
    people.a.timezone = zone
    db.session.commit()
    ann = add_customer(people.a, "Ann Lee")  # a new customer today
    add_order(people.a, total=4_200, customer_id=ann.id, status="paid")  # placed now: today
    today = dt.datetime.now(ZoneInfo(zone)).date()
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats", query_string={"range": "7d"}).data.decode()
    rows = table_rows(page, "revenue-chart")
    assert len(rows) == 7
    assert rows[-1][0] == f"{today:%a} {today.day} {today:%b %Y}" and rows[-1][1] == "$42.00"
    assert all(value == "$0.00" for _day, value in rows[:-1])  # days without orders are shown
    assert tile(page, "New customers") == ("1", "— none in the previous period")
    assert 'id="range-7d" href="/t/{}/stats?range=7d"'.format(people.a.slug) in page
    assert re.search(r'id="range-7d"[^>]*aria-current="page"', page)


def test_charlie_never_sees_a_numbers(client, people, backend, isolation):
    big = add_customer(people.a, "Big Spender of A")
    add_order(people.a, total=777_700, customer_id=big.id, status="paid")
    add_order(people.b, total=1_100, status="paid")
    people.charlie.sign_in(client)
    page = client.get(f"/t/{people.b.slug}/stats", query_string={"range": "7d"}).data.decode()
    assert tile(page, "Net revenue")[0] == "$11.00"
    assert "7,777" not in page and "Big Spender" not in page
    people.bob.sign_in(client)
    mine = client.get(f"/t/{people.a.slug}/stats", query_string={"range": "7d"}).data.decode()
    assert tile(mine, "Net revenue")[0] == "$7,777.00" and "Big Spender of A" in mine


def test_top_customers_are_by_all_time_spend_and_link_to_them(client, people, backend, isolation):
    made = []
    for n, total in enumerate([5_000, 70_000, 20_000, 90_000, 10_000, 40_000]):
        customer = add_customer(people.a, f"Buyer {n}")
        add_order(people.a, total=total, customer_id=customer.id, status="paid",
                  created_at=at("2024-06-01"))  # long before any range: all-time totals
        made.append(customer)
    unpaid = add_customer(people.a, "Only Pending")
    add_order(people.a, total=500_000, customer_id=unpaid.id)
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats").data.decode()
    section = page[page.index('id="top-heading"'):]
    names = re.findall(r'/customers/([0-9a-f-]{36})">([^<]+)</a>', section)
    assert [name for _id, name in names] == ["Buyer 3", "Buyer 1", "Buyer 5", "Buyer 2", "Buyer 4"]
    assert names[0][0] == str(made[3].id)
    assert "all time" in section and "$900.00" in section and "Only Pending" not in page


def test_advanced_breakdowns_follow_the_flag(client, people, backend, isolation):
    crafted_history(people.a)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/stats"
    page = client.get(url, query_string=WEEK).data.decode()  # the test plan has advanced_stats on
    channel = page[page.index("Sales by channel"):page.index("Sales by payment method")]
    assert re.search(r'<th scope="row">Web</th>\s*<td class="num">4</td>\s*<td class="num">\$200\.00</td>', channel)
    assert re.search(r'<th scope="row">Store</th>\s*<td class="num">1</td>\s*<td class="num">\$400\.00</td>', channel)
    method = page[page.index("Sales by payment method"):]
    assert re.search(r'<th scope="row">Card</th>\s*<td class="num">4</td>\s*<td class="num">\$500\.00</td>', method)
    assert "available on higher plans" not in page

    set_override(people.a, "advanced_stats", False, "downgrade test", None,
                 audit.Actor("staff", None, "ana@vendor.example.com"))
    db.session.commit()
    off = client.get(url, query_string=WEEK).data.decode()  # seen on the very next request
    assert "Sales by channel" not in off and "Sales by payment method" not in off
    assert "available on higher plans" in off
    assert tile(off, "Net revenue")[0] == "$900.00"


def test_empty_state_for_a_new_tenant(client, people, backend, isolation):
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats").data.decode()
    assert "No orders in this period — record one" in page
    assert f'href="/t/{people.a.slug}/orders/new"' in page
    assert tile(page, "Orders") == ("0", "— none in the previous period")
    assert tile(page, "Paid rate")[0] == "—"
    assert 'aria-current="page">Stats</a>' in page  # the sidebar says where we are


def test_charts_are_svg_in_the_html_readable_without_javascript(client, people, backend, isolation):
    add_order(people.a, total=12_345, status="paid")
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats").data.decode()
    svgs = re.findall(r'<svg class="chart-svg"[^>]*role="img"[^>]*aria-labelledby="([^"]+)"', page)
    assert len(svgs) == 2
    for labelled_by in svgs:
        for element_id in labelled_by.split():
            assert f'id="{element_id}"' in page
    assert "<title id=\"revenue-chart-title\">Net revenue per day" in page
    assert re.search(r'<desc id="revenue-chart-desc">Total \$123\.45; highest \$123\.45 on ', page)
    assert page.count('<details class="chart-data">') == 2
    assert "<script" not in page.split("</head>")[1]  # nothing drawn by scripts


def test_presets_are_links_and_custom_is_a_get_form(client, people, backend, isolation):
    people.alice.sign_in(client)
    slug = people.a.slug
    page = client.get(f"/t/{slug}/stats").data.decode()
    for key in ("7d", "30d", "90d", "month"):
        assert f'href="/t/{slug}/stats?range={key}" hx-get="/t/{slug}/stats?range={key}"' in page
    assert re.search(r'id="range-30d"[^>]*aria-current="page"', page)  # the default
    form = re.search(r'<form class="filters stats-custom" method="get" action="([^"]+)"', page)
    assert form and form.group(1) == f"/t/{slug}/stats"
    assert '<input type="hidden" name="range" value="custom">' in page
    assert '<label for="date_from">From</label>' in page and '<label for="date_to">To</label>' in page


def test_htmx_gets_the_stats_fragment_and_the_pushed_url_the_page(client, people, backend, isolation):
    in_utc(people.a)
    add_order(people.a, total=2_500, status="paid", created_at=at("2025-03-09"))
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/stats"
    fragment = client.get(url, query_string=WEEK, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    body = fragment.data.decode()
    assert body.lstrip().startswith('<div id="stats"') and "<html" not in body
    assert tile(body, "Net revenue")[0] == "$25.00"
    restore = client.get(url, query_string=WEEK, headers={**HX, "HX-History-Restore-Request": "true"})
    assert b"<html" in restore.data
    full = client.get(url, query_string=WEEK).data.decode()
    assert 'value="2025-03-08"' in full and 'value="2025-03-14"' in full  # same state, bookmarkable


def test_custom_fields_start_from_the_preset_shown(client, people, backend, isolation):
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/stats", query_string={"range": "month"}).data.decode()
    today = re.search(r'name="date_to"[^>]*value="(\d{4}-\d\d-\d\d)"', page)
    first = re.search(r'name="date_from"[^>]*value="(\d{4}-\d\d-(\d\d))"', page)
    assert today and first and first.group(2) == "01"


@pytest.mark.parametrize("args, expected", [
    ({}, ("30d", "2026-02-14", "2026-03-15")),
    ({"range": "7d"}, ("7d", "2026-03-09", "2026-03-15")),
    ({"range": "90d"}, ("90d", "2025-12-16", "2026-03-15")),
    ({"range": "month"}, ("month", "2026-03-01", "2026-03-15")),
    ({"range": "7d", "date_from": "garbage"}, ("7d", "2026-03-09", "2026-03-15")),  # a preset wins
    ({"date_from": "2026-01-01", "date_to": "2026-01-31"}, ("custom", "2026-01-01", "2026-01-31")),
    ({"range": "custom", "date_from": "2026-03-15", "date_to": "2026-03-15"}, ("custom", "2026-03-15", "2026-03-15")),
    ({"range": "custom", "date_from": "2025-03-15", "date_to": "2026-03-15"}, ("custom", "2025-03-15", "2026-03-15")),
])
def test_parse_range(args, expected):
    rng = stats.parse_range(args, dt.date(2026, 3, 15))
    assert (rng.preset, rng.start.isoformat(), rng.end.isoformat()) == expected
    previous = rng.previous
    assert previous.days == rng.days and previous.end == rng.start - dt.timedelta(days=1)


def test_the_previous_month_period_has_the_same_length():
    rng = stats.parse_range({"range": "month"}, dt.date(2026, 3, 10))
    assert (rng.previous.start, rng.previous.end) == (dt.date(2026, 2, 19), dt.date(2026, 2, 28))


@pytest.mark.modes("shared")
@pytest.mark.parametrize("args, message", [
    ({"range": "365d"}, "Unknown range. Choose one of: 7d, 30d, 90d, month, custom."),
    ({"range": "custom"}, "Pick both a start and an end date."),
    ({"range": "custom", "date_from": "2025-03-01"}, "Pick both a start and an end date."),
    ({"date_from": "2025-02-30", "date_to": "2025-03-03"}, "YYYY-MM-DD"),
    ({"date_from": "yesterday", "date_to": "2025-03-03"}, "YYYY-MM-DD"),
    ({"date_from": "2025-03-02", "date_to": "2025-03-01"}, "The start date is after the end date."),
    ({"date_from": "2024-01-01", "date_to": "2025-03-01"}, "Pick at most 366 days."),
    ({"date_from": "2026-11-01", "date_to": "2999-12-31"}, "The end date is in the future"),
    ({"date_from": "0001-01-01", "date_to": "0001-01-02"}, "Enter a date between 1970-01-01 and 9998-12-31."),
    ({"date_from": "1999-12-01", "date_to": "1999-12-02"}, "Stats start on 2000-01-01"),
])
def test_bad_ranges_are_a_clear_422(client, people, backend, isolation, args, message):
    people.alice.sign_in(client)
    response = client.get(f"/t/{people.a.slug}/stats", query_string=args)
    assert response.status_code == 422
    page = response.data.decode()
    assert message in page and 'role="alert"' in page
    assert 'class="tile' not in page  # no numbers for a range that was refused
    assert f'href="/t/{people.a.slug}/stats?range=30d"' in page  # the way out is on the page


@pytest.mark.modes("shared")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_parameters_are_refused_and_escaped(client, people, backend, isolation, value):
    people.alice.sign_in(client)
    for args in ({"range": value}, {"date_from": value, "date_to": "2025-03-01"},
                 {"range": "custom", "date_from": "2025-03-01", "date_to": value}):
        response = client.get(f"/t/{people.a.slug}/stats", query_string=args)
        assert response.status_code == 422, (args, response.status_code)
        assert b"<script>alert(1)</script>" not in response.data


def test_sql_statements_do_not_depend_on_the_number_of_orders(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    add_order(people.a, customer_id=ann.id, status="paid")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/stats"
    client.get(url)  # warm caches (engines, plan)
    with count_queries() as few:
        assert client.get(url, query_string={"range": "90d"}).status_code == 200
    base = utcnow() - dt.timedelta(days=60)
    for n in range(30):
        customer = add_customer(people.a, f"Buyer {uuid.uuid4().hex[:6]}")
        add_order(people.a, customer_id=customer.id, status="paid" if n % 2 else None,
                  channel="store" if n % 3 else "web", created_at=base + dt.timedelta(days=n, hours=n))
    with count_queries() as many:
        assert client.get(url, query_string={"range": "90d"}).status_code == 200
    assert len(many) == len(few), many.statements
    stats_reads = [s for s in many.statements if "daily_stats" in s or "FROM customers" in s]
    assert len(stats_reads) == 3, stats_reads  # two grouped rollup reads and the top five
    assert not [s for s in many.statements if "FROM orders" in s]  # never scans orders


def test_the_sidebar_links_to_stats(client, people, backend, isolation):
    people.bob.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/").data.decode()
    nav = page[page.index('<nav class="sidebar"'):]
    assert f'<a href="/t/{people.a.slug}/stats">Stats</a>' in nav[:nav.index("</nav>")]


def test_validation_failed_is_raised_for_bad_dates_without_a_request():
    with pytest.raises(ValidationFailed) as caught:
        stats.parse_range({"date_from": "2025-13-01", "date_to": "2025-12-01"}, dt.date(2026, 1, 1))
    assert caught.value.field == "date_from"


def test_the_refused_date_field_points_to_the_message(client, people, backend, isolation):
    people.alice.sign_in(client)
    response = client.get(f"/t/{people.a.slug}/stats",
                          query_string={"date_from": "2025-03-02", "date_to": "2025-03-01"})
    page = response.data.decode()
    assert response.status_code == 422 and 'id="stats-error">The start date is after the end date.' in page
    to_field = re.search(r'<input[^>]*name="date_to"[^>]*>', page).group(0)
    from_field = re.search(r'<input[^>]*name="date_from"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in to_field and 'aria-describedby="stats-error"' in to_field
    assert 'value="2025-03-01"' in to_field  # what was typed stays in the form
    assert "aria-invalid" not in from_field
