"""Hostile input in every form field and query parameter of orders and customers.

Each field has the set of hostile values it may accept (saved literally, then shown escaped);
every other value must be refused with a 4xx and a message a person can read, and write nothing.
No value may produce a 500 or reach a page unescaped.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from extensions import db
from models.control import AuditEvent
from models.tenant import Customer, OrderItem
from services.paging import encode_cursor
from tests.portal.helpers import HX, add_customer, add_order, read, snapshot

VALUES: dict[str, str] = {
    "huge": "1" + "0" * 30,
    "negative": "-3",
    "zero": "0",
    "fraction": "1.5",
    "nan": "NaN",
    "infinity": "Infinity",
    "exponent": "1e999999999",
    "tiny": "1e-999999999",
    "underscored": "1_000",
    "rtl": "\u202eevil\u202c مرحبا",
    "emoji": "名前 😀👨‍👩‍👧",
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "sql": "'; DROP TABLE orders; --",
    "sql_like": "%' OR '1'='1",
    "nul": "a\x00b",
    "control": "a\x1b[31mb\x07",
    "overlong": "x" * 10_000,
    "wrong_type": "['a', {'b': 1}]",
    "blank": "   ",
    "unknown_uuid": "00000000-0000-4000-8000-000000000000",
}
# Printable text: a free-text field takes any of these literally.
TEXT = {"huge", "negative", "zero", "fraction", "nan", "infinity", "exponent", "tiny", "underscored",
        "rtl", "emoji", "script", "attribute", "sql", "sql_like", "wrong_type", "unknown_uuid"}
UNESCAPED = [b"<script>alert(1)", b'"><img src=x']
MESSAGE_MARKS = ['class="field-error"', 'class="alert alert-error"', 'class="error-message"',
                 'class="error-box-message"']


def _assert_safe(response: Any, what: Any) -> None:
    assert response.status_code < 500, (what, response.status_code)
    for raw in UNESCAPED:
        assert raw not in response.data, (what, "unescaped", raw)


def _assert_refused(response: Any, what: Any, statuses: tuple[int, ...] = (400, 422)) -> None:
    assert response.status_code in statuses, (what, response.status_code, response.data[:300])
    html = response.data.decode()
    assert any(mark in html for mark in MESSAGE_MARKS), (what, "no message", html[:500])


def _audit_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(AuditEvent.id))).scalar_one()


def order_data(**fields: str) -> dict[str, str]:
    data = {"payment_method": "card", "channel": "web", "discount": "0", "tax": "0", "customer_id": "",
            "items-0-name": "Tea", "items-0-quantity": "1", "items-0-unit_price": "5"}
    data.update(fields)
    return data


# field → (extra valid fields it needs, names of VALUES it accepts)
ORDER_FIELDS: dict[str, tuple[dict[str, str], set[str]]] = {
    "items-0-name": ({}, TEXT),
    "items-0-quantity": ({}, set()),
    "items-0-unit_price": ({}, {"zero", "fraction"}),
    "discount": ({}, {"zero", "fraction", "blank"}),
    "tax": ({}, {"zero", "fraction", "blank"}),
    "payment_method": ({}, set()),
    "channel": ({}, set()),
    "customer_id": ({}, set()),
    "new_customer_name": ({}, TEXT | {"blank"}),
    "new_customer_email": ({"new_customer_name": "Bo Chan"}, {"blank"}),
    "new_customer_phone": ({"new_customer_name": "Bo Chan"}, {"blank", "huge"}),
}
CUSTOMER_FIELDS: dict[str, tuple[dict[str, str], set[str]]] = {
    "name": ({}, TEXT),
    "email": ({"name": "Ann Lee"}, {"blank"}),
    "phone": ({"name": "Ann Lee"}, {"blank", "huge"}),
}


@pytest.mark.modes("shared")
@pytest.mark.parametrize("field", ORDER_FIELDS)
def test_new_order_fields(client, people, backend, isolation, field):
    needs, accepts = ORDER_FIELDS[field]
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders/new"
    for name, value in VALUES.items():
        before, audits = snapshot(people.a), _audit_count()
        response = client.post(url, data=order_data(**needs, **{field: value}))
        _assert_safe(response, (field, name))
        if name in accepts:
            assert response.status_code == 303, (field, name, response.data[:2000])
            for page in (response.headers["Location"], f"/t/{people.a.slug}/orders",
                         f"/t/{people.a.slug}/customers"):
                shown = client.get(page)
                assert shown.status_code == 200
                _assert_safe(shown, (field, name, page))
            assert snapshot(people.a)["orders"] != before["orders"]
        else:
            _assert_refused(response, (field, name))
            assert snapshot(people.a) == before and _audit_count() == audits, (field, name)
        totals = client.post(f"/t/{people.a.slug}/orders/totals", data=order_data(**needs, **{field: value}),
                             headers=HX)
        _assert_safe(totals, ("totals", field, name))


@pytest.mark.modes("shared")
@pytest.mark.parametrize("field", CUSTOMER_FIELDS)
@pytest.mark.parametrize("action", ["new", "edit"])
def test_customer_fields(client, people, backend, isolation, field, action):
    needs, accepts = CUSTOMER_FIELDS[field]
    ann = add_customer(people.a, "Ann Original", "ann@example.com")
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/customers/" + ("new" if action == "new" else f"{ann.id}/edit")
    for name, value in VALUES.items():
        before, audits = snapshot(people.a), _audit_count()
        response = client.post(url, data={**needs, field: value})
        _assert_safe(response, (field, name))
        if name in accepts:
            assert response.status_code == 303, (field, name, response.data[:2000])
            for page in (response.headers["Location"], f"/t/{people.a.slug}/customers",
                         f"/t/{people.a.slug}/orders/new"):
                shown = client.get(page)
                assert shown.status_code == 200
                _assert_safe(shown, (field, name, page))
            assert _audit_count() == audits + 1
        else:
            _assert_refused(response, (field, name))
            assert snapshot(people.a) == before and _audit_count() == audits, (field, name)


@pytest.mark.modes("shared")
def test_status_and_note_fields(client, people, backend, isolation):
    order = add_order(people.a)
    people.alice.sign_in(client)
    base = f"/t/{people.a.slug}/orders/{order.id}"
    for name, value in VALUES.items():
        before, audits = snapshot(people.a), _audit_count()
        status = client.post(f"{base}/status", data={"to_status": value})
        _assert_safe(status, ("to_status", name))
        _assert_refused(status, ("to_status", name), (409, 422))  # not a status this order can take
        assert snapshot(people.a) == before and _audit_count() == audits
        note = client.post(f"{base}/notes", data={"note": value})
        _assert_safe(note, ("note", name))
        if name in TEXT:
            assert note.status_code == 200 and snapshot(people.a) != before
            _assert_safe(client.get(base), ("note", name, "detail"))
        else:
            _assert_refused(note, ("note", name))
            assert snapshot(people.a) == before


def _bad_cursors() -> dict[str, str]:
    """Cursors that decode, but whose values have the wrong types for the sort's columns."""
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    return {"strings": encode_cursor(["x", "y"]), "numbers": encode_cursor([1, 2]),
            "swapped": encode_cursor([uuid.uuid4(), now]), "date": encode_cursor([now.date(), uuid.uuid4()]),
            "huge": encode_cursor([2**62, 2**62]), "short": encode_cursor([now])}


# list URL → parameter → names of VALUES it accepts (a 200 page); all others are a clear 4xx.
# A "contains" search needs 3 characters (a trigram index serves it): "-3" is refused with a message,
# and so is "0" where it cannot be an order number.
SEARCH = (TEXT - {"negative"}) | {"blank"}
CUSTOMER_SEARCH = SEARCH - {"zero"}
LIST_PARAMETERS: dict[str, dict[str, set[str]]] = {
    "orders": {"q": SEARCH, "status": set(), "method": set(), "channel": set(),
               "date_from": {"blank"}, "date_to": {"blank"}, "sort": set(), "customer": {"unknown_uuid"},
               "after": set(), "before": set()},
    "customers": {"q": CUSTOMER_SEARCH, "sort": set(), "after": set(), "before": set()},
    "orders/new": {"customer": set(VALUES)},  # only preselects a customer of the picker
    "orders/new/customers": {"customer_search": CUSTOMER_SEARCH},
}


@pytest.mark.modes("shared")
@pytest.mark.parametrize("path", LIST_PARAMETERS)
def test_query_parameters(client, people, backend, isolation, path):
    add_order(people.a, customer_id=add_customer(people.a, "<script>alert(1)</script>", "x@example.com").id)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/{path}"
    before = snapshot(people.a)
    for param, accepts in LIST_PARAMETERS[path].items():
        values = dict(VALUES)
        if param in ("after", "before"):
            values.update({f"cursor_{k}": v for k, v in _bad_cursors().items()})
        if param in ("date_from", "date_to"):
            values.update({"year_1": "0001-01-01", "year_9999": "9999-12-31"})
        for name, value in values.items():
            for headers in ({}, HX):
                response = client.get(url, query_string={param: value}, headers=headers)
                _assert_safe(response, (param, name))
                if name in accepts:
                    assert response.status_code == 200, (param, name)
                else:
                    _assert_refused(response, (param, name))
    assert snapshot(people.a) == before


@pytest.mark.modes("shared")
def test_sort_with_a_cursor_of_another_sort(client, people, backend, isolation):
    """A cursor made for "newest" (a date, an id) replayed with sort=total_desc (a number, an id)."""
    for total in (100, 200, 300):
        add_order(people.a, total=total)
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/orders"
    newest = encode_cursor([dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), uuid.uuid4()])
    by_total = encode_cursor([200, uuid.uuid4()])
    for sort, cursor in (("total_desc", newest), ("newest", by_total), ("oldest", by_total)):
        for param in ("after", "before"):
            response = client.get(url, query_string={"sort": sort, param: cursor})
            _assert_safe(response, (sort, param))
            _assert_refused(response, (sort, param))
    customers = f"/t/{people.a.slug}/customers"
    for sort, cursor in (("orders", newest), ("recent", by_total)):
        response = client.get(customers, query_string={"sort": sort, "after": cursor})
        _assert_refused(response, (sort, "customers"))


@pytest.mark.modes("shared")
def test_wrong_shapes_of_form_data(client, people, backend, isolation):
    people.alice.sign_in(client)
    new_order, new_customer = f"/t/{people.a.slug}/orders/new", f"/t/{people.a.slug}/customers/new"
    wrong_json = {"items-0-name": ["Tea"], "items-0-quantity": {"n": 1}, "items-0-unit_price": 5,
                  "discount": None, "tax": True, "payment_method": ["card"], "channel": 1,
                  "customer_id": {"id": 1}, "new_customer_name": 7, "new_customer_email": [],
                  "new_customer_phone": 1.5}
    refused = [  # Flask-WTF reads a JSON body as the form: only its text (and numbers) count
        (new_order, {"json": wrong_json}),
        (new_order, {"json": [1, 2]}),
        (new_order, {"data": "{not json", "content_type": "application/json"}),
        (new_order, {"data": order_data(remove_line="99999999999999999999")}),
        (new_order, {"data": {}}),
        (new_customer, {"json": {"name": ["Ann"], "email": 5, "phone": {"a": 1}}}),
        (new_customer, {"data": {"name": ["", "Ann"]}}),  # the first of repeated values counts
    ]
    before = snapshot(people.a)
    for url, body in refused:
        response = client.post(url, **body)
        _assert_safe(response, body)
        assert response.status_code in (200, 400, 422), (body, response.status_code)
    assert snapshot(people.a) == before
    saved = [
        (new_order, {"data": order_data(**{"items-0-quantity": ["2", "99999999999"]})}),
        (new_order, {"data": order_data(**{"items-0-name": "", "items-0-unit_price": "",
                                           "items-7-name": "Cup", "items-7-quantity": "3",
                                           "items-7-unit_price": "2"})}),
        (new_order, {"json": {**order_data(), "items-0-quantity": 4, "items-0-unit_price": 1.5}}),
        (new_customer, {"json": {"name": 12345, "email": None}}),
    ]
    for url, body in saved:
        response = client.post(url, **body)
        assert response.status_code == 303, (body, response.status_code)
    items = [(i.name, i.quantity, i.unit_price) for i in read(people.a, select(OrderItem))]
    assert sorted(items) == [("Cup", 3, 200), ("Tea", 2, 500), ("Tea", 4, 150)]
    assert [c.name for c in read(people.a, select(Customer))] == ["12345"]


@pytest.mark.modes("shared")
def test_every_write_without_a_csrf_token_is_refused(app, client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    order = add_order(people.a, customer_id=ann.id)
    people.alice.sign_in(client)
    app.config["WTF_CSRF_ENABLED"] = True
    slug = people.a.slug
    writes = [(f"/t/{slug}/orders/new", order_data()),
              (f"/t/{slug}/orders/{order.id}/status", {"to_status": "paid"}),
              (f"/t/{slug}/orders/{order.id}/notes", {"note": "sneaky"}),
              (f"/t/{slug}/customers/new", {"name": "Forged"}),
              (f"/t/{slug}/customers/{ann.id}/edit", {"name": "Forged"})]
    before, audits = snapshot(people.a), _audit_count()
    for url, data in writes:
        for headers in ({}, HX, {**HX, "X-CSRFToken": "forged"}):
            response = client.post(url, data={**data, "csrf_token": "forged"} if "X-CSRFToken" in headers
                                   else data, headers=headers)
            assert response.status_code == 400, (url, headers)
            assert b"Form expired" in response.data
    assert snapshot(people.a) == before and _audit_count() == audits
