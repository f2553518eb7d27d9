"""Reading customers: the searchable, sorted, keyset-paged list and the new-order picker."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from models.tenant import Customer
from services.errors import ValidationFailed
from services.paging import Page, keyset_batches, keyset_page, keyset_search_page
from services.text import one_of, search_term

PAGE_SIZE = 25
MIN_CONTAINS = 3  # "contains" search is served by a trigram index: it needs three characters

# sort name → (label, keyset columns, descending)
SORTS: dict[str, tuple[str, tuple[Any, ...], bool]] = {
    "recent": ("Newest first", (Customer.created_at, Customer.id), True),
    "orders": ("Most orders", (Customer.orders_count, Customer.id), True),
    "spent": ("Most spent", (Customer.total_spent, Customer.id), True),
}


@dataclass(frozen=True)
class CustomerQuery:
    q: str = ""
    sort: str = "recent"


def parse_customer_query(args: Mapping[str, str]) -> CustomerQuery:
    q = require_contains_length(search_term(args.get("q")), "a name or e-mail")
    sort = one_of(args.get("sort"), SORTS, "recent", "sort", "sort")
    return CustomerQuery(q=q, sort=sort)


def require_contains_length(q: str, what: str, field: str = "q") -> str:
    """Refuse a "contains" search shorter than MIN_CONTAINS (no trigram to look up: it would read
    every row of the tenant)."""
    if q and len(q) < MIN_CONTAINS:
        raise ValidationFailed(f"Search for at least {MIN_CONTAINS} characters of {what}.", field)
    return q


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % _ \\ taken literally (escape="\\")."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _match(entity: Any, q: str) -> Any:
    pattern = contains_pattern(q)
    return or_(entity.name.ilike(pattern, escape="\\"), entity.email.ilike(pattern, escape="\\"))


def _filtered(query: CustomerQuery) -> Select[Any]:
    stmt = select(Customer)
    if query.q:
        stmt = stmt.where(_match(Customer, query.q))
    return stmt


def list_customers(session: Session, query: CustomerQuery, *, after: str | None = None,
                   before: str | None = None, limit: int = PAGE_SIZE) -> Page[Customer]:
    """One page; a search takes the bounded walk of `keyset_search_page` (services.paging)."""
    _label, keys, descending = SORTS[query.sort]
    if query.q:
        return keyset_search_page(session, select(Customer), keys, descending, limit,
                                  lambda entity: _match(entity, query.q), after=after, before=before).page
    return keyset_page(session, _filtered(query), keys, descending, limit, after=after, before=before)


def customer_batches(session: Session, query: CustomerQuery, size: int) -> Iterator[list[Customer]]:
    """Every customer the list shows for `query`, in the list's order, `size` at a time (CSV export)."""
    _label, keys, descending = SORTS[query.sort]
    return keyset_batches(session, _filtered(query), keys, descending, size)


def recent_customers(session: Session, limit: int = 100) -> list[Customer]:
    """Customers to offer in the new-order picker: the most recently added first."""
    return list(session.execute(select(Customer).order_by(Customer.created_at.desc(), Customer.id.desc())
                                .limit(limit)).scalars())
