"""Derived numbers agree with the orders they come from.

- The daily rollup (stats) equals a fresh aggregate over the orders, per local day and slice, after
  any sequence of creates, status changes (allowed and refused) and refunds (hypothesis).
- Every customer's orders_count / total_spent / last_order_at equal their orders (examples + hypothesis).
- Orders show their customer's current name and email (a rename reaches the list, detail and search).
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections import defaultdict
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from extensions import db
from models.control import Tenant
from models.tenant import CHANNELS, PAYMENT_METHODS, Customer, Order, PaymentStatus
from services import customers, orders
from services.errors import LimitReached, TransitionRefused, ValidationFailed
from tenancy.context import tenant_context
from tests.factories import make_plan, make_tenant
from tests.portal.helpers import HX, add_customer, add_order, customer_row, fresh_rollup, local_day, order_row, stored_rollup

UTC = dt.timezone.utc
STATUSES = [s.value for s in PaymentStatus]
# Zones far east and west of UTC, so a UTC day and a local day differ; BASE is near a month end.
TIMEZONES = ["UTC", "Asia/Jakarta", "America/Los_Angeles", "Pacific/Kiritimati", "Pacific/Pago_Pago"]
BASE = dt.datetime(2026, 3, 30, 18, 0, tzinfo=UTC)
EMAILS = [None, "ann@example.com", "bo@example.com", "ANN@example.com"]  # duplicates are refused


# --- a fresh aggregate, by the rules of DESIGN §4 ----------------------------------------------

def fresh_customer_totals(all_orders: list[Order]) -> dict[Any, tuple[int, int, dt.datetime | None]]:
    mine: dict[Any, list[Order]] = defaultdict(list)
    for o in all_orders:
        mine[o.customer_id].append(o)
    return {cid: (len(os), sum(o.total for o in os if o.payment_status == "paid"),
                  max(o.created_at for o in os)) for cid, os in mine.items()}


def assert_consistent(tenant: Tenant) -> None:
    with tenant_context(tenant) as ctx:
        s = ctx.session
        all_orders = list(s.execute(select(Order)).scalars())
        all_customers = list(s.execute(select(Customer)).scalars())
        assert stored_rollup(s) == fresh_rollup(tenant.timezone, all_orders, all_customers)
        totals = fresh_customer_totals(all_orders)
        for c in all_customers:
            expected = totals.get(c.id, (0, 0, None))
            assert (c.orders_count, c.total_spent, c.last_order_at) == expected, c.name
            assert all((o.customer_name, o.customer_email) == (c.name, c.email or "")
                       for o in all_orders if o.customer_id == c.id)
        assert len({o.number for o in all_orders}) == len(all_orders)


# --- the property test -------------------------------------------------------------------------

items = st.lists(st.builds(orders.LineInput, name=st.sampled_from(["Tea", "Cup", "Pot"]),
                           quantity=st.integers(1, 5), unit_price=st.integers(0, 50_000)),
                 min_size=1, max_size=3)
customer_choice = st.one_of(st.none(), st.tuples(st.just("existing"), st.integers(0, 9)),
                            st.tuples(st.just("new"), st.sampled_from(EMAILS)))
create_op = st.fixed_dictionaries({
    "op": st.just("create"), "items": items, "discount_pct": st.integers(0, 100),
    "tax": st.integers(0, 5_000), "channel": st.sampled_from(CHANNELS),
    "method": st.sampled_from(PAYMENT_METHODS), "customer": customer_choice,
    "minutes": st.integers(0, 3 * 24 * 60)})
# "to": a status by name (often refused), or the n-th transition the order allows, the first
# (paid, then refunded) when n is past the end: pay-then-refund paths are common, not lucky draws.
status_op = st.fixed_dictionaries({"op": st.just("status"), "order": st.integers(0, 99),
                                   "to": st.one_of(st.sampled_from(STATUSES), st.integers(0, 5))})
customer_op = st.fixed_dictionaries({"op": st.just("customer"), "email": st.sampled_from(EMAILS)})
rename_op = st.fixed_dictionaries({"op": st.just("rename"), "customer": st.integers(0, 9),
                                   "email": st.sampled_from(EMAILS)})
operations = st.lists(st.one_of(create_op, create_op, status_op, status_op, status_op, customer_op,
                                rename_op), min_size=10, max_size=40)


def _apply(tenant: Tenant, op: dict[str, Any], made: list[Any], people: list[Any]) -> None:
    """One operation in its own transaction, as one request would run it; refusals roll back."""
    with tenant_context(tenant) as ctx:
        s = ctx.session
        try:
            if op["op"] == "create":
                subtotal = sum(i.quantity * i.unit_price for i in op["items"])
                kind = op["customer"]
                customer_id = people[kind[1] % len(people)] if kind and kind[0] == "existing" and people else None
                new = orders.NewCustomer(f"Buyer {len(people)}", kind[1]) if kind and kind[0] == "new" else None
                created_at = BASE + dt.timedelta(minutes=op["minutes"])
                try:
                    order = orders.create_order(
                        s, tenant, items=op["items"], channel=op["channel"], payment_method=op["method"],
                        actor_label="prop", customer_id=customer_id, new_customer=new,
                        discount=subtotal * op["discount_pct"] // 100, tax=op["tax"], created_at=created_at)
                except LimitReached:  # only when that (local) month's orders really are used up
                    s.rollback()
                    month = local_day(created_at, tenant.timezone).replace(day=1)
                    used = sum(local_day(at, tenant.timezone).replace(day=1) == month
                               for at in s.execute(select(Order.created_at)).scalars())
                    assert used >= tenant.plan.max_orders_per_month, (month, used)
                    raise
                s.commit()
                made.append(order.id)
                if new is not None:
                    people.append(order.customer_id)
            elif op["op"] == "status" and made:
                order = orders.get_order(s, made[-1 - op["order"] % len(made)])
                to, allowed = op["to"], order.allowed_transitions
                if isinstance(to, int):
                    to = (allowed[to] if to < len(allowed) else allowed[0]) if allowed else "paid"
                orders.change_status(s, tenant, order, to, "prop")
                s.commit()
            elif op["op"] == "customer":
                people.append(customers.create_customer(s, tenant, name=f"Buyer {len(people)}",
                                                        email=op["email"]).id)
                s.commit()
            elif op["op"] == "rename" and people:
                customer = customers.get_customer(s, people[op["customer"] % len(people)])
                customers.update_customer(s, customer, name=customer.name + " R", email=op["email"],
                                          phone=None)
                s.commit()
        except (TransitionRefused, ValidationFailed, LimitReached):
            s.rollback()


# Each example builds its own tenant, so sharing the function-scoped fixtures (the app and its
# empty database) between examples is intended: no example sees another's rows.
PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                    HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY_SETTINGS
@given(ops=operations, tz=st.sampled_from(TIMEZONES), limit=st.sampled_from([None, 3]))
def test_rollup_and_customer_totals_equal_a_fresh_aggregate(app, backend, isolation, ops, tz, limit):
    plan = make_plan(f"prop-{limit or 'unlimited'}", max_orders_per_month=limit)
    tenant = make_tenant(isolation=isolation, plan=plan)
    tenant.timezone = tz
    db.session.commit()
    made: list[Any] = []
    people: list[Any] = []
    for op in ops:
        _apply(tenant, op, made, people)
    if limit is not None:
        with tenant_context(tenant) as ctx:
            months = defaultdict(int)
            for o in ctx.session.execute(select(Order)).scalars():
                months[local_day(o.created_at, tz).replace(day=1)] += 1
        assert all(n <= limit for n in months.values()), months
    assert_consistent(tenant)


# --- customer totals, by example ---------------------------------------------------------------

def _walk(tenant: Tenant, order_id: Any, *statuses: str) -> None:
    with tenant_context(tenant) as ctx:
        for status in statuses:
            orders.change_status(ctx.session, tenant, orders.get_order(ctx.session, order_id), status, "test")
        ctx.session.commit()


def _tile(page: str, label: str) -> str | None:
    match = re.search(rf'<span class="tile-label">{label}</span>\s*<span class="tile-value">([^<]*)<', page)
    return match.group(1) if match else None


def test_customer_totals_count_paid_orders_only(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@example.com")
    bo = add_customer(people.a, "Bo Chan")
    t0 = dt.datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
    made = {status: add_order(people.a, total=total, customer_id=ann.id, created_at=t0 + dt.timedelta(hours=n))
            for n, (status, total) in enumerate([("paid", 1_000), ("refunded", 2_000), ("failed", 4_000),
                                                 ("expired", 8_000), ("cancelled", 16_000),
                                                 ("pending", 32_000)])}
    for status, order in made.items():
        _walk(people.a, order.id, *{"pending": [], "refunded": ["paid", "refunded"]}.get(status, [status]))
    add_order(people.a, total=64_000, customer_id=bo.id, status="paid")  # another customer
    add_order(people.a, total=128_000, status="paid")                   # no customer
    add_order(people.b, total=256_000, status="paid")                   # another tenant

    customer = customer_row(people.a, ann.id)
    assert (customer.orders_count, customer.total_spent) == (6, 1_000)
    assert customer.last_order_at == t0 + dt.timedelta(hours=5)
    assert (customer_row(people.a, bo.id).orders_count, customer_row(people.a, bo.id).total_spent) == (1, 64_000)
    assert_consistent(people.a)

    people.bob.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/customers/{ann.id}").data.decode()
    assert (_tile(page, "Orders"), _tile(page, "Total spent")) == ("6", "$10.00")
    assert "$20.00" in page  # the refunded order is listed, not counted


def test_refused_writes_leave_customer_totals_alone(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@example.com")
    order = add_order(people.a, total=5_000, customer_id=ann.id, status="paid")
    people.alice.sign_in(client)
    base = f"/t/{people.a.slug}/orders/{order.id}"
    assert client.post(f"{base}/status", data={"to_status": "paid"}).status_code == 409  # paid twice
    assert client.post(f"{base}/status", data={"to_status": "refunded"}).status_code == 200
    assert client.post(f"{base}/status", data={"to_status": "refunded"}).status_code == 409  # refunded twice
    assert client.post(f"{base}/status", data={"to_status": "paid"}, headers=HX).status_code == 409
    people.a.plan.max_orders_per_month = 1
    db.session.commit()
    new = client.post(f"/t/{people.a.slug}/orders/new", data={
        "customer_id": str(ann.id), "items-0-name": "Tea", "items-0-quantity": "1",
        "items-0-unit_price": "5", "discount": "0", "tax": "0", "payment_method": "card", "channel": "web"})
    assert new.status_code == 402
    customer = customer_row(people.a, ann.id)
    assert (customer.orders_count, customer.total_spent) == (1, 0)
    assert_consistent(people.a)


def test_an_order_without_a_customer_changes_no_customer(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee")
    people.alice.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/orders/new", data={
        "customer_id": "", "items-0-name": "Tea", "items-0-quantity": "2", "items-0-unit_price": "5",
        "discount": "0", "tax": "0", "payment_method": "cash", "channel": "store"})
    assert response.status_code == 303
    order_id = response.headers["Location"].rsplit("/", 1)[1]
    assert client.post(f"/t/{people.a.slug}/orders/{order_id}/status", data={"to_status": "paid"}).status_code == 200
    assert (customer_row(people.a, ann.id).orders_count, customer_row(people.a, ann.id).total_spent) == (0, 0)
    assert_consistent(people.a)


# --- a renamed customer: orders show the current name ------------------------------------------

def test_renamed_customer_shows_on_their_orders_everywhere(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@old.example.com")
    mine = [add_order(people.a, customer_id=ann.id), add_order(people.a, customer_id=ann.id, status="paid")]
    other = add_order(people.a, customer_id=add_customer(people.a, "Bo Chan", "bo@example.com").id)
    theirs = add_order(people.b, customer_id=add_customer(people.b, "Ann Lee", "ann@old.example.com").id)
    stamped = order_row(people.a, mine[1].id).updated_at
    people.alice.sign_in(client)
    edit = client.post(f"/t/{people.a.slug}/customers/{ann.id}/edit",
                       data={"name": "Ann Tan", "email": "ann@new.example.com", "phone": ""})
    assert edit.status_code == 303

    listing = client.get(f"/t/{people.a.slug}/orders").data.decode()
    assert "Ann Tan" in listing and "ann@new.example.com" in listing
    assert "Ann Lee" not in listing and "ann@old.example.com" not in listing
    for order in mine:
        detail = client.get(f"/t/{people.a.slug}/orders/{order.id}").data.decode()
        assert "Ann Tan" in detail and "ann@new.example.com" in detail and "Ann Lee" not in detail
    numbers = lambda q: sorted(int(n) for n in re.findall(r">#(\d+)</a>", client.get(
        f"/t/{people.a.slug}/orders", query_string={"q": q}).data.decode()))
    assert numbers("ann tan") == numbers("new.example") == sorted(o.number for o in mine)
    assert numbers("ann lee") == [] and numbers("old.example") == []
    assert order_row(people.a, other.id).customer_name == "Bo Chan"
    assert order_row(people.a, mine[1].id).updated_at == stamped  # the order itself did not change
    assert order_row(people.b, theirs.id).customer_name == "Ann Lee"  # tenant B is untouched
    assert_consistent(people.a)


def test_removing_a_customers_email_clears_it_on_their_orders(client, people, backend, isolation):
    ann = add_customer(people.a, "Ann Lee", "ann@example.com")
    order = add_order(people.a, customer_id=ann.id)
    people.alice.sign_in(client)
    assert client.post(f"/t/{people.a.slug}/customers/{ann.id}/edit",
                       data={"name": "Ann Lee", "email": "", "phone": ""}).status_code == 303
    assert order_row(people.a, order.id).customer_email == ""
    assert b"ann@example.com" not in client.get(f"/t/{people.a.slug}/orders/{order.id}").data
    assert_consistent(people.a)


@pytest.mark.modes("shared")
def test_order_numbers_are_unique_and_the_customer_must_exist(app, backend, isolation):
    tenant = make_tenant(isolation=isolation)
    with tenant_context(tenant) as ctx:
        with pytest.raises(ValidationFailed, match="does not exist"):
            orders.create_order(ctx.session, tenant, items=[orders.LineInput("Tea", 1, 5)], channel="web",
                                payment_method="card", actor_label="t", customer_id=uuid.uuid4())
        ctx.session.rollback()
    for _ in range(3):
        add_order(tenant)
    assert_consistent(tenant)
