"""The per-day rollup (DESIGN §4): written in the same transaction as each order write, so stats
never scan orders. Days are the tenant's local days."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.tenant import Counter, Customer, DailyStat, Order

MEASURES = ("orders", "paid_orders", "revenue", "refunds", "new_customers")


def local_day(at: dt.datetime, tz: str) -> dt.date:
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return at.astimezone(zone).date()


def bump(session: Session, tenant_id: uuid.UUID, day: dt.date, slices: list[tuple[str, str]],
         **deltas: int) -> None:
    """Add `deltas` (orders=1, revenue=…) to each (dim, key) slice of `day`, creating rows as needed."""
    unknown = set(deltas) - set(MEASURES)
    assert not unknown, f"unknown rollup measures {unknown}"
    if not any(deltas.values()):
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [{"tenant_id": tenant_id, "day": day, "dim": dim, "key": key,
             **{m: deltas.get(m, 0) for m in MEASURES}} for dim, key in slices]
    stmt = insert(DailyStat).values(rows)
    stmt = stmt.on_conflict_do_update(
        index_elements=["tenant_id", "day", "dim", "key"],
        set_={m: getattr(DailyStat, m) + getattr(stmt.excluded, m) for m in deltas})
    session.execute(stmt)


def orders_in_month(session: Session, today: dt.date) -> int:
    """Orders created in the (local) month of `today`: only that month, so an order dated in an
    earlier month is not refused because of later months' orders."""
    first = today.replace(day=1)
    after = (first + dt.timedelta(days=32)).replace(day=1)
    return int(session.execute(select(func.coalesce(func.sum(DailyStat.orders), 0)).where(
        DailyStat.dim == "all", DailyStat.day >= first, DailyStat.day < after)).scalar_one())


# The rollup of one tenant aggregated by PostgreSQL from its rows (used by `rebuild` and by the
# benchmark seed, which writes a million orders without the services).
ROLLUP_SQL = """
WITH o AS (
    SELECT (created_at AT TIME ZONE :tz)::date AS day, payment_status AS status, channel,
           payment_method AS method, total
    FROM orders WHERE tenant_id = :tenant_id
), slices AS (
    SELECT day, 'all' AS dim, '' AS key, status, total FROM o
    UNION ALL SELECT day, 'channel', channel, status, total FROM o
    UNION ALL SELECT day, 'method', method, status, total FROM o
)
INSERT INTO daily_stats (tenant_id, day, dim, key, orders, paid_orders, revenue, refunds,
                         new_customers)
SELECT :tenant_id, day, dim, key, count(*), count(*) FILTER (WHERE status = 'paid'),
       coalesce(sum(total) FILTER (WHERE status = 'paid'), 0),
       coalesce(sum(total) FILTER (WHERE status = 'refunded'), 0), 0
FROM slices GROUP BY day, dim, key
UNION ALL
-- the status dim counts orders by their current status only (services.orders.change_status)
SELECT :tenant_id, day, 'status', status, count(*), 0, 0, 0, 0 FROM o GROUP BY day, status
"""

NEW_CUSTOMERS_SQL = """
INSERT INTO daily_stats (tenant_id, day, dim, key, orders, paid_orders, revenue, refunds,
                         new_customers)
SELECT :tenant_id, (created_at AT TIME ZONE :tz)::date, 'all', '', 0, 0, 0, 0, count(*)
FROM customers WHERE tenant_id = :tenant_id GROUP BY 2
ON CONFLICT (tenant_id, day, dim, key) DO UPDATE SET new_customers = excluded.new_customers
"""


def rebuild(session: Session, tenant_id: uuid.UUID, tz: str) -> None:
    """Count every day of the rollup again from the rows, in the time zone `tz`: after the tenant's
    time zone changes, each order and customer moves to the day it falls on there, and the stats
    and the monthly order limit read the new days. By the same rules as the writes (services.orders,
    services.customers): an order counts on the day it was placed, under its current status.

    Holds the tenant's counter-row lock, as order and customer creates do, so no write bumps a day
    while the days are recounted. On PostgreSQL the rows are aggregated by the database (about a
    second for a million orders); elsewhere in Python. The caller commits."""
    session.execute(select(Counter.value).where(Counter.name == "order").with_for_update())
    session.execute(delete(DailyStat).where(DailyStat.tenant_id == tenant_id))
    if session.get_bind().dialect.name == "postgresql" and session.execute(
            text("SELECT count(*) FROM pg_timezone_names WHERE name = :tz"), {"tz": tz}).scalar_one():
        params = {"tenant_id": tenant_id, "tz": tz}
        session.execute(text(ROLLUP_SQL), params)
        session.execute(text(NEW_CUSTOMERS_SQL), params)
        return
    days: dict[tuple[dt.date, str, str], dict[str, int]] = {}

    def add(day: dt.date, dim: str, key: str, **deltas: int) -> None:
        row = days.setdefault((day, dim, key), dict.fromkeys(MEASURES, 0))
        for measure, delta in deltas.items():
            row[measure] += delta

    orders = select(Order.created_at, Order.payment_status, Order.channel, Order.payment_method,
                    Order.total).where(Order.tenant_id == tenant_id)
    for created_at, status, channel, method, total in session.execute(orders.execution_options(yield_per=5_000)):
        day = local_day(created_at, tz)
        add(day, "status", status, orders=1)
        for dim, key in (("all", ""), ("channel", channel), ("method", method)):
            add(day, dim, key, orders=1, paid_orders=int(status == "paid"),
                revenue=total if status == "paid" else 0, refunds=total if status == "refunded" else 0)
    customers = select(Customer.created_at).where(Customer.tenant_id == tenant_id)
    for (created_at,) in session.execute(customers.execution_options(yield_per=5_000)):
        add(local_day(created_at, tz), "all", "", new_customers=1)
    rows = [{"tenant_id": tenant_id, "day": day, "dim": dim, "key": key, **measures}
            for (day, dim, key), measures in days.items()]
    for start in range(0, len(rows), 5_000):
        session.execute(insert(DailyStat), rows[start:start + 5_000])
