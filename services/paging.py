"""Keyset (seek) pagination, the one mechanism every list uses.

A page is found by comparing the sort key of the last row seen — `WHERE (created_at, id) < (…)` —
never by OFFSET, so page 10,000 costs what page 1 costs, and lists never run an exact COUNT.
Cursors are opaque URL-safe strings; a malformed one is a clear 400, not a crash.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, Sequence, TypeVar

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from services.errors import ServiceError
from tenancy.context import capped_count

T = TypeVar("T")


class BadCursor(ServiceError):
    status = 400


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None   # older / further
    prev_cursor: str | None   # newer / back


def encode_cursor(values: Sequence[Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, dt.datetime):
            return {"t": v.isoformat()}
        if isinstance(v, dt.date):
            return {"d": v.isoformat()}
        if isinstance(v, uuid.UUID):
            return {"u": str(v)}
        return v
    raw = json.dumps([plain(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, arity: int) -> list[Any]:
    try:
        if len(token) > 400:
            raise ValueError("too long")
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != arity:
            raise ValueError("wrong shape")
        out = []
        for v in values:
            if isinstance(v, dict) and "t" in v:
                parsed = dt.datetime.fromisoformat(v["t"])
                if parsed.tzinfo is None:
                    raise ValueError("naive datetime")
                out.append(parsed)
            elif isinstance(v, dict) and "d" in v:
                out.append(dt.date.fromisoformat(v["d"]))
            elif isinstance(v, dict) and "u" in v:
                out.append(uuid.UUID(v["u"]))
            elif isinstance(v, (int, str)) and not isinstance(v, bool):
                if isinstance(v, int) and abs(v) > 2**62:
                    raise ValueError("number out of range")
                out.append(v)
            else:
                raise ValueError("unexpected value")
        return out
    except (ValueError, TypeError, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise BadCursor("That page link is broken or out of date; start from the first page.") from None


def _check_type(key: Any, value: Any) -> None:
    """A cursor made for another sort (or by hand) decodes, but its values must have the types of
    this sort's columns: the database would refuse to compare them, and that must be a 400."""
    column_type = getattr(key.type, "impl_instance", key.type)  # a TypeDecorator: what it stores
    try:
        expected = column_type.python_type
    except NotImplementedError:
        return
    if expected is dt.date:
        ok = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    else:
        ok = isinstance(value, expected) and not isinstance(value, bool)
    if not ok:
        raise BadCursor("That page link is broken or out of date; start from the first page.")


def _seek(keys: Sequence[Any], token: str, descending: bool, backwards: bool) -> Any:
    """`(k1, k2) < (v1, v2)` (or `>`): the rows past the cursor, in the direction of travel."""
    values = decode_cursor(token, len(keys))
    for key, value in zip(keys, values):
        _check_type(key, value)
    row_key = tuple_(*keys)
    return row_key < tuple_(*values) if descending != backwards else row_key > tuple_(*values)


def _ordered(keys: Sequence[Any], descending: bool, backwards: bool) -> list[Any]:
    return [k.desc() if descending != backwards else k.asc() for k in keys]


def _page_of(rows: list[Any], keys: Sequence[Any], limit: int, more: bool, token: str | None,
             backwards: bool) -> Page[Any]:
    rows = rows[:limit]
    if backwards:
        rows.reverse()

    def key_of(row: Any) -> list[Any]:
        return [getattr(row, k.key) for k in keys]

    if not rows:
        return Page([], None, None)
    if backwards:
        next_cursor = encode_cursor(key_of(rows[-1]))
        prev_cursor = encode_cursor(key_of(rows[0])) if more else None
    else:
        next_cursor = encode_cursor(key_of(rows[-1])) if more else None
        prev_cursor = encode_cursor(key_of(rows[0])) if token else None
    return Page(rows, next_cursor, prev_cursor)


def keyset_page(session: Session, stmt: Select[Any], keys: Sequence[InstrumentedAttribute[Any]],
                descending: bool, limit: int, after: str | None = None,
                before: str | None = None) -> Page[Any]:
    """One page of `stmt` ordered by `keys` (all ascending or all descending; the last key must be
    unique, e.g. the id). `after` continues past a cursor; `before` goes back."""
    backwards = bool(before) and not after
    token = after or before
    if token:
        stmt = stmt.where(_seek(keys, token, descending, backwards))
    stmt = stmt.order_by(*_ordered(keys, descending, backwards)).limit(limit + 1)
    rows = list(session.execute(stmt).scalars())
    return _page_of(rows, keys, limit, len(rows) > limit, token, backwards)


# --- "contains" search over big lists -------------------------------------------------------------
#
# A search term such as "santoso" can match one row in twenty-five (a surname) or one in a
# million (an e-mail address). Walking the list's own index newest-first and testing each row finds
# a page of a common term after a few hundred rows, but walks every row of the tenant for a rare
# one (seconds at a million orders). Collecting every match through the trigram index is fast for a
# rare term but costs one heap visit per match for a common one, plus a sort. So a search does both,
# bounded: it walks at most SEARCH_WINDOW rows first; only when they hold less than a page does it
# collect all matches (through the trigram index where PostgreSQL can use it) and sort those.

SEARCH_WINDOW = 5_000     # rows walked in list order before collecting every match instead
SEARCH_COUNT_CAP = 100    # matches counted while walking; beyond it the count reads "100+"


@dataclass
class SearchPage(Generic[T]):
    page: Page[T]
    count: int        # matching rows: exact unless `capped`
    capped: bool      # True: at least `count` rows match (there may be many more)


def keyset_search_page(session: Session, stmt: Select[Any], keys: Sequence[InstrumentedAttribute[Any]],
                       descending: bool, limit: int, match: Callable[[Any], Any], *,
                       after: str | None = None, before: str | None = None, count_cap: int = 0,
                       window: int | None = None) -> SearchPage[Any]:
    """One page of the rows of `stmt` (a select of one mapped entity) for which `match(entity)`
    holds, in `keys` order: the page `keyset_page` would return for `stmt.where(match(entity))`,
    at a bounded cost whatever the term's selectivity.

    `count_cap` > 0 also counts the matches: up to SEARCH_COUNT_CAP when the walk finds a page
    (a lower bound, `capped`), exactly up to `count_cap` when every match is collected.
    """
    entity = stmt.column_descriptions[0]["entity"]
    window = window or SEARCH_WINDOW
    backwards = bool(before) and not after
    token = after or before
    seek = (lambda e: _seek([getattr(e, k.key) for k in keys], token, descending, backwards)) if token else None

    def order(e: Any) -> list[Any]:
        return _ordered([getattr(e, k.key) for k in keys], descending, backwards)

    walk_cap = max(limit + 1, min(count_cap, SEARCH_COUNT_CAP) + 1) if count_cap else limit + 1

    # 1. The next `window` rows in list order (the list's own index), then the matches among them.
    scope = stmt.where(seek(entity)) if seek else stmt
    walked = aliased(entity, scope.order_by(*order(entity)).limit(window).subquery("walked"))
    hits = aliased(entity, select(walked).where(match(walked)).order_by(*order(walked))
                   .limit(walk_cap).subquery("hits"))
    found = session.execute(select(hits, func.count().over()).order_by(*order(hits))
                            .limit(limit + 1)).all()
    rows, seen = [r[0] for r in found], (found[0][1] if found else 0)
    if seen >= walk_cap:  # a common term: a full page, and more matches than we count
        return SearchPage(_page_of(rows, keys, limit, True, token, backwards),
                          min(seen - 1, count_cap), True)

    # 2. Every match was in the walk — unless the walk stopped at `window` rows with more behind it.
    window_full = capped_count(session, scope.with_only_columns(entity.id), window - 1) >= window
    if not window_full or len(rows) > limit:
        # From the first page a walk that reached the end saw every match; otherwise `seen` is
        # what this walk found, at least.
        return SearchPage(_page_of(rows, keys, limit, len(rows) > limit, token, backwards),
                          seen, window_full or bool(token))

    # 3. A rare term: collect every match (PostgreSQL: through the trigram index), sort those, and
    #    count them in the same statement (the CTE is computed once).
    matches = stmt.where(match(entity)).cte("matches").prefix_with("MATERIALIZED", dialect="postgresql")
    m = aliased(entity, matches)
    page_stmt = select(m).where(seek(m)) if seek else select(m)
    counted = select(matches.c.id).limit(max(count_cap, 1) + 1).subquery("counted")
    page_stmt = page_stmt.add_columns(select(func.count()).select_from(counted).scalar_subquery())
    found = session.execute(page_stmt.order_by(*order(m)).limit(limit + 1)).all()
    rows = [r[0] for r in found]
    page = _page_of(rows, keys, limit, len(rows) > limit, token, backwards)
    if not found:
        return SearchPage(page, 0, bool(token))  # past the last match: the count is not known here
    total = found[0][1]
    return SearchPage(page, min(total, count_cap) if count_cap else total,
                      bool(count_cap) and total > count_cap)


def keyset_batches(session: Session, stmt: Select[Any], keys: Sequence[InstrumentedAttribute[Any]],
                   descending: bool, size: int) -> Iterator[list[Any]]:
    """Every row of `stmt` in `keys` order, `size` rows at a time: one keyset query per batch,
    so an export of a million rows costs what a million rows cost, never an OFFSET scan.

    The caller may close the session between batches (the next batch starts a new transaction):
    exports do, so neither memory nor a pooled connection is held while a slow client reads."""
    after: str | None = None
    while True:
        page = keyset_page(session, stmt, keys, descending, size, after=after)
        if page.items:
            yield page.items
        if page.next_cursor is None:
            return
        after = page.next_cursor
