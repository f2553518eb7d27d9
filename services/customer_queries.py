"""Reading customers: the searchable, sorted, keyset-paged list and the new-order picker."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.tenant import Customer
from services.paging import Page, keyset_page
from services.text import one_of, search_term

PAGE_SIZE = 25

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
    q = search_term(args.get("q"))
    sort = one_of(args.get("sort"), SORTS, "recent", "sort", "sort")
    return CustomerQuery(q=q, sort=sort)


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching `text` anywhere, its own % _ \\ taken literally (escape="\\")."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_customers(session: Session, query: CustomerQuery, *, after: str | None = None,
                   before: str | None = None, limit: int = PAGE_SIZE) -> Page[Customer]:
    stmt = select(Customer)
    if query.q:
        pattern = contains_pattern(query.q)
        stmt = stmt.where(or_(Customer.name.ilike(pattern, escape="\\"),
                              Customer.email.ilike(pattern, escape="\\")))
    _label, keys, descending = SORTS[query.sort]
    return keyset_page(session, stmt, keys, descending, limit, after=after, before=before)


def recent_customers(session: Session, limit: int = 100) -> list[Customer]:
    """Customers to offer in the new-order picker: the most recently added first."""
    return list(session.execute(select(Customer).order_by(Customer.created_at.desc(), Customer.id.desc())
                                .limit(limit)).scalars())
