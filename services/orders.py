"""Orders of a tenant: create (race-safe against the monthly limit), status changes, notes.

Every write keeps, in the same transaction: the order, its items and events, the customer's
derived totals and the daily rollup. Callers commit.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from models.control import Tenant, utcnow
from models.tenant import (CHANNELS, PAYMENT_METHODS, TRANSITIONS, Counter, Customer, Order,
                           OrderEvent, OrderItem, PaymentStatus)
from services import rollup
from services.customers import create_customer, get_customer
from services.errors import LimitReached, NotFound, TransitionRefused, ValidationFailed
from services.text import refuse_control_characters
from web.formatting import MAX_AMOUNT

MAX_ITEMS = 100
MAX_QUANTITY = 100_000


@dataclass(frozen=True)
class LineInput:
    name: str
    quantity: int
    unit_price: int  # minor units


@dataclass(frozen=True)
class NewCustomer:
    name: str
    email: str | None = None
    phone: str | None = None


def _clean_items(items: list[LineInput]) -> list[LineInput]:
    if not items:
        raise ValidationFailed("Add at least one line item.", "items")
    if len(items) > MAX_ITEMS:
        raise ValidationFailed(f"An order can have at most {MAX_ITEMS} line items.", "items")
    cleaned = []
    for n, item in enumerate(items, start=1):
        refuse_control_characters(item.name, "items", f"name of line {n}")
        name = re.sub(r"\s+", " ", item.name or "").strip()
        if not name or len(name) > 200:
            raise ValidationFailed(f"Line {n}: give the item a name of 1 to 200 characters.", "items")
        if not isinstance(item.quantity, int) or not 1 <= item.quantity <= MAX_QUANTITY:
            raise ValidationFailed(f"Line {n}: quantity must be between 1 and {MAX_QUANTITY:,}.", "items")
        if not isinstance(item.unit_price, int) or not 0 <= item.unit_price <= MAX_AMOUNT:
            raise ValidationFailed(f"Line {n}: the price must be a positive amount.", "items")
        cleaned.append(LineInput(name, item.quantity, item.unit_price))
    return cleaned


def compute_totals(items: list[LineInput], discount: int, tax: int) -> dict[str, int]:
    subtotal = sum(i.quantity * i.unit_price for i in items)
    if discount < 0 or tax < 0:
        raise ValidationFailed("Discount and tax cannot be negative.", "discount" if discount < 0 else "tax")
    if discount > subtotal:
        raise ValidationFailed("The discount cannot be more than the subtotal.", "discount")
    total = subtotal - discount + tax
    if total > MAX_AMOUNT:
        raise ValidationFailed("That order total is too large.", "items")
    return {"subtotal": subtotal, "discount": discount, "tax": tax, "total": total}


def _next_number(session: Session) -> int:
    """Take the next order number. The counter row's lock serialises concurrent creates of the
    tenant until commit, which is what makes the monthly limit check below race-safe."""
    value = session.execute(update(Counter).where(Counter.name == "order")
                            .values(value=Counter.value + 1).returning(Counter.value)).scalar()
    if value is None:
        raise RuntimeError("tenant has no order counter: provisioning did not seed defaults")
    return int(value)


def create_order(session: Session, tenant: Tenant, *, items: list[LineInput], channel: str,
                 payment_method: str, actor_label: str, customer_id: Any = None,
                 new_customer: NewCustomer | None = None, discount: int = 0, tax: int = 0,
                 created_at: dt.datetime | None = None) -> Order:
    if channel not in CHANNELS:
        raise ValidationFailed(f"Channel must be one of {', '.join(CHANNELS)}.", "channel")
    if payment_method not in PAYMENT_METHODS:
        raise ValidationFailed(f"Payment method must be one of {', '.join(PAYMENT_METHODS)}.",
                               "payment_method")
    items = _clean_items(items)
    totals = compute_totals(items, discount, tax)
    if customer_id and new_customer:
        raise ValidationFailed("Pick a customer or create one, not both.", "customer")

    number = _next_number(session)  # locks: everything below is serialised per tenant
    created_at = created_at or utcnow()
    day = rollup.local_day(created_at, tenant.timezone)
    limit = tenant.plan.max_orders_per_month
    if limit is not None and rollup.orders_in_month(session, day) >= limit:
        raise LimitReached(f"Your plan allows {limit:,} orders a month and this month's are used; "
                           "upgrade your plan to record more.")

    customer: Customer | None = None
    if new_customer is not None:
        customer = create_customer(session, tenant, name=new_customer.name,
                                   email=new_customer.email, phone=new_customer.phone)
    elif customer_id:
        try:
            customer = get_customer(session, customer_id)
        except NotFound:
            raise ValidationFailed("That customer does not exist.", "customer") from None

    order = Order(tenant_id=tenant.id, number=number,
                  customer_id=customer.id if customer else None,
                  customer_name=customer.name if customer else "",
                  customer_email=(customer.email or "") if customer else "",
                  channel=channel, payment_method=payment_method, currency=tenant.currency,
                  payment_status=PaymentStatus.PENDING.value, created_at=created_at,
                  updated_at=created_at, **totals)
    order.items = [OrderItem(tenant_id=tenant.id, position=n, name=i.name, quantity=i.quantity,
                             unit_price=i.unit_price, line_total=i.quantity * i.unit_price)
                   for n, i in enumerate(items, start=1)]
    order.events = [OrderEvent(tenant_id=tenant.id, at=created_at, kind="created",
                               to_status=PaymentStatus.PENDING.value, actor_label=actor_label)]
    session.add(order)
    if customer is not None:
        customer.orders_count += 1
        customer.last_order_at = max(filter(None, [customer.last_order_at, created_at]))
    session.flush()
    rollup.bump(session, tenant.id, day, [("all", ""), ("status", "pending"),
                                          ("channel", channel), ("method", payment_method)], orders=1)
    return order


def get_order(session: Session, order_id: Any, with_details: bool = False) -> Order:
    """The order with this id in the current tenant, or NotFound (another tenant's id included)."""
    try:
        oid = order_id if isinstance(order_id, uuid.UUID) else uuid.UUID(str(order_id))
    except ValueError:
        raise NotFound("No such order.") from None
    stmt = select(Order).where(Order.id == oid)
    if with_details:
        stmt = stmt.options(selectinload(Order.items), selectinload(Order.events))
    order = session.execute(stmt).scalar_one_or_none()
    if order is None:
        raise NotFound("No such order.")
    return order


def change_status(session: Session, tenant: Tenant, order: Order, to_status: str,
                  actor_label: str, note: str | None = None) -> Order:
    """Move the order along the state machine, or refuse with a reason and change nothing."""
    from_status = order.payment_status
    if to_status not in TRANSITIONS.get(from_status, ()):
        allowed = TRANSITIONS.get(from_status, ())
        hint = f" From {from_status} it can go to {', '.join(allowed)}." if allowed else \
            f" {'An' if from_status[0] in 'aeiou' else 'A'} {from_status} order cannot change any more."
        raise TransitionRefused(f"An order cannot go from {from_status} to {to_status}.{hint}")
    now = utcnow()
    # Conditional update: a concurrent change (another tab, another person) makes this a no-op,
    # so revenue can never be counted twice.
    changed = session.execute(
        update(Order).where(Order.id == order.id, Order.payment_status == from_status)
        .values(payment_status=to_status, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise TransitionRefused("Someone changed this order meanwhile; reload to see its status.")
    order.payment_status, order.updated_at = to_status, now
    day = rollup.local_day(order.created_at, tenant.timezone)
    rollup.bump(session, tenant.id, day, [("status", from_status)], orders=-1)
    rollup.bump(session, tenant.id, day, [("status", to_status)], orders=1)
    slices = [("all", ""), ("channel", order.channel), ("method", order.payment_method)]
    customer = session.get(Customer, (tenant.id, order.customer_id)) if order.customer_id else None
    if to_status == PaymentStatus.PAID.value:
        rollup.bump(session, tenant.id, day, slices, paid_orders=1, revenue=order.total)
        if customer:
            customer.total_spent += order.total
    elif to_status == PaymentStatus.REFUNDED.value:
        rollup.bump(session, tenant.id, day, slices, paid_orders=-1, revenue=-order.total,
                    refunds=order.total)
        if customer:
            customer.total_spent -= order.total
    session.add(OrderEvent(tenant_id=tenant.id, order_id=order.id, at=now, kind="status",
                           from_status=from_status, to_status=to_status,
                           note=_clean_note(note) if note else None, actor_label=actor_label))
    session.flush()
    return order


def _clean_note(note: str) -> str:
    note = (note or "").strip()
    refuse_control_characters(note, "note", "note")
    if not note:
        raise ValidationFailed("Write something in the note.", "note")
    if len(note) > 2000:
        raise ValidationFailed("Notes can be at most 2,000 characters.", "note")
    return note


def add_note(session: Session, tenant: Tenant, order: Order, note: str, actor_label: str) -> OrderEvent:
    event = OrderEvent(tenant_id=tenant.id, order_id=order.id, at=utcnow(), kind="note",
                       note=_clean_note(note), actor_label=actor_label)
    session.add(event)
    session.flush()
    return event


def latest_orders(session: Session, limit: int = 10) -> list[Order]:
    return list(session.execute(select(Order).order_by(Order.created_at.desc(), Order.id.desc())
                                .limit(limit)).scalars())
