"""Customers: list (search, sort, pages), detail with orders and totals, create and edit."""
from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, Tenant
from models.tenant import Customer
from services import customer_queries
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order, customer_row, read
from tests.querycount import count_queries


def _names(html: bytes) -> list[str]:
    return re.findall(r'/customers/[0-9a-f-]{36}">([^<]+)</a></td>', html.decode())


def _next_url(html: bytes, rel: str = "next") -> str | None:
    match = re.search(rb'rel="' + rel.encode() + rb'" href="([^"]+)"', html)
    return match.group(1).decode().replace("&amp;", "&") if match else None


def test_charlie_gets_404_for_a_customers_on_every_route(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann of A", "ann@example.com")
    add_order(people.a, customer_id=ann.id)
    people.charlie.sign_in(client)
    base = f"/t/{people.b.slug}/customers/{ann.id}"
    assert client.get(base).status_code == 404
    assert client.get(f"{base}/edit").status_code == 404
    assert client.post(f"{base}/edit", data={"name": "Hijacked"}).status_code == 404
    assert customer_row(people.a, ann.id).name == "Ann of A"
    orders = client.get(f"/t/{people.b.slug}/orders", query_string={"customer": str(ann.id)})
    assert orders.status_code == 200 and b"Ann of A" not in orders.data
    assert client.get(f"/t/{people.a.slug}/customers").status_code == 302  # not signed in at A


def test_unknown_customer_is_404(client, people, backend, isolation):
    people.alice.sign_in(client)
    assert client.get(f"/t/{people.a.slug}/customers/{uuid.uuid4()}").status_code == 404


def test_list_search_and_empty_states(client, people, backend, isolation):
    people.bob.sign_in(client)
    empty = client.get(f"/t/{people.a.slug}/customers")
    assert "No customers yet — add the first one" in empty.data.decode()
    add_customer(people.a, "Ann Lee", "ann@shop.example.com")
    add_customer(people.a, "Bo Chan", "bo@other.example.com")
    add_customer(people.b, "Secret of B", "secret@example.com")
    url = f"/t/{people.a.slug}/customers"
    assert sorted(_names(client.get(url).data)) == ["Ann Lee", "Bo Chan"]
    assert _names(client.get(url, query_string={"q": "ANN"}).data) == ["Ann Lee"]
    assert _names(client.get(url, query_string={"q": "other.EXAMPLE"}).data) == ["Bo Chan"]
    assert _names(client.get(url, query_string={"q": "%"}).data) == []
    none = client.get(url, query_string={"q": "secret"})
    assert _names(none.data) == [] and b"No customers match this search." in none.data
    fragment = client.get(url, query_string={"q": "ann"}, headers=HX)
    assert fragment.data.decode().lstrip().startswith('<section id="results"')


def test_sorts_by_recent_orders_and_spent(client, people, backend, isolation):
    few = add_customer(people.a, "Few Orders")
    many = add_customer(people.a, "Many Orders")
    big = add_customer(people.a, "Big Spender")
    for _ in range(3):
        add_order(people.a, customer_id=many.id, total=100, status="paid")
    add_order(people.a, customer_id=few.id, total=100)
    add_order(people.a, customer_id=big.id, total=99_000, status="paid")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/customers"
    assert _names(client.get(url).data) == ["Big Spender", "Many Orders", "Few Orders"]
    assert _names(client.get(url, query_string={"sort": "orders"}).data)[0] == "Many Orders"
    assert _names(client.get(url, query_string={"sort": "spent"}).data) == ["Big Spender", "Many Orders", "Few Orders"]


def test_pages_do_not_overlap(client, people, backend, isolation):
    for n in range(customer_queries.PAGE_SIZE + 3):
        add_customer(people.a, f"Customer {n:02d}")
    people.alice.sign_in(client)
    first = client.get(f"/t/{people.a.slug}/customers", query_string={"sort": "orders"})
    page1 = _names(first.data)
    second = client.get(_next_url(first.data))
    page2 = _names(second.data)
    assert len(page1) == customer_queries.PAGE_SIZE and len(page2) == 3 and not set(page1) & set(page2)
    assert _names(client.get(_next_url(second.data, "prev")).data) == page1


def test_list_sql_statements_do_not_grow_with_rows(client, people, backend, isolation):
    add_customer(people.a, "One")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/customers"
    client.get(url)
    with count_queries() as few:
        client.get(url)
    for n in range(10):
        add_customer(people.a, f"More {n}")
    with count_queries() as many:
        assert len(_names(client.get(url).data)) == 11
    assert len(many) == len(few)


@pytest.mark.modes("shared")
@pytest.mark.parametrize("params", [{"sort": "name; DROP TABLE customers"}, {"q": "x" * 10_000},
                                    {"q": "a\x00b"}])
def test_invalid_list_parameters_are_422(client, people, backend, isolation, params):
    people.alice.sign_in(client)
    response = client.get(f"/t/{people.a.slug}/customers", query_string=params)
    assert response.status_code == 422 and b'class="alert alert-error"' in response.data


def test_detail_shows_totals_latest_orders_and_a_link_to_all(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@example.com", "+62 812 555 01")
    base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    made = [add_order(people.a, customer_id=ann.id, total=1_000, created_at=base + dt.timedelta(hours=n))
            for n in range(22)]
    add_order(people.a, customer_id=ann.id, total=5_000, status="paid")
    add_order(people.a, total=7_777, status="paid")  # someone else's
    people.bob.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/customers/{ann.id}").data.decode()
    assert "$50.00" in page and "+62 812 555 01" in page
    assert len(re.findall(r'/orders/[0-9a-f-]{36}">#', page)) == 20
    assert f"#{made[0].number}<" not in page  # the oldest is beyond the latest 20
    assert f"/t/{people.a.slug}/orders?customer={ann.id}" in page and "All 23 orders" in page
    customer = customer_row(people.a, ann.id)
    assert customer.orders_count == 23 and customer.total_spent == 5_000


def test_create_customer(client, people, backend, isolation):
    people.bob.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/customers/new",
                           data={"name": "  Ann   Lee ", "email": "Ann@Example.com", "phone": "+62 (812) 555-01"})
    assert response.status_code == 303
    customer = read(people.a, select(Customer))[0]
    assert (customer.name, customer.email, customer.phone) == ("Ann Lee", "ann@example.com", "+62 (812) 555-01")
    assert response.headers["Location"].endswith(f"/customers/{customer.id}")
    tenant = db.session.get(Tenant, people.a.id)
    db.session.refresh(tenant)
    assert tenant.usage_customers == 1
    assert db.session.execute(select(AuditEvent.action).where(AuditEvent.target_id == str(customer.id))).scalar_one() == "customer.create"
    htmx = client.post(f"/t/{people.a.slug}/customers/new", data={"name": "Bo"}, headers=HX)
    assert htmx.status_code == 204 and "/customers/" in htmx.headers["HX-Location"]


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "email": "kept@example.com"}, "name", "Enter the customer"),
    ({"name": "Ann", "email": "not-an-email"}, "email", ""),
    ({"name": "Ann", "phone": "call me <script>"}, "phone", "Enter a phone number"),
    ({"name": "Ann", "email": "taken@example.com"}, "email", "already exists"),
    ({"name": "Ann", "email": "TAKEN@example.com "}, "email", "already exists"),
    ({"name": "x" * 121}, "name", "cannot be longer than 120"),
    ({"name": "Ann\x00"}, "name", "control characters"),
])
@pytest.mark.modes("shared")
def test_invalid_customer_is_422_next_to_the_field(client, people, backend, isolation, data, field, message):
    add_customer(people.a, "Taken", "taken@example.com")
    people.alice.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/customers/new", data=data, headers=HX)
    assert response.status_code == 422
    html = response.data.decode()
    assert html.lstrip().startswith('<form id="customer-form"')
    error = re.search(rf'id="{field}-error">([^<]*)<', html)
    assert error and message in error.group(1), html
    for key, value in data.items():  # the other values are kept
        if key != field and value:
            assert f'value="{value}"' in html
    assert len(read(people.a, select(Customer.id))) == 1


@pytest.mark.modes("shared")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_customer_fields(client, people, backend, isolation, value):
    people.alice.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/customers/new", data={"name": value, "email": "", "phone": ""})
    assert response.status_code in (303, 422)
    assert b"<script>alert(1)" not in response.data
    if response.status_code == 303:
        page = client.get(response.headers["Location"])
        assert page.status_code == 200 and b"<script>alert(1)" not in page.data
        listing = client.get(f"/t/{people.a.slug}/customers")
        assert b"<script>alert(1)" not in listing.data
    for field in ("email", "phone"):
        refused = client.post(f"/t/{people.a.slug}/customers/new", data={"name": "Ann", field: value})
        assert refused.status_code == 422, (field, value)


def test_customer_limit_is_a_clear_402(client, people, backend, isolation):
    people.a.plan.max_customers = 1
    db.session.commit()
    add_customer(people.a, "First")
    people.alice.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/customers/new", data={"name": "Second"})
    assert response.status_code == 402
    assert b"Your plan allows 1 customers" in response.data and b'value="Second"' in response.data
    htmx = client.post(f"/t/{people.a.slug}/customers/new", data={"name": "Second"}, headers=HX)
    assert htmx.status_code == 402 and b"error-box-message" in htmx.data
    assert [c.name for c in read(people.a, select(Customer))] == ["First"]


def test_edit_customer(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@example.com")
    add_customer(people.a, "Bo Chan", "bo@example.com")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/customers/{ann.id}/edit"
    form = client.get(url)
    assert form.status_code == 200 and b'value="ann@example.com"' in form.data
    taken = client.post(url, data={"name": "Ann B", "email": "bo@example.com"})
    assert taken.status_code == 422 and b"already exists" in taken.data and b'value="Ann B"' in taken.data
    assert customer_row(people.a, ann.id).name == "Ann Lee"
    saved = client.post(url, data={"name": "Ann B", "email": "ann@example.com", "phone": "0812 555 01"})
    assert saved.status_code == 303
    customer = customer_row(people.a, ann.id)
    assert (customer.name, customer.phone) == ("Ann B", "0812 555 01")
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "customer.update")).scalar_one()
    assert audit.before == {"name": "Ann Lee", "phone": None} and audit.after["name"] == "Ann B"
