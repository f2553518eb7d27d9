"""The numbers on the console's dashboard: four aggregate statements on the control plane whatever
the fleet size, never one per tenant, and never a tenant's own storage. Each number is counted
with the condition `services.tenant_queries` filters the tenant list with, so a tile and the list
it opens show the same tenants."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import case, func, select

from extensions import db
from models.control import Plan, SubscriptionStatus, Tenant, utcnow
from services.tenant_queries import (at_plan_limit, created_since, revision_behind,
                                     trial_ending_within)
from services.tenants import tenant_counts_by_status
from tenancy.migrations import TENANT, head

TRIAL_WINDOW_DAYS = 7
SIGNUP_DAYS = 90


@dataclass(frozen=True)
class Mrr:
    """Monthly recurring revenue of the active subscriptions billed in one currency."""
    currency: str
    minor: int          # minor units; a yearly subscription adds its yearly price / 12
    subscriptions: int


@dataclass(frozen=True)
class SignupDay:
    day: dt.date
    count: int


@dataclass(frozen=True)
class Signups:
    days: list[SignupDay]   # every UTC day of the window, oldest first, zeros included

    @property
    def total(self) -> int:
        return sum(d.count for d in self.days)

    @property
    def last_week(self) -> int:
        return sum(d.count for d in self.days[-7:])

    @property
    def busiest(self) -> SignupDay | None:
        return max(reversed(self.days), key=lambda d: d.count) if self.total else None


@dataclass(frozen=True)
class Dashboard:
    by_status: dict[str, int]
    mrr: list[Mrr]
    trials_ending: int
    unhealthy: int
    at_limit: int
    behind: int
    head_revision: str
    signups: Signups

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def monthly_recurring_revenue() -> list[Mrr]:
    """MRR per plan currency over active subscriptions, one statement."""
    yearly = Tenant.billing_interval == "year"
    rows = db.session.execute(
        select(Plan.currency, func.count(),
               func.coalesce(func.sum(case((yearly, 0), else_=Plan.price_monthly)), 0),
               func.coalesce(func.sum(case((yearly, Plan.price_yearly), else_=0)), 0))
        .select_from(Tenant).join(Plan, Tenant.plan_id == Plan.id)
        .where(Tenant.subscription_status == SubscriptionStatus.ACTIVE.value)
        .group_by(Plan.currency).order_by(Plan.currency))
    # Yearly prices are summed first and divided once, so twelve rounding errors never add up.
    return [Mrr(currency, int(monthly) + int((Decimal(int(yearly_sum)) / 12)
                                             .to_integral_value(ROUND_HALF_UP)), int(n))
            for currency, n, monthly, yearly_sum in rows]


def signups_per_day(now: dt.datetime, days: int = SIGNUP_DAYS) -> Signups:
    """Tenants created on each UTC day of the last `days` days (today included), one statement."""
    start = created_since(days, now)
    if db.session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", Tenant.created_at))
    else:  # SQLite keeps UTC as text
        day = func.date(Tenant.created_at)
    counts = {dt.date.fromisoformat(str(d)[:10]): int(n) for d, n in db.session.execute(
        select(day, func.count()).where(Tenant.created_at >= start).group_by(day))}
    first = start.date()
    return Signups([SignupDay(first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0))
                    for i in range(days)])


def dashboard_numbers(now: dt.datetime | None = None) -> Dashboard:
    now = now or utcnow()
    head_revision = head(TENANT)
    trials, unhealthy, at_limit, behind = db.session.execute(select(
        func.count().filter(trial_ending_within(TRIAL_WINDOW_DAYS, now)),
        func.count().filter(Tenant.health_ok.is_(False)),
        func.count().filter(at_plan_limit()),
        func.count().filter(revision_behind(head_revision)),
    ).select_from(Tenant)).one()
    return Dashboard(by_status=tenant_counts_by_status(), mrr=monthly_recurring_revenue(),
                     trials_ending=trials, unhealthy=unhealthy, at_limit=at_limit, behind=behind,
                     head_revision=head_revision, signups=signups_per_day(now))
