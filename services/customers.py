"""Customers of a tenant. Every function works inside the caller's tenant context session."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.control import Tenant, utcnow
from models.tenant import Counter, Customer, Order
from services import rollup
from services.errors import LimitReached, NotFound, ValidationFailed
from services.text import refuse_control_characters
from services.tenants import normalise_email

PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()\-.]{5,30}$")


def clean_customer_fields(name: str, email: str | None, phone: str | None) -> dict[str, Any]:
    refuse_control_characters(name, "name", "name")
    refuse_control_characters(email, "email", "email")
    name = re.sub(r"\s+", " ", name or "").strip()
    if not name:
        raise ValidationFailed("Enter the customer's name.", "name")
    if len(name) > 120:
        raise ValidationFailed("Names can be at most 120 characters.", "name")
    email = (email or "").strip()
    email = normalise_email(email, "email") if email else None
    phone = (phone or "").strip() or None
    if phone and not PHONE_RE.match(phone):
        raise ValidationFailed("Enter a phone number with digits, spaces, +, - or brackets.", "phone")
    return {"name": name, "email": email, "phone": phone}


def get_customer(session: Session, customer_id: Any) -> Customer:
    """The customer with this id in the current tenant, or NotFound (another tenant's id too)."""
    try:
        cid = customer_id if isinstance(customer_id, uuid.UUID) else uuid.UUID(str(customer_id))
    except ValueError:
        raise NotFound("No such customer.") from None
    customer = session.execute(select(Customer).where(Customer.id == cid)).scalar_one_or_none()
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def count_customers(session: Session) -> int:
    return int(session.execute(select(func.count(Customer.id))).scalar_one())


def _email_taken(session: Session, email: str | None, exclude: uuid.UUID | None = None) -> bool:
    if not email:
        return False
    stmt = select(Customer.id).where(Customer.email == email)
    if exclude:
        stmt = stmt.where(Customer.id != exclude)
    return session.execute(stmt).first() is not None


def _serialise_limit_checks(session: Session) -> None:
    """Hold the tenant's counter-row lock until commit, as order creates do (services.orders):
    concurrent creates then count one after another, so 20 at once cannot pass the limit together."""
    session.execute(select(Counter.value).where(Counter.name == "order").with_for_update())


def create_customer(session: Session, tenant: Tenant, *, name: str, email: str | None = None,
                    phone: str | None = None, created_at: dt.datetime | None = None) -> Customer:
    """Add a customer (refused over `max_customers` or with a taken email). `created_at` is for
    imports and the demo: the customer then counts as new on that day in the stats."""
    fields = clean_customer_fields(name, email, phone)
    limit = tenant.plan.max_customers
    if limit is not None:
        _serialise_limit_checks(session)
    if limit is not None and count_customers(session) >= limit:
        raise LimitReached(f"Your plan allows {limit} customers; upgrade to add more.")
    if _email_taken(session, fields["email"]):
        raise ValidationFailed("A customer with this email already exists.", "email")
    customer = Customer(tenant_id=tenant.id, **fields, created_at=created_at or utcnow())
    session.add(customer)
    try:
        session.flush()
    except IntegrityError:  # a concurrent create took the email between check and insert
        session.rollback()
        raise ValidationFailed("A customer with this email already exists.", "email") from None
    rollup.bump(session, tenant.id, rollup.local_day(customer.created_at, tenant.timezone),
                [("all", "")], new_customers=1)
    return customer


def update_customer(session: Session, customer: Customer, *, name: str, email: str | None,
                    phone: str | None) -> dict[str, Any]:
    """Returns the before-values of what changed (for the audit trail).

    Orders copy their customer's name and email (so the list and its search need no join); a
    change here is copied onto every order of the customer, so the list, the order page and the
    search all show the customer as they are now, as Shopify does. The orders' updated_at stays:
    the orders themselves did not change."""
    fields = clean_customer_fields(name, email, phone)
    if _email_taken(session, fields["email"], exclude=customer.id):
        raise ValidationFailed("A customer with this email already exists.", "email")
    before = {k: getattr(customer, k) for k, v in fields.items() if getattr(customer, k) != v}
    for key, value in fields.items():
        setattr(customer, key, value)
    try:
        session.flush()
    except IntegrityError:  # a concurrent edit took the email between check and update
        session.rollback()
        raise ValidationFailed("A customer with this email already exists.", "email") from None
    if "name" in before or "email" in before:
        session.execute(update(Order).where(Order.customer_id == customer.id)
                        .values(customer_name=customer.name, customer_email=customer.email or "",
                                updated_at=Order.updated_at)
                        .execution_options(synchronize_session=False))
    return before
