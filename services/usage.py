"""Plan usage of a tenant: counted from its own data, mirrored onto the control-plane row.

The mirror (`Tenant.usage_*`) lets the vendor console list usage across the fleet without
opening every tenant's storage; the tenant's own pages count live.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy.orm import Session

from models.control import Tenant, utcnow
from services import rollup
from services.customers import count_customers
from services.tenant_users import count_users


@dataclass(frozen=True)
class Usage:
    month: str          # "2026-11", in the tenant's time zone
    orders_month: int
    customers: int
    users: int


def current_usage(tenant: Tenant, session: Session) -> Usage:
    """Live usage, read in `session` (the tenant context's session). Three small statements."""
    today = rollup.local_day(utcnow(), tenant.timezone)
    return Usage(month=today.strftime("%Y-%m"), orders_month=rollup.orders_in_month(session, today),
                 customers=count_customers(session), users=count_users(session))


def refresh_usage(tenant: Tenant, session: Session) -> Usage:
    """Copy live usage onto the control-plane tenant row; the caller commits `db.session`."""
    usage = current_usage(tenant, session)
    tenant.usage_month = usage.month
    tenant.usage_orders_month = usage.orders_month
    tenant.usage_customers = usage.customers
    tenant.usage_users = usage.users
    return usage


def trial_days_left(tenant: Tenant) -> int | None:
    """Whole days (rounded up) until a trial ends; None when the tenant is not on a trial."""
    if tenant.status != "trial" or tenant.trial_ends_at is None:
        return None
    seconds = (tenant.trial_ends_at - utcnow()).total_seconds()
    return max(0, math.ceil(seconds / 86400))
