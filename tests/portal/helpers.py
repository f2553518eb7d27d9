"""Helpers for the back-office page tests: direct reads, htmx headers, hostile input."""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import Counter as Tally
from collections import defaultdict
from typing import Any, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import select

from extensions import db
from models.control import Tenant
from models.tenant import Customer, DailyStat, Order, OrderEvent, TenantModel
from services import customers, orders, rollup
from services.errors import LimitReached
from tenancy.context import tenant_context

HX = {"HX-Request": "true"}
THREADS = 20  # concurrent requests in a race test

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


def snapshot(tenant: Tenant) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every tenant table of `tenant`: equal before and after means nothing was written."""
    with tenant_context(tenant) as ctx:
        tables = {}
        for mapper in TenantModel.registry.mappers:
            columns = [getattr(mapper.class_, c.key) for c in mapper.column_attrs]
            rows = ctx.session.execute(select(*columns)).all()
            tables[mapper.class_.__tablename__] = sorted((tuple(r) for r in rows), key=repr)
        return tables


def race(app: Any, tenant_id: uuid.UUID, work: Callable[[Any, Tenant, int], Any],
         threads: int = THREADS) -> Tally[str]:
    """Run `work(session, tenant, n)` in `threads` threads at once, each in its own tenant context and
    session as so many requests on so many workers would; tally "created", "limit" or the error.
    Each thread gives its control-plane connection back before the race, and the barrier has a
    timeout: a pool that runs dry fails the race instead of hanging it."""
    barrier = threading.Barrier(threads)
    outcomes: list[str] = []

    def run(n: int) -> None:
        with app.app_context():
            tenant = db.session.get(Tenant, tenant_id)
            assert tenant is not None and tenant.plan is not None
            db.session.close()  # loaded; give the control-plane connection back before the race
            with tenant_context(tenant) as ctx:
                try:
                    barrier.wait(timeout=30)
                    work(ctx.session, tenant, n)
                    ctx.session.commit()
                    outcomes.append("created")
                except LimitReached:
                    ctx.session.rollback()
                    outcomes.append("limit")
                except Exception as exc:  # reported in the tally, so the assertion shows it
                    ctx.session.rollback()
                    outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Tally(outcomes)


def local_day(at: dt.datetime, tz: str) -> dt.date:
    return at.astimezone(ZoneInfo(tz)).date()


def fresh_rollup(tz: str, all_orders: list[Order], all_customers: list[Customer],
                 ) -> dict[tuple[dt.date, str, str], dict[str, int]]:
    """The rollup computed afresh from the rows by the rules of DESIGN §4 (and with its own
    `local_day`, not the service's), to compare with what the writes left in `daily_stats`."""
    stats: dict[tuple[dt.date, str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(rollup.MEASURES, 0))
    for o in all_orders:
        day = local_day(o.created_at, tz)
        stats[(day, "status", o.payment_status)]["orders"] += 1
        for dim, key in (("all", ""), ("channel", o.channel), ("method", o.payment_method)):
            row = stats[(day, dim, key)]
            row["orders"] += 1
            if o.payment_status == "paid":
                row["paid_orders"] += 1
                row["revenue"] += o.total
            elif o.payment_status == "refunded":
                row["refunds"] += o.total
    for c in all_customers:
        stats[(local_day(c.created_at, tz), "all", "")]["new_customers"] += 1
    return dict(stats)


def stored_rollup(session: Any) -> dict[tuple[dt.date, str, str], dict[str, int]]:
    """The rollup rows, without slices whose every measure went back to zero (e.g. "pending"
    after the day's only pending order was paid)."""
    rows = {(r.day, r.dim, r.key): {m: getattr(r, m) for m in rollup.MEASURES}
            for r in session.execute(select(DailyStat)).scalars()}
    return {k: v for k, v in rows.items() if any(v.values())}
