"""The orders list: search, filters, sort, keyset pages, counts, fragments, bad input, SQL budget."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from extensions import db
from services import order_queries
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order
from tests.querycount import count_queries


def _numbers(html: bytes) -> list[int]:
    return [int(n) for n in re.findall(rb">#(\d+)</a>", html)]


def _next_url(html: bytes, rel: str = "next") -> str | None:
    match = re.search(rb'rel="' + rel.encode() + rb'" href="([^"]+)"', html)
    return match.group(1).decode().replace("&amp;", "&") if match else None


def test_it_requires_a_signed_in_user_of_the_tenant(client, people, backend, isolation):
    assert client.get(f"/t/{people.a.slug}/orders").status_code == 302
    people.charlie.sign_in(client)
    response = client.get(f"/t/{people.a.slug}/orders")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_it_lists_only_this_tenants_orders(client, people, backend, isolation):
    add_order(people.a, customer_id=add_customer(people.a, "Ann of A").id)
    add_order(people.b, customer_id=add_customer(people.b, "Secret of B").id)
    people.bob.sign_in(client)  # staff can read orders
    page = client.get(f"/t/{people.a.slug}/orders")
    assert page.status_code == 200
    assert b"Ann of A" in page.data and b"Secret of B" not in page.data
    assert b"1 order<" in page.data


def test_empty_state_links_to_new_order(client, people, backend, isolation):
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/orders")
    assert "No orders yet — record the first one" in page.data.decode()
    assert f'href="/t/{people.a.slug}/orders/new"'.encode() in page.data
    filtered = client.get(f"/t/{people.a.slug}/orders?status=paid")
    assert b"No orders match these filters." in filtered.data


def test_search_by_number_name_and_email(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@shop.example.com")
    bo = add_customer(people.a, "Bo Chan", "bo@other.example.com")
    first = add_order(people.a, customer_id=ann.id)
    second = add_order(people.a, customer_id=bo.id)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    assert _numbers(client.get(url, query_string={"q": f"#{first.number}"}).data) == [first.number]
    assert _numbers(client.get(url, query_string={"q": str(second.number)}).data) == [second.number]
    assert _numbers(client.get(url, query_string={"q": "ann LE"}).data) == [first.number]
    assert _numbers(client.get(url, query_string={"q": "OTHER.example"}).data) == [second.number]
    assert _numbers(client.get(url, query_string={"q": "example"}).data) == [second.number, first.number]
    # LIKE wildcards are taken literally
    assert _numbers(client.get(url, query_string={"q": "%"}).data) == []
    assert _numbers(client.get(url, query_string={"q": "_"}).data) == []
    assert _numbers(client.get(url, query_string={"q": "#99999999999999999999"}).data) == []


def test_filters_by_status_method_channel_and_customer(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    paid = add_order(people.a, status="paid", method="cash", channel="store", customer_id=ann.id)
    pending = add_order(people.a, method="card", channel="web")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    assert _numbers(client.get(url, query_string={"status": "paid"}).data) == [paid.number]
    assert _numbers(client.get(url, query_string={"status": "pending"}).data) == [pending.number]
    assert _numbers(client.get(url, query_string={"method": "cash"}).data) == [paid.number]
    assert _numbers(client.get(url, query_string={"channel": "web"}).data) == [pending.number]
    assert _numbers(client.get(url, query_string={"customer": str(ann.id)}).data) == [paid.number]
    assert _numbers(client.get(url, query_string={"status": "paid", "channel": "web"}).data) == []


def test_date_range_is_in_the_tenants_time_zone(client, people, backend, isolation):
    people.a.timezone = "Asia/Jakarta"  # UTC+7
    db.session.commit()
    # 20:00 UTC on 1 March is 03:00 on 2 March in Jakarta
    late = add_order(people.a, created_at=dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone.utc))
    early = add_order(people.a, created_at=dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone.utc))
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    march_2 = {"date_from": "2026-03-02", "date_to": "2026-03-02"}
    assert _numbers(client.get(url, query_string=march_2).data) == [late.number]
    assert _numbers(client.get(url, query_string={"date_to": "2026-03-01"}).data) == [early.number]
    assert _numbers(client.get(url, query_string={"date_from": "2026-03-03"}).data) == []


def test_sorts(client, people, backend, isolation):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    made = [add_order(people.a, total=t, created_at=base + dt.timedelta(hours=n))
            for n, t in enumerate([500, 100, 900])]
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    by_number = [o.number for o in made]
    assert _numbers(client.get(url).data) == by_number[::-1]
    assert _numbers(client.get(url, query_string={"sort": "oldest"}).data) == by_number
    assert _numbers(client.get(url, query_string={"sort": "total_desc"}).data) == [made[2].number, made[0].number, made[1].number]
    assert _numbers(client.get(url, query_string={"sort": "total_asc"}).data) == [made[1].number, made[0].number, made[2].number]


@pytest.mark.parametrize("sort", ["newest", "total_asc"])
def test_keyset_pages_do_not_overlap_and_go_back(client, people, backend, isolation, sort):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    for n in range(order_queries.PAGE_SIZE + 5):  # equal totals: ties are broken by id
        add_order(people.a, total=1000 if n % 2 else 2000, created_at=base + dt.timedelta(minutes=n))
    people.alice.sign_in(client)
    first = client.get(f"/t/{people.a.slug}/orders", query_string={"sort": sort, "status": "pending"})
    page1 = _numbers(first.data)
    assert len(page1) == order_queries.PAGE_SIZE
    next_url = _next_url(first.data)
    assert next_url and f"sort={sort}" in next_url and "status=pending" in next_url
    second = client.get(next_url)
    page2 = _numbers(second.data)
    assert len(page2) == 5 and not set(page1) & set(page2)
    assert _next_url(second.data) is None
    back = client.get(_next_url(second.data, "prev"))
    assert _numbers(back.data) == page1


def test_count_is_capped(client, people, backend, isolation, monkeypatch):
    for _ in range(4):
        add_order(people.a)
    monkeypatch.setattr(order_queries, "COUNT_CAP", 3)
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/orders")
    assert b"3+ orders" in page.data


def test_htmx_gets_the_results_fragment_and_history_restore_the_page(client, people, backend, isolation):
    add_order(people.a)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders?q=dana&status=pending"
    fragment = client.get(url, headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert fragment.data.decode().lstrip().startswith('<section id="results"')
    assert b"<html" not in fragment.data
    full = client.get(url, headers={**HX, "HX-History-Restore-Request": "true"})
    assert b"<html" in full.data and b'value="dana"' in full.data
    same_url = client.get(url)  # the pushed URL renders the same state as a whole page
    assert b'value="dana"' in same_url.data and b'<option selected value="pending">' in same_url.data


def test_the_filter_form_works_without_javascript(client, people, backend, isolation):
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/orders").data.decode()
    form = re.search(r'<form class="filters" method="get" action="([^"]+)"', page)
    assert form and form.group(1) == f"/t/{people.a.slug}/orders"
    assert 'type="submit"' in page and 'hx-push-url="true"' in page


@pytest.mark.modes("shared")
@pytest.mark.parametrize("params, message", [
    ({"status": "shipped"}, "Unknown payment status"),
    ({"method": "bitcoin"}, "Unknown payment method"),
    ({"channel": "<script>"}, "Unknown channel"),
    ({"sort": "total; DROP TABLE orders"}, "Unknown sort"),
    ({"date_from": "2026-02-30"}, "YYYY-MM-DD"),
    ({"date_to": "yesterday"}, "YYYY-MM-DD"),
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "start date is after"),
    ({"customer": "not-a-uuid"}, "customer link is not valid"),
    ({"q": "x" * 10_000}, "at most 200 characters"),
])
def test_invalid_filters_are_a_clear_422(client, people, backend, isolation, params, message):
    people.alice.sign_in(client)
    response = client.get(f"/t/{people.a.slug}/orders", query_string=params)
    assert response.status_code == 422
    assert message in response.data.decode()
    assert b"<script>" not in response.data


def test_a_broken_cursor_is_a_clear_400(client, people, backend, isolation):
    people.alice.sign_in(client)
    for cursor in ["garbage", "W1s", "x" * 5000, "WyIxIl0"]:
        response = client.get(f"/t/{people.a.slug}/orders", query_string={"after": cursor})
        assert response.status_code == 400, cursor
        assert b"page link is broken" in response.data


@pytest.mark.modes("shared")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_search_is_handled_and_escaped(client, people, backend, isolation, value):
    add_order(people.a, customer_id=add_customer(people.a, "<script>alert(1)</script>").id)
    people.alice.sign_in(client)
    for params in ({"q": value}, {"status": value}, {"date_from": value}, {"sort": value},
                   {"customer": value}, {"before": value}):
        response = client.get(f"/t/{people.a.slug}/orders", query_string=params)
        assert response.status_code in (200, 400, 422), (params, response.status_code)
        assert b"<script>alert(1)</script>" not in response.data


def test_sql_statements_do_not_grow_with_rows_shown(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    add_order(people.a, customer_id=ann.id)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    client.get(url)  # warm caches (engines, plan)
    with count_queries() as few:
        assert len(_numbers(client.get(url).data)) == 1
    for _ in range(order_queries.PAGE_SIZE + 3):
        add_order(people.a, customer_id=ann.id, status="paid")
    with count_queries() as many:
        assert len(_numbers(client.get(url).data)) == order_queries.PAGE_SIZE
    assert len(many) == len(few), many.statements
    assert len(many) <= 10
