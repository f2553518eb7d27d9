"""Tenant-owned models. Every table has `tenant_id` first in its primary key and in every unique
constraint, index and foreign key between tenant tables, so rows can move between isolation modes
(and shared tables can be distributed by tenant_id) unchanged.

These models are reachable only through the session of a tenant context (`tenancy.context`):
using them anywhere else raises `NoTenantContext`.
"""
from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import (BigInteger, Boolean, Date, ForeignKeyConstraint, Index, Integer,
                        MetaData, String, Text, UniqueConstraint)
from flask_login import UserMixin
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from extensions import NAMING_CONVENTION
from models.control import utcnow
from models.ids import new_id
from models.types import UTCDateTime


class TenantModel(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    # sort_order puts tenant_id first in every primary key (and so in its index).
    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-10)


class TenantRole(str, enum.Enum):
    OWNER = "owner"
    STAFF = "staff"


class PaymentStatus(str, enum.Enum):
    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


# The state machine of DESIGN §4: anything not listed is refused.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "pending": ("paid", "failed", "expired", "cancelled"),
    "paid": ("refunded",),
}

CHANNELS = ("web", "store", "phone", "marketplace", "social")
PAYMENT_METHODS = ("card", "bank_transfer", "ewallet", "cash", "cod")


class TenantUser(UserMixin, TenantModel):
    __tablename__ = "tenant_users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(8), default=TenantRole.STAFF.value)
    password_hash: Mapped[str | None] = mapped_column(String(80))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    # One-time set-password link: only a hash is stored; the link is shown once.
    set_password_token_hash: Mapped[str | None] = mapped_column(String(64))
    set_password_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    @property
    def is_owner(self) -> bool:
        return self.role == TenantRole.OWNER.value


class Customer(TenantModel):
    __tablename__ = "customers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Derived totals, kept in the same transaction as every order write.
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    total_spent: Mapped[int] = mapped_column(BigInteger, default=0)  # paid, minus refunds; minor units
    last_order_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("tenant_id", "email"),
        Index("ix_customers_recent", "tenant_id", "created_at", "id"),
        Index("ix_customers_orders", "tenant_id", "orders_count", "id"),
        Index("ix_customers_spent", "tenant_id", "total_spent", "id"),
    )


class Order(TenantModel):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(BigInteger)  # per-tenant, customer-facing (#1042)
    customer_id: Mapped[uuid.UUID | None] = mapped_column()
    # Denormalised so the list and its search never join customers.
    customer_name: Mapped[str] = mapped_column(String(120), default="")
    customer_email: Mapped[str] = mapped_column(String(254), default="")
    channel: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    tax: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    payment_method: Mapped[str] = mapped_column(String(16))
    payment_status: Mapped[str] = mapped_column(String(12), default=PaymentStatus.PENDING.value)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    items: Mapped[list["OrderItem"]] = relationship(
        order_by="OrderItem.position", cascade="all, delete-orphan", lazy="raise")
    events: Mapped[list["OrderEvent"]] = relationship(
        order_by="OrderEvent.at", cascade="all, delete-orphan", lazy="raise")

    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        ForeignKeyConstraint(["tenant_id", "customer_id"], ["customers.tenant_id", "customers.id"]),
        Index("ix_orders_recent", "tenant_id", "created_at", "id"),
        Index("ix_orders_status_recent", "tenant_id", "payment_status", "created_at", "id"),
        Index("ix_orders_total", "tenant_id", "total", "id"),
        Index("ix_orders_customer", "tenant_id", "customer_id", "created_at"),
    )

    @property
    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS.get(self.payment_status, ())


class OrderItem(TenantModel):
    __tablename__ = "order_items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column()
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(BigInteger)
    line_total: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"], ondelete="CASCADE"),
        Index("ix_order_items_order", "tenant_id", "order_id", "position"),
    )


class OrderEvent(TenantModel):
    __tablename__ = "order_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    order_id: Mapped[uuid.UUID] = mapped_column()
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))  # created | status | note
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    actor_label: Mapped[str] = mapped_column(String(254))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "order_id"], ["orders.tenant_id", "orders.id"], ondelete="CASCADE"),
        Index("ix_order_events_order", "tenant_id", "order_id", "at"),
    )


class DailyStat(TenantModel):
    """Per tenant per day rollup, written in the same transaction as each order write.

    dim/key slice the day: ("all", "") holds the totals; ("status", "paid"), ("channel", "web"),
    ("method", "card") hold breakdowns. The natural key replaces a surrogate id here: a rollup row
    is identified by what it counts, and upserts need exactly that key.
    """

    __tablename__ = "daily_stats"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(16), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer, default=0)       # orders created that day
    paid_orders: Mapped[int] = mapped_column(Integer, default=0)  # of those, now paid
    revenue: Mapped[int] = mapped_column(BigInteger, default=0)   # paid totals by order day
    refunds: Mapped[int] = mapped_column(BigInteger, default=0)
    new_customers: Mapped[int] = mapped_column(Integer, default=0)


class Counter(TenantModel):
    """Per-tenant sequences (order numbers). Its row lock also serialises limit checks."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(24), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


TENANT_TABLES = [t.name for t in TenantModel.metadata.sorted_tables]
