"""Plan limits under concurrency (DESIGN §3): 20 creates at once at the boundary never pass it.

Each of 20 threads runs the real service in its own tenant context and session, as 20 requests on
20 workers would; a barrier releases them together. PostgreSQL only: SQLite serialises writers.
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from models.control import Tenant
from models.tenant import Customer, Order
from services import customers, orders, rollup
from tenancy.context import tenant_context
from tests.factories import make_plan, make_tenant
from tests.portal.helpers import THREADS, add_customer, add_order, race, read

LIMIT = 10
FREE = 3  # the tenant starts at LIMIT - FREE


def _tenant(isolation: str, **limits: int) -> Tenant:
    plan = make_plan(f"race-{uuid.uuid4().hex[:6]}", **limits)
    return make_tenant(isolation=isolation, plan=plan)


def _order(session: Any, tenant: Tenant, n: int, new_customer: bool = False) -> Any:
    return orders.create_order(session, tenant, items=[orders.LineInput("Tea", 1, 500)], channel="web",
                               payment_method="card", actor_label=f"racer {n}",
                               new_customer=orders.NewCustomer(f"Racer {n}") if new_customer else None)


@pytest.mark.postgres_only
def test_concurrent_orders_never_pass_the_monthly_limit(app, backend, isolation):
    tenant = _tenant(isolation, max_orders_per_month=LIMIT)
    for _ in range(LIMIT - FREE):
        add_order(tenant)
    tally = race(app, tenant.id, _order)
    assert tally == {"created": FREE, "limit": THREADS - FREE}, tally
    made = read(tenant, select(Order))
    assert len(made) == LIMIT
    assert sorted(o.number for o in made) == list(range(1001, 1001 + LIMIT))  # no gaps, no twins
    with tenant_context(tenant) as ctx:
        today = rollup.local_day(made[-1].created_at, tenant.timezone)
        assert rollup.orders_in_month(ctx.session, today) == LIMIT


@pytest.mark.postgres_only
def test_concurrent_customers_never_pass_the_customer_limit(app, backend, isolation):
    tenant = _tenant(isolation, max_customers=LIMIT)
    for n in range(LIMIT - FREE):
        add_customer(tenant, f"Early {n}")
    tally = race(app, tenant.id, lambda s, t, n: customers.create_customer(s, t, name=f"Racer {n}"))
    assert tally == {"created": FREE, "limit": THREADS - FREE}, tally
    assert len(read(tenant, select(Customer.id))) == LIMIT


@pytest.mark.postgres_only
def test_concurrent_orders_with_new_customers_never_pass_the_customer_limit(app, backend, isolation):
    tenant = _tenant(isolation, max_customers=LIMIT)
    for n in range(LIMIT - FREE):
        add_customer(tenant, f"Early {n}")
    tally = race(app, tenant.id, lambda s, t, n: _order(s, t, n, new_customer=True))
    assert tally == {"created": FREE, "limit": THREADS - FREE}, tally
    assert len(read(tenant, select(Customer.id))) == LIMIT
    made = read(tenant, select(Order))
    assert len(made) == FREE and all(o.customer_id for o in made)  # a refused order left nothing
