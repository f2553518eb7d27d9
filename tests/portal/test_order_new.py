"""The new-order form: customers, line items (with and without JavaScript), live totals, limits."""
from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from extensions import db
from models.control import Tenant
from models.tenant import Customer, OrderItem
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order, customer_row, order_count, read


def order_data(*lines: tuple[str, str, str], **fields: str) -> dict[str, str]:
    data = {"payment_method": "card", "channel": "web", "discount": "0", "tax": "0", "customer_id": ""}
    for n, (name, quantity, price) in enumerate(lines):
        data.update({f"items-{n}-name": name, f"items-{n}-quantity": quantity, f"items-{n}-unit_price": price})
    data.update(fields)
    return data


def _new(person: Any) -> str:
    return f"/t/{person.tenant.slug}/orders/new"


def test_the_form_offers_recent_customers(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@shop.example.com")
    add_customer(people.b, "Secret of B")
    people.bob.sign_in(client)
    page = client.get(_new(people.bob))
    assert page.status_code == 200
    assert f'value="{ann.id}"'.encode() in page.data and b"Ann Lee" in page.data
    assert b"Secret of B" not in page.data
    chosen = client.get(_new(people.bob), query_string={"customer": str(ann.id)})
    assert f'<option selected value="{ann.id}">'.encode() in chosen.data


def test_create_for_an_existing_customer(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    people.bob.sign_in(client)  # staff can record orders
    data = order_data(("Tea", "2", "1,250.50"), ("Cup", "1", "$3"), ("", "", ""),
                      customer_id=str(ann.id), discount="1.00", tax="0.50", channel="store",
                      payment_method="cash")
    response = client.post(_new(people.bob), data=data)
    assert response.status_code == 303
    order_id = response.headers["Location"].rsplit("/", 1)[1]
    detail = client.get(response.headers["Location"]).data.decode()
    assert "$2,504.00" in detail and "$2,503.50" in detail  # subtotal, total
    items = read(people.a, select(OrderItem).order_by(OrderItem.position))
    assert [(i.name, i.quantity, i.unit_price) for i in items] == [("Tea", 2, 125_050), ("Cup", 1, 300)]
    assert str(items[0].order_id) == order_id
    assert customer_row(people.a, ann.id).orders_count == 1


def test_create_with_a_new_customer_over_htmx_and_usage_is_mirrored(client, people, backend, isolation):
    people.alice.sign_in(client)
    data = order_data(("Tea", "1", "10"), new_customer_name="Bo Chan", new_customer_email="BO@example.com",
                      new_customer_phone="+62 812 555")
    response = client.post(_new(people.alice), data=data, headers=HX)
    assert response.status_code == 204
    assert re.match(rf"/t/{people.a.slug}/orders/[0-9a-f-]{{36}}$", response.headers["HX-Location"])
    customers = read(people.a, select(Customer))
    assert [(c.name, c.email, c.orders_count) for c in customers] == [("Bo Chan", "bo@example.com", 1)]
    tenant = db.session.get(Tenant, people.a.id)
    db.session.refresh(tenant)
    assert tenant.usage_orders_month == 1 and tenant.usage_customers == 1 and tenant.usage_month


def test_add_and_remove_lines_without_javascript(client, people, backend, isolation):
    people.alice.sign_in(client)
    added = client.post(_new(people.alice), data=order_data(("Tea", "1", "10"), add_line="1"))
    assert added.status_code == 200
    assert b'name="items-1-name"' in added.data and b'value="Tea"' in added.data
    removed = client.post(_new(people.alice), data=order_data(("Tea", "1", "10"), ("Cup", "2", "3"),
                                                              remove_line="0"))
    assert removed.status_code == 200
    assert b'value="Cup"' in removed.data and b'value="Tea"' not in removed.data
    assert b'name="items-1-name"' not in removed.data
    assert order_count(people.a) == 0


@pytest.mark.parametrize("data, message", [
    (order_data(), "Add at least one line item."),
    (order_data(("Tea", "1", "abc")), "Enter an amount, for example $1,250.00"),
    (order_data(("Tea", "1", "12abc")), "is not an amount"),
    (order_data(("Tea", "1", "-5")), "cannot be negative"),
    (order_data(("Tea", "1", "1e309")), "is not an amount"),
    (order_data(("Tea", "1", "9" * 40)), "cannot be longer than 30"),
    (order_data(("Tea", "1", "99999999999999")), "too large"),
    (order_data(("Tea", "1", "1.005")), "at most 2 decimals"),
    (order_data(("Tea", "1", "")), "Enter a price."),
    (order_data(("Tea", "-3", "1")), "Between 1 and"),
    (order_data(("Tea", "0", "1")), "Between 1 and"),
    (order_data(("Tea", "10000000000", "1")), "Between 1 and"),
    (order_data(("Tea", "two", "1")), "Not a valid integer"),
    (order_data(("", "1", "5")), "give the item a name"),
    (order_data(("x" * 201, "1", "5")), "Field cannot be longer than 200 characters"),
    (order_data(("Tea", "100000", "99999999999")), "too large"),
    (order_data(("Tea", "1", "5"), discount="6"), "cannot be more than the subtotal"),
    (order_data(("Tea", "1", "5"), tax="-1"), "cannot be negative"),
    (order_data(("Tea", "1", "5"), channel="'; DROP TABLE orders; --"), "Not a valid choice"),
    (order_data(("Tea", "1", "5"), payment_method="bitcoin"), "Not a valid choice"),
    (order_data(("Tea", "1", "5"), customer_id="not-a-uuid"), "That customer does not exist."),
    (order_data(("Tea", "1", "5"), new_customer_name="Bo", new_customer_email="nope"), "email"),
    (order_data(("Tea", "1", "5"), new_customer_name="Bo", new_customer_phone="<script>"), "phone number"),
    (order_data(("Tea", "1", "5"), new_customer_email="x@example.com"), "Enter the customer"),
])
@pytest.mark.modes("shared")
def test_invalid_orders_are_422_and_save_nothing(client, people, backend, isolation, data, message):
    people.alice.sign_in(client)
    response = client.post(_new(people.alice), data=data, headers=HX)
    assert response.status_code == 422
    html = response.data.decode()
    assert html.lstrip().startswith('<form id="order-form"') and message in html, html
    assert order_count(people.a) == 0 and read(people.a, select(Customer.id)) == []


def test_another_tenants_customer_cannot_be_picked(client, people, backend, isolation):
    theirs = add_customer(people.a, "Ann of A")
    people.charlie.sign_in(client)
    response = client.post(_new(people.charlie), data=order_data(("Tea", "1", "5"), customer_id=str(theirs.id)))
    assert response.status_code == 422 and b"That customer does not exist." in response.data
    assert order_count(people.b) == 0 and customer_row(people.a, theirs.id).orders_count == 0


def test_duplicate_new_customer_email_is_refused_on_its_field(client, people, backend, isolation):
    add_customer(people.a, "Ann Lee", "ann@example.com")
    people.alice.sign_in(client)
    response = client.post(_new(people.alice), data=order_data(
        ("Tea", "1", "5"), new_customer_name="Other Ann", new_customer_email="ann@example.com"))
    assert response.status_code == 422
    assert re.search(rb'id="new_customer_email-error">A customer with this email already exists', response.data)
    assert order_count(people.a) == 0


@pytest.mark.modes("shared")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_is_saved_literally_or_refused_and_always_escaped(client, people, backend, isolation, value):
    people.alice.sign_in(client)
    response = client.post(_new(people.alice), data=order_data((value, "1", "5"), new_customer_name=value))
    assert response.status_code in (303, 422)
    assert b"<script>alert(1)" not in response.data
    if response.status_code == 303:
        detail = client.get(response.headers["Location"])
        assert detail.status_code == 200 and b"<script>alert(1)" not in detail.data
    else:
        assert order_count(people.a) == 0


def test_monthly_limit_is_a_clear_402_and_saves_nothing(client, people, backend, isolation):
    people.a.plan.max_orders_per_month = 1
    db.session.commit()
    add_order(people.a)
    people.alice.sign_in(client)
    data = order_data(("Tea", "1", "5"), new_customer_name="Bo Chan")
    plain = client.post(_new(people.alice), data=data)
    assert plain.status_code == 402
    assert b"Your plan allows 1 orders a month" in plain.data and b'value="Bo Chan"' in plain.data
    htmx = client.post(_new(people.alice), data=data, headers=HX)
    assert htmx.status_code == 402 and b"error-box-message" in htmx.data
    assert order_count(people.a) == 1
    assert read(people.a, select(Customer.id)) == []


def test_live_totals(client, people, backend, isolation):
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders/totals"
    ok = client.post(url, data=order_data(("Tea", "2", "1,000.25"), tax="1"), headers=HX)
    assert ok.status_code == 200
    html = ok.data.decode()
    assert html.lstrip().startswith('<div id="order-totals"') and "$2,000.50" in html and "$2,001.50" in html
    bad = client.post(url, data=order_data(("Tea", "2", "lots")), headers=HX)
    assert b"Fix the highlighted amounts" in bad.data
    too_much = client.post(url, data=order_data(("Tea", "1", "5"), discount="9"), headers=HX)
    assert b"cannot be more than the subtotal" in too_much.data
    assert order_count(people.a) == 0


def test_customer_picker_search(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@shop.example.com")
    add_customer(people.a, "Bo Chan")
    add_customer(people.b, "Ann of B")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders/new/customers"
    found = client.get(url, query_string={"customer_search": "ann"}, headers=HX)
    assert found.status_code == 200
    html = found.data.decode()
    assert html.lstrip().startswith('<div id="customer-choices">')
    assert f'value="{ann.id}"' in html and "Bo Chan" not in html and "Ann of B" not in html
    assert client.get(url, query_string={"customer_search": "<script>" * 100}, headers=HX).status_code == 422
