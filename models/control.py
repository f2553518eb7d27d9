"""Control-plane models: the vendor's view of its tenants. They live in the main database."""
from __future__ import annotations

import calendar
import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String,
                        Text, func)
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from extensions import db
from models.ids import new_id
from models.types import UTCDateTime


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class TenantStatus(str, enum.Enum):
    PROVISIONING = "provisioning"
    PROVISIONING_FAILED = "provisioning_failed"
    TRIAL = "trial"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CHURNED = "churned"
    DELETED = "deleted"


class SubscriptionStatus(str, enum.Enum):
    """The billing side of a tenant, apart from its access status (a suspended tenant may still
    have an active subscription). Nothing here charges anyone: the value is kept by the
    lifecycle in `services.tenants`."""
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"


BILLING_INTERVALS = ("month", "year")


def add_billing_intervals(start: dt.datetime, interval: str, count: int = 1) -> dt.datetime:
    """`start` moved `count` months (or years) on; the 31st becomes the month's last day."""
    months = count * (12 if interval == "year" else 1)
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    return start.replace(year=year, month=month, day=min(start.day, last_day))


class Isolation(str, enum.Enum):
    SHARED = "shared"
    SCHEMA = "schema"
    DATABASE = "database"


class Plan(db.Model):
    __tablename__ = "plans"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    price_monthly: Mapped[int] = mapped_column(BigInteger, default=0)  # minor units
    price_yearly: Mapped[int] = mapped_column(BigInteger, default=0)
    max_orders_per_month: Mapped[int | None] = mapped_column(Integer)  # None = unlimited
    max_customers: Mapped[int | None] = mapped_column(Integer)
    max_users: Mapped[int | None] = mapped_column(Integer)
    trial_days: Mapped[int] = mapped_column(Integer, default=14)
    features: Mapped[dict[str, bool]] = mapped_column(JSON, default=dict)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}

    @property
    def limits(self) -> dict[str, int | None]:
        return {"orders": self.max_orders_per_month, "customers": self.max_customers,
                "users": self.max_users}


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(24), default=TenantStatus.PROVISIONING.value, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    isolation: Mapped[str] = mapped_column(String(12), default=Isolation.SHARED.value)
    plan_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("plans.id"), index=True)
    owner_email: Mapped[str] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    locale: Mapped[str] = mapped_column(String(16), default="en_US")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    trial_ends_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    billing_interval: Mapped[str] = mapped_column(String(8), default="month", server_default="month")
    subscription_status: Mapped[str] = mapped_column(
        String(12), default=SubscriptionStatus.TRIALING.value, server_default="trialing")
    current_period_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Bumped when the tenant is suspended or churned: every session of its users ends (web/auth).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Where the tenant's rows live: schema name (schema mode), database name or SQLite file
    # (database mode); db_host overrides the main server's host for database mode on PostgreSQL.
    db_name: Mapped[str | None] = mapped_column(String(120))
    db_host: Mapped[str | None] = mapped_column(String(255))
    # The owner's first set-password link: only its hash, until the create_owner step moves it.
    owner_invite_hash: Mapped[str | None] = mapped_column(String(64))
    schema_revision: Mapped[str | None] = mapped_column(String(40))
    migrated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Usage kept in the control plane so fleet-wide lists never query each tenant's storage.
    usage_month: Mapped[str | None] = mapped_column(String(7))  # "2026-11"
    usage_orders_month: Mapped[int] = mapped_column(Integer, default=0)
    usage_customers: Mapped[int] = mapped_column(Integer, default=0)
    usage_users: Mapped[int] = mapped_column(Integer, default=0)
    health_ok: Mapped[bool | None] = mapped_column(Boolean)
    health_latency_ms: Mapped[float | None] = mapped_column()
    health_error: Mapped[str | None] = mapped_column(Text)
    health_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_active_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # The console's "last active" sort key: never-active tenants count from their creation, so
    # the key is never NULL (keyset pagination compares row values, and NULL compares to nothing).
    active_sort: Mapped[dt.datetime] = column_property(func.coalesce(last_active_at, created_at))

    plan: Mapped[Plan] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (Index("ix_tenants_created_id", "created_at", "id"),)

    @property
    def is_ready(self) -> bool:
        return self.status in (TenantStatus.TRIAL.value, TenantStatus.ACTIVE.value)

    @property
    def period_end(self) -> dt.datetime | None:
        """When the current billing period ends. An active subscription renews (no billing system
        here says otherwise), so its recorded end is rolled on by whole intervals past now."""
        end = self.current_period_end
        if end is None or self.subscription_status != SubscriptionStatus.ACTIVE.value:
            return end
        now, count = utcnow(), 0
        rolled = end
        while rolled <= now:
            count += 1
            rolled = add_billing_intervals(end, self.billing_interval, count)
        return rolled


class CustomDomain(db.Model):
    __tablename__ = "custom_domains"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    domain: Mapped[str] = mapped_column(String(253), unique=True)
    verification_token: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class VendorStaff(UserMixin, db.Model):
    __tablename__ = "vendor_staff"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(12))  # owner | admin | support | viewer
    password_hash: Mapped[str | None] = mapped_column(String(80))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_version: Mapped[int] = mapped_column(Integer, default=1)  # bump to end every session
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    recovery_codes: Mapped[list[str] | None] = mapped_column(JSON)  # bcrypt hashes
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ProvisioningStep(db.Model):
    __tablename__ = "provisioning_steps"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[str] = mapped_column(String(24), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending|running|done|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def duration_ms(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds() * 1000
        return None


class AuditEvent(db.Model):
    """Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_type: Mapped[str] = mapped_column(String(12))  # staff | tenant_user | system
    actor_id: Mapped[str | None] = mapped_column(String(64))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64))
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_label: Mapped[str | None] = mapped_column(String(254))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_tenant_at", "tenant_id", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
    )


class RateLimitHit(db.Model):
    """Fixed-window counters for sign-in attempts, shared by every worker (or Redis: REDIS_URL)."""

    __tablename__ = "rate_limit_hits"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class FeatureFlag(db.Model):
    """A flag in the registry. Evaluation: archived → tenant override → plan → rollout → default."""

    __tablename__ = "feature_flags"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    default: Mapped[bool] = mapped_column(Boolean, default=False)
    rollout_percent: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)  # the kill switch
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}


class FlagOverride(db.Model):
    """A flag forced on or off for one tenant, with the reason and an optional expiry."""

    __tablename__ = "flag_overrides"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    flag_key: Mapped[str] = mapped_column(ForeignKey("feature_flags.key", ondelete="CASCADE"), primary_key=True)
    value: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_flag_overrides_flag", "flag_key", "tenant_id"),)
