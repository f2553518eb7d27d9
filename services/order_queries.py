"""Reading orders: the filtered, sorted, keyset-paged list of the back-office.

Filters arrive as plain strings (a query string); `parse_order_query` turns them into an
`OrderQuery` or raises ValidationFailed naming the parameter, so bad input is a clear 422.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from models.tenant import CHANNELS, PAYMENT_METHODS, Order, PaymentStatus
from services.customer_queries import MIN_CONTAINS, contains_pattern, require_contains_length
from services.errors import ValidationFailed
from services.text import one_of, parse_day, search_term
from services.paging import Page, keyset_batches, keyset_page, keyset_search_page
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


def parse_order_query(args: Mapping[str, str]) -> OrderQuery:
    """Validate list parameters (all optional); raises ValidationFailed(field=<parameter>)."""
    q = search_term(args.get("q"))
    if not _NUMBER_RE.match(q):
        require_contains_length(q, "a name or e-mail, or an order number such as #1042")
    sort = one_of(args.get("sort"), SORTS, "newest", "sort", "sort")
    customer_id = None
    if args.get("customer"):
        try:
            customer_id = uuid.UUID(args["customer"])
        except ValueError:
            raise ValidationFailed("That customer link is not valid.", "customer") from None
    date_from = parse_day(args.get("date_from"), "date_from")
    date_to = parse_day(args.get("date_to"), "date_to")
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


def _contains_text(q: str) -> str | None:
    """The text to find inside names and e-mails, or None when `q` is only an order number
    ("#1042", or digits too short to search inside text)."""
    number = _NUMBER_RE.match(q)
    if number and (q.startswith("#") or len(number.group(1)) < MIN_CONTAINS):
        return None
    return q


def _match(entity: Any, q: str) -> Any:
    """Orders `q` finds: its number, and/or names and e-mails containing it (`entity`: Order or
    an alias of it)."""
    number, text = _NUMBER_RE.match(q), _contains_text(q)
    clauses = [entity.number == int(number.group(1))] if number else []
    if text:
        pattern = contains_pattern(text)
        clauses += [entity.customer_name.ilike(pattern, escape="\\"),
                    entity.customer_email.ilike(pattern, escape="\\")]
    return or_(*clauses)


def _row_tests(entity: Any, query: OrderQuery) -> list[Any]:
    """The filters no index serves, so a list tests them row by row: a search inside names and
    e-mails, the payment method, the channel (`entity`: Order or an alias of it)."""
    tests = []
    if query.q and _contains_text(query.q):
        tests.append(_match(entity, query.q))
    if query.method:
        tests.append(entity.payment_method == query.method)
    if query.channel:
        tests.append(entity.channel == query.channel)
    return tests


def _filtered(stmt: Select[Any], query: OrderQuery, tz: str, *, row_tests: bool = True) -> Select[Any]:
    """`stmt` with the query's filters; `row_tests=False` keeps only those an index serves (the
    tenant's orders by date, by status, by customer, by number)."""
    if query.q and not _contains_text(query.q):
        stmt = stmt.where(_match(Order, query.q))
    if query.status:
        stmt = stmt.where(Order.payment_status == query.status)
    if query.customer_id:
        stmt = stmt.where(Order.customer_id == query.customer_id)
    if query.date_from:  # dates are the tenant's local days; date_to is inclusive
        stmt = stmt.where(Order.created_at >= _local_midnight(query.date_from, tz))
    if query.date_to:
        stmt = stmt.where(Order.created_at < _local_midnight(query.date_to + dt.timedelta(days=1), tz))
    if row_tests:
        stmt = stmt.where(*_row_tests(Order, query))
    return stmt


def list_orders(session: Session, query: OrderQuery, tz: str, *, after: str | None = None,
                before: str | None = None, limit: int = PAGE_SIZE) -> OrderList:
    """One page of matching orders and how many match.

    Filters an index serves (date, status, customer, number): the page and a count capped at
    COUNT_CAP, two statements. With filters tested row by row (a search inside names and e-mails,
    the method, the channel), counting to 10,000 could read every order of the tenant, so the
    page comes from the bounded walk of `keyset_search_page` (one to three statements) and the
    count is exact only when that walk saw every match ("100+ orders" otherwise). A customer's
    orders, or one order number, are few: those always take the first way.
    """
    _label, keys, descending = SORTS[query.sort]
    row_tests = _row_tests(Order, query)
    few = query.customer_id is not None or (query.q and not _contains_text(query.q))
    if row_tests and not few:
        found = keyset_search_page(
            session, _filtered(select(Order), query, tz, row_tests=False), keys, descending, limit,
            lambda entity: and_(*_row_tests(entity, query)), after=after, before=before,
            count_cap=COUNT_CAP)
        return OrderList(page=found.page, count=found.count, capped=found.capped)
    page = keyset_page(session, _filtered(select(Order), query, tz), keys, descending, limit,
                       after=after, before=before)
    found = capped_count(session, _filtered(select(Order.id), query, tz), COUNT_CAP)
    return OrderList(page=page, count=min(found, COUNT_CAP), capped=found > COUNT_CAP)


def order_batches(session: Session, query: OrderQuery, tz: str, size: int) -> Iterator[list[Order]]:
    """Every order the list shows for `query`, in the list's order, `size` at a time (CSV export)."""
    _label, keys, descending = SORTS[query.sort]
    return keyset_batches(session, _filtered(select(Order), query, tz), keys, descending, size)
