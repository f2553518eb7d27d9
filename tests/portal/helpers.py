"""Helpers for the back-office page tests: direct reads, htmx headers, hostile input."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from models.control import Tenant
from models.tenant import Customer, Order, OrderEvent
from services import customers, orders
from tenancy.context import tenant_context

HX = {"HX-Request": "true"}

HOSTILE = ["<script>alert(1)</script>", "'; DROP TABLE orders; --", "%' OR '1'='1", "\u202e\u0000x",
           "名前😀", "9" * 40, "-5", "1e309", "x" * 10_000]


def add_customer(tenant: Tenant, name: str = "Erin Buyer", email: str | None = None,
                 phone: str | None = None) -> Customer:
    with tenant_context(tenant) as ctx:
        customer = customers.create_customer(ctx.session, tenant, name=name, email=email, phone=phone)
        ctx.session.commit()
        return customer


def add_order(tenant: Tenant, *, total: int = 10_000, customer_id: Any = None, channel: str = "web",
              method: str = "card", status: str | None = None,
              created_at: dt.datetime | None = None) -> Order:
    with tenant_context(tenant) as ctx:
        order = orders.create_order(ctx.session, tenant, items=[orders.LineInput("Widget", 1, total)],
                                    channel=channel, payment_method=method, actor_label="test",
                                    customer_id=customer_id, created_at=created_at)
        if status:
            orders.change_status(ctx.session, tenant, order, status, "test")
        ctx.session.commit()
        return order


def read(tenant: Tenant, stmt: Any) -> list[Any]:
    with tenant_context(tenant) as ctx:
        return list(ctx.session.execute(stmt).scalars())


def order_count(tenant: Tenant) -> int:
    return len(read(tenant, select(Order.id)))


def customer_row(tenant: Tenant, customer_id: Any) -> Customer:
    with tenant_context(tenant) as ctx:
        return customers.get_customer(ctx.session, customer_id)


def order_row(tenant: Tenant, order_id: Any) -> Order:
    with tenant_context(tenant) as ctx:
        return orders.get_order(ctx.session, order_id, with_details=True)


def events_of(tenant: Tenant, order_id: Any) -> list[OrderEvent]:
    return read(tenant, select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.at))
