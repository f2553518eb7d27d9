"""An order's page: items and totals, status changes along the state machine, notes, ownership."""
from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from extensions import db
from models.control import AuditEvent
from models.tenant import TRANSITIONS, PaymentStatus
from services import orders
from tenancy.context import tenant_context
from tests.portal.helpers import HOSTILE, HX, add_customer, add_order, customer_row, events_of, order_row

STATUSES = [s.value for s in PaymentStatus]
ALLOWED = [(f, t) for f, tos in TRANSITIONS.items() for t in tos]
REFUSED = [(f, t) for f in STATUSES for t in STATUSES + ["shipped", ""] if t not in TRANSITIONS.get(f, ())]


def order_in(tenant, status: str, customer_id=None, total: int = 12_345):
    """An order that has reached `status` through allowed transitions."""
    path = {"pending": [], "paid": ["paid"], "refunded": ["paid", "refunded"]}.get(status, [status])
    order = add_order(tenant, total=total, customer_id=customer_id)
    with tenant_context(tenant) as ctx:
        for step in path:
            orders.change_status(ctx.session, tenant, orders.get_order(ctx.session, order.id), step, "test")
        ctx.session.commit()
    return order


def _url(person, order_id, suffix: str = "") -> str:
    return f"/t/{person.tenant.slug}/orders/{order_id}{suffix}"


def test_it_shows_items_totals_customer_and_timeline(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann <b>Lee</b>", "ann@shop.example.com")
    order = add_order(people.a, total=125_050, customer_id=ann.id)
    people.bob.sign_in(client)
    page = client.get(_url(people.bob, order.id)).data.decode()
    assert f"Order #{order.number}" in page
    assert "Widget" in page and page.count("$1,250.50") >= 3  # line, subtotal, total
    assert "Ann &lt;b&gt;Lee&lt;/b&gt;" in page and "<b>Lee" not in page
    assert f"/t/{people.a.slug}/customers/{ann.id}" in page
    assert "Order created" in page and "Card" in page


def test_charlie_gets_404_for_a_orders_on_every_route(client, people, backend, isolation):
    order = add_order(people.a)
    people.charlie.sign_in(client)
    for method, suffix, data in [("get", "", None), ("post", "/status", {"to_status": "paid"}),
                                 ("post", "/notes", {"note": "hijack"})]:
        response = getattr(client, method)(_url(people.charlie, order.id, suffix), data=data)
        assert response.status_code == 404, (method, suffix)
    assert order_row(people.a, order.id).payment_status == "pending"
    assert len(events_of(people.a, order.id)) == 1


def test_unknown_order_id_is_404(client, people, backend, isolation):
    people.alice.sign_in(client)
    assert client.get(_url(people.alice, uuid.uuid4())).status_code == 404
    assert client.get(f"/t/{people.a.slug}/orders/not-a-uuid").status_code == 404


@pytest.mark.modes("shared")
@pytest.mark.parametrize("status", STATUSES)
def test_only_allowed_transitions_have_buttons(client, people, backend, isolation, status):
    order = order_in(people.a, status)
    people.alice.sign_in(client)
    page = client.get(_url(people.alice, order.id)).data.decode()
    offered = sorted(set(re.findall(r'name="to_status" value="(\w+)"', page)))
    assert offered == sorted(TRANSITIONS.get(status, ()))
    if not offered:
        assert "cannot change any more" in page


@pytest.mark.parametrize("from_status, to_status", ALLOWED)
def test_allowed_transition(client, people, backend, isolation, from_status, to_status):
    ann = add_customer(people.a, "Ann Lee")
    order = order_in(people.a, from_status, customer_id=ann.id)
    spent_before = customer_row(people.a, ann.id).total_spent
    people.bob.sign_in(client)
    response = client.post(_url(people.bob, order.id, "/status"), data={"to_status": to_status}, headers=HX)
    assert response.status_code == 200
    html = response.data.decode()
    assert html.lstrip().startswith('<section id="order-activity"') and "<html" not in html
    assert f"Payment {from_status} → {to_status}" in html
    assert order_row(people.a, order.id).payment_status == to_status
    last = events_of(people.a, order.id)[-1]
    assert (last.kind, last.from_status, last.to_status, last.actor_label) == \
        ("status", from_status, to_status, "bob@example.com")
    delta = {"paid": order.total, "refunded": -order.total}.get(to_status, 0)
    assert customer_row(people.a, ann.id).total_spent == spent_before + delta
    audit = db.session.execute(select(AuditEvent).where(AuditEvent.action == "order.status")).scalars().one()
    assert audit.tenant_id == people.a.id and audit.target_id == str(order.id)
    assert audit.after == {"payment_status": to_status} and audit.actor_label == "bob@example.com"


@pytest.mark.modes("shared")  # the state machine does not depend on where rows live
@pytest.mark.parametrize("from_status, to_status", REFUSED)
def test_refused_transition_is_409_and_changes_nothing(client, people, backend, isolation, from_status, to_status):
    ann = add_customer(people.a, "Ann Lee")
    order = order_in(people.a, from_status, customer_id=ann.id)
    events_before = len(events_of(people.a, order.id))
    spent_before = customer_row(people.a, ann.id).total_spent
    people.alice.sign_in(client)
    plain = client.post(_url(people.alice, order.id, "/status"), data={"to_status": to_status})
    assert plain.status_code == 409
    assert f"cannot go from {from_status} to {to_status}" in plain.data.decode()
    assert b"<html" in plain.data  # the order page, with the message
    htmx = client.post(_url(people.alice, order.id, "/status"), data={"to_status": to_status}, headers=HX)
    assert htmx.status_code == 409 and b"error-box-message" in htmx.data
    assert order_row(people.a, order.id).payment_status == from_status
    assert len(events_of(people.a, order.id)) == events_before
    assert customer_row(people.a, ann.id).total_spent == spent_before
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "order.status")).first() is None


def test_status_change_over_get_is_refused(client, people, backend, isolation):
    order = add_order(people.a)
    people.alice.sign_in(client)
    assert client.get(_url(people.alice, order.id, "/status?to_status=paid")).status_code == 405
    assert order_row(people.a, order.id).payment_status == "pending"


def test_add_note(client, people, backend, isolation):
    order = add_order(people.a)
    people.bob.sign_in(client)
    response = client.post(_url(people.bob, order.id, "/notes"),
                           data={"note": "Called <script>alert(1)</script> back"}, headers=HX)
    assert response.status_code == 200
    assert "Called &lt;script&gt;alert(1)&lt;/script&gt; back" in response.data.decode()
    assert b"<script>alert(1)" not in response.data
    last = events_of(people.a, order.id)[-1]
    assert (last.kind, last.note, last.actor_label) == ("note", "Called <script>alert(1)</script> back",
                                                        "bob@example.com")


@pytest.mark.parametrize("note, message", [("", "Write something"), ("   ", "Write something"),
                                           ("x" * 2001, "at most 2,000")])
def test_bad_note_is_422_and_writes_nothing(client, people, backend, isolation, note, message):
    order = add_order(people.a)
    people.alice.sign_in(client)
    response = client.post(_url(people.alice, order.id, "/notes"), data={"note": note}, headers=HX)
    assert response.status_code == 422
    assert message in response.data.decode() and 'class="field-error"' in response.data.decode()
    assert len(events_of(people.a, order.id)) == 1


@pytest.mark.modes("shared")
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_status_and_note_values(client, people, backend, isolation, value):
    order = add_order(people.a)
    people.alice.sign_in(client)
    status = client.post(_url(people.alice, order.id, "/status"), data={"to_status": value})
    assert status.status_code == 409 and b"<script>alert" not in status.data
    note = client.post(_url(people.alice, order.id, "/notes"), data={"note": value})
    assert note.status_code in (200, 422)
    assert b"<script>alert" not in note.data
    assert order_row(people.a, order.id).payment_status == "pending"


def test_customer_totals_follow_create_pay_and_refund(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    first = add_order(people.a, total=1_000, customer_id=ann.id)
    second = add_order(people.a, total=2_500, customer_id=ann.id)
    people.alice.sign_in(client)
    for order_id, to in [(first.id, "paid"), (second.id, "paid"), (first.id, "refunded")]:
        assert client.post(_url(people.alice, order_id, "/status"), data={"to_status": to}).status_code == 200
    customer = customer_row(people.a, ann.id)
    paid = [order_row(people.a, o.id) for o in (first, second)]
    assert customer.orders_count == 2
    assert customer.total_spent == sum(o.total for o in paid if o.payment_status == "paid") == 2_500


def test_status_change_without_csrf_token_is_refused(app, client, people, backend, isolation):
    order = add_order(people.a)
    people.alice.sign_in(client)
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(_url(people.alice, order.id, "/status"), data={"to_status": "paid"})
    assert response.status_code == 400 and b"Form expired" in response.data
    assert order_row(people.a, order.id).payment_status == "pending"
