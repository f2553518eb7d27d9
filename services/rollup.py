"""The per-day rollup (DESIGN §4): written in the same transaction as each order write, so stats
never scan orders. Days are the tenant's local days."""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models.tenant import DailyStat

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
