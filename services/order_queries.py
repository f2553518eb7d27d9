"""Reading orders: the filtered, sorted, keyset-paged list of the back-office.

Filters arrive as plain strings (a query string); `parse_order_query` turns them into an
`OrderQuery` or raises ValidationFailed naming the parameter, so bad input is a clear 422.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models.tenant import CHANNELS, PAYMENT_METHODS, Order, PaymentStatus
from services.customer_queries import contains_pattern
from services.errors import ValidationFailed
from services.text import one_of, search_term
from services.paging import Page, keyset_page
from tenancy.context import capped_count

PAGE_SIZE = 25
COUNT_CAP = 10_000  # never count further: "10,000+ orders"
PAYMENT_STATUSES = tuple(s.value for s in PaymentStatus)

# sort name → (label, keyset columns, descending)
SORTS: dict[str, tuple[str, tuple[Any, ...], bool]] = {
    "newest": ("Newest first", (Order.created_at, Order.id), True),
    "oldest": ("Oldest first", (Order.created_at, Order.id), False),
    "total_desc": ("Total: high to low", (Order.total, Order.id), True),
    "total_asc": ("Total: low to high", (Order.total, Order.id), False),
}
_NUMBER_RE = re.compile(r"^#?\s*(\d{1,18})$")


@dataclass(frozen=True)
class OrderQuery:
    q: str = ""
    status: str = ""
    method: str = ""
    channel: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    customer_id: uuid.UUID | None = None
    sort: str = "newest"

    @property
    def is_filtered(self) -> bool:
        return any([self.q, self.status, self.method, self.channel, self.date_from, self.date_to,
                    self.customer_id])


@dataclass(frozen=True)
class OrderList:
    page: Page[Order]
    count: int          # exact when not capped
    capped: bool        # True: there are more than COUNT_CAP


def _choice(value: str, allowed: tuple[str, ...], field: str, what: str) -> str:
    if value and value not in allowed:
        raise ValidationFailed(f"Unknown {what}. Choose one of: {', '.join(allowed)}.", field)
    return value


def _date(value: str, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD, for example 2026-11-23.", field) from None


def parse_order_query(args: Mapping[str, str]) -> OrderQuery:
    """Validate list parameters (all optional); raises ValidationFailed(field=<parameter>)."""
    q = search_term(args.get("q"))
    sort = one_of(args.get("sort"), SORTS, "newest", "sort", "sort")
    customer_id = None
    if args.get("customer"):
        try:
            customer_id = uuid.UUID(args["customer"])
        except ValueError:
            raise ValidationFailed("That customer link is not valid.", "customer") from None
    date_from = _date(args.get("date_from", "") or "", "date_from")
    date_to = _date(args.get("date_to", "") or "", "date_to")
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed("The start date is after the end date.", "date_to")
    return OrderQuery(
        q=q, sort=sort, customer_id=customer_id, date_from=date_from, date_to=date_to,
        status=_choice(args.get("status", "") or "", PAYMENT_STATUSES, "status", "payment status"),
        method=_choice(args.get("method", "") or "", PAYMENT_METHODS, "method", "payment method"),
        channel=_choice(args.get("channel", "") or "", CHANNELS, "channel", "channel"))


def _local_midnight(day: dt.date, tz: str) -> dt.datetime:
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone).astimezone(dt.timezone.utc)


def _filtered(stmt: Select[Any], query: OrderQuery, tz: str) -> Select[Any]:
    if query.q:
        number = _NUMBER_RE.match(query.q)
        pattern = contains_pattern(query.q)
        text_match = or_(Order.customer_name.ilike(pattern, escape="\\"),
                         Order.customer_email.ilike(pattern, escape="\\"))
        if number and query.q.startswith("#"):
            stmt = stmt.where(Order.number == int(number.group(1)))
        elif number:
            stmt = stmt.where(or_(Order.number == int(number.group(1)), text_match))
        else:
            stmt = stmt.where(text_match)
    if query.status:
        stmt = stmt.where(Order.payment_status == query.status)
    if query.method:
        stmt = stmt.where(Order.payment_method == query.method)
    if query.channel:
        stmt = stmt.where(Order.channel == query.channel)
    if query.customer_id:
        stmt = stmt.where(Order.customer_id == query.customer_id)
    if query.date_from:  # dates are the tenant's local days; date_to is inclusive
        stmt = stmt.where(Order.created_at >= _local_midnight(query.date_from, tz))
    if query.date_to:
        stmt = stmt.where(Order.created_at < _local_midnight(query.date_to + dt.timedelta(days=1), tz))
    return stmt


def list_orders(session: Session, query: OrderQuery, tz: str, *, after: str | None = None,
                before: str | None = None, limit: int = PAGE_SIZE) -> OrderList:
    """One page of matching orders plus a count capped at COUNT_CAP. Two statements, always."""
    _label, keys, descending = SORTS[query.sort]
    page = keyset_page(session, _filtered(select(Order), query, tz), keys, descending, limit,
                       after=after, before=before)
    found = capped_count(session, _filtered(select(Order.id), query, tz), COUNT_CAP)
    return OrderList(page=page, count=min(found, COUNT_CAP), capped=found > COUNT_CAP)
