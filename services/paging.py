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
from typing import Any, Generic, Sequence, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from services.errors import ServiceError

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


def keyset_page(session: Session, stmt: Select[Any], keys: Sequence[InstrumentedAttribute[Any]],
                descending: bool, limit: int, after: str | None = None,
                before: str | None = None) -> Page[Any]:
    """One page of `stmt` ordered by `keys` (all ascending or all descending; the last key must be
    unique, e.g. the id). `after` continues past a cursor; `before` goes back."""
    row_key = tuple_(*keys)
    backwards = bool(before) and not after
    token = after or before
    if token:
        values = decode_cursor(token, len(keys))
        seek_desc = descending != backwards
        stmt = stmt.where(row_key < tuple_(*values) if seek_desc else row_key > tuple_(*values))
    order_desc = descending != backwards
    stmt = stmt.order_by(*[k.desc() if order_desc else k.asc() for k in keys]).limit(limit + 1)
    rows = list(session.execute(stmt).scalars())
    more = len(rows) > limit
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
