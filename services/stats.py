"""The stats dashboard of a tenant, read only from the daily rollup (services.rollup).

A range of local days costs two statements over `daily_stats` whatever the number of orders
(DESIGN §6: < 20 ms for 30 days on a tenant with a million orders): the ("all", "") row of each day
of the range and of the period before it (at most 2 × 366 rows), and the breakdown slices of the
range summed per key (at most ~20 rows). Plus one indexed top-5 read of customers
(ix_customers_spent). Orders are never scanned.

Measures, as the rollup keeps them (by the local day the order was *placed*):
- revenue: totals of orders now paid, so refunds are already taken off ("net revenue");
- paid rate: orders now paid ÷ orders placed (refunded and unpaid orders are not paid);
- average order value: net revenue ÷ paid orders.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.tenant import CHANNELS, PAYMENT_METHODS, Customer, DailyStat, PaymentStatus
from services.errors import ValidationFailed
from services.text import parse_day

PRESETS: dict[str, str] = {"7d": "7 days", "30d": "30 days", "90d": "90 days", "month": "This month"}
PRESET_DAYS = {"7d": 7, "30d": 30, "90d": 90}
DEFAULT_PRESET = "30d"
MAX_DAYS = 366
EARLIEST = dt.date(2000, 1, 1)
STATUSES = tuple(s.value for s in PaymentStatus)
TOP_CUSTOMERS = 5


@dataclass(frozen=True)
class StatsRange:
    """Local days `start`..`end`, both included."""

    preset: str  # a key of PRESETS, or "custom"
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def previous(self) -> "StatsRange":
        """The period of equal length just before this one."""
        return StatsRange("previous", self.start - dt.timedelta(days=self.days),
                          self.start - dt.timedelta(days=1))


def parse_range(args: Mapping[str, str], today: dt.date) -> StatsRange:
    """The range asked for by the query string (`range`, `date_from`, `date_to`), in the tenant's
    local days, `today` included. Raises ValidationFailed(field=<parameter>) for anything else."""
    raw_from = (args.get("date_from") or "").strip()
    raw_to = (args.get("date_to") or "").strip()
    preset = args.get("range") or ("custom" if raw_from or raw_to else DEFAULT_PRESET)
    if preset in PRESET_DAYS:
        return StatsRange(preset, today - dt.timedelta(days=PRESET_DAYS[preset] - 1), today)
    if preset == "month":
        return StatsRange(preset, today.replace(day=1), today)
    if preset != "custom":
        raise ValidationFailed("Unknown range. Choose one of: 7d, 30d, 90d, month, custom.", "range")
    start, end = parse_day(raw_from, "date_from"), parse_day(raw_to, "date_to")
    if start is None or end is None:
        raise ValidationFailed("Pick both a start and an end date.", "date_from" if start is None else "date_to")
    if start > end:
        raise ValidationFailed("The start date is after the end date.", "date_to")
    if start < EARLIEST:
        raise ValidationFailed(f"Stats start on {EARLIEST.isoformat()}; pick a later start date.", "date_from")
    if end > today:
        raise ValidationFailed(f"The end date is in the future; today is {today.isoformat()}.", "date_to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(f"Pick at most {MAX_DAYS} days.", "date_from")
    return StatsRange("custom", start, end)


@dataclass(frozen=True)
class Totals:
    orders: int = 0
    paid_orders: int = 0
    revenue: int = 0  # minor units, net of refunds
    refunds: int = 0
    new_customers: int = 0

    def __add__(self, other: "Totals") -> "Totals":
        return Totals(self.orders + other.orders, self.paid_orders + other.paid_orders,
                      self.revenue + other.revenue, self.refunds + other.refunds,
                      self.new_customers + other.new_customers)

    @property
    def paid_rate(self) -> float | None:
        return self.paid_orders / self.orders if self.orders else None

    @property
    def average_order(self) -> int | None:
        """Net revenue per paid order, rounded to the minor unit."""
        return (2 * self.revenue + self.paid_orders) // (2 * self.paid_orders) if self.paid_orders else None


@dataclass(frozen=True)
class Comparison:
    """A measure in this period and in the previous one of equal length."""

    current: int | float | None
    previous: int | float | None
    points: bool = False  # compare rates in percentage points, not relative change

    @property
    def delta(self) -> float | None:
        """Relative change (0.12 = +12%), or the change in points for rates; None when there is
        nothing to compare with (the previous period is 0 or empty)."""
        if self.current is None or self.previous is None:
            return None
        if self.points:
            return self.current - self.previous
        if self.previous == 0:
            return None
        return (self.current - self.previous) / abs(self.previous)


@dataclass(frozen=True)
class DayStat:
    day: dt.date
    orders: int
    revenue: int


@dataclass(frozen=True)
class Slice:
    """One key of a breakdown (a payment status, a channel, a payment method)."""

    key: str
    orders: int
    revenue: int


@dataclass(frozen=True)
class Stats:
    range: StatsRange
    current: Totals
    previous: Totals
    days: list[DayStat]            # every day of the range, days without orders included
    by_status: list[Slice]         # every payment status, in the state machine's order
    by_channel: list[Slice] | None  # None unless advanced breakdowns were asked for
    by_method: list[Slice] | None
    top_customers: list[Customer]  # by all-time total spent

    @property
    def comparisons(self) -> dict[str, Comparison]:
        cur, prev = self.current, self.previous
        return {"revenue": Comparison(cur.revenue, prev.revenue),
                "orders": Comparison(cur.orders, prev.orders),
                "paid_rate": Comparison(cur.paid_rate, prev.paid_rate, points=True),
                "average_order": Comparison(cur.average_order, prev.average_order),
                "new_customers": Comparison(cur.new_customers, prev.new_customers)}

    @property
    def has_orders(self) -> bool:
        return self.current.orders > 0


def _slices(found: dict[str, tuple[int, int]], keys: tuple[str, ...], ordered: bool) -> list[Slice]:
    # Keys the rollup has but the code no longer lists still count (shown after the known ones).
    every = list(keys) + sorted(k for k in found if k not in keys)
    result = [Slice(k, *found.get(k, (0, 0))) for k in every]
    return result if ordered else sorted(result, key=lambda s: (-s.revenue, -s.orders, s.key))


def load_stats(session: Session, rng: StatsRange, advanced: bool = False) -> Stats:
    """Everything the dashboard shows for `rng`, in three statements."""
    prev = rng.previous
    daily = {row.day: row for row in session.execute(
        select(DailyStat.day, DailyStat.orders, DailyStat.paid_orders, DailyStat.revenue,
               DailyStat.refunds, DailyStat.new_customers)
        .where(DailyStat.dim == "all", DailyStat.day >= prev.start, DailyStat.day <= rng.end))}

    def totals(period: StatsRange) -> Totals:
        total = Totals()
        for day in _each_day(period):
            row = daily.get(day)
            if row is not None:
                total += Totals(row.orders, row.paid_orders, row.revenue, row.refunds, row.new_customers)
        return total

    dims = ["status", "channel", "method"] if advanced else ["status"]
    found: dict[str, dict[str, tuple[int, int]]] = {d: {} for d in dims}
    for dim, key, orders, revenue in session.execute(
            select(DailyStat.dim, DailyStat.key, func.sum(DailyStat.orders), func.sum(DailyStat.revenue))
            .where(DailyStat.dim.in_(dims), DailyStat.day >= rng.start, DailyStat.day <= rng.end)
            .group_by(DailyStat.dim, DailyStat.key)):
        if orders or revenue:
            found[dim][key] = (int(orders or 0), int(revenue or 0))

    top = list(session.execute(
        select(Customer).where(Customer.total_spent > 0)
        .order_by(Customer.total_spent.desc(), Customer.id.desc()).limit(TOP_CUSTOMERS)).scalars())

    days = [DayStat(d, daily[d].orders if d in daily else 0, daily[d].revenue if d in daily else 0)
            for d in _each_day(rng)]
    return Stats(range=rng, current=totals(rng), previous=totals(prev), days=days,
                 by_status=_slices(found["status"], STATUSES, ordered=True),
                 by_channel=_slices(found["channel"], CHANNELS, ordered=False) if advanced else None,
                 by_method=_slices(found["method"], PAYMENT_METHODS, ordered=False) if advanced else None,
                 top_customers=top)


def _each_day(rng: StatsRange) -> list[dt.date]:
    return [rng.start + dt.timedelta(days=n) for n in range(rng.days)]
