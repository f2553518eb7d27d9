"""Rules for free text people type (names, notes, searches), shared by the services."""
from __future__ import annotations

import datetime as dt
import re
from typing import Iterable

from services.errors import ValidationFailed

# C0/C1 control characters other than tab and newlines: invisible, and NUL cannot be stored in
# PostgreSQL text at all, so they are refused with a message instead of failing on write.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def refuse_control_characters(value: str | None, field: str, what: str) -> None:
    if value and _CONTROL.search(value):
        raise ValidationFailed(f"The {what} contains invisible control characters; remove them.", field)


MAX_SEARCH = 200


def search_term(raw: str | None, field: str = "q") -> str:
    """A list's search box: whitespace folded, at most MAX_SEARCH characters, nothing invisible."""
    term = re.sub(r"\s+", " ", raw or "").strip()
    if len(term) > MAX_SEARCH:
        raise ValidationFailed(f"Search for at most {MAX_SEARCH} characters.", field)
    refuse_control_characters(term, field, "search")
    return term


def one_of(raw: str | None, allowed: Iterable[str], default: str, field: str, what: str) -> str:
    """A choice from a query parameter (sort, status…): the default when empty, else a known value."""
    value = raw or default
    allowed = list(allowed)
    if value not in allowed:
        raise ValidationFailed(f"Unknown {what}. Choose one of: {', '.join(allowed)}.", field)
    return value


# Dates typed into filters: a day's bounds are shifted by time zones and "the day after" is taken
# for inclusive ranges, so the far ends of the calendar (0001-01-01, 9999-12-31) would overflow.
FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(9998, 12, 31)


def parse_day(raw: str | None, field: str) -> dt.date | None:
    """A YYYY-MM-DD date from a form or query string; None when blank."""
    value = (raw or "").strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed("Enter the date as YYYY-MM-DD, for example 2026-11-23.", field) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(f"Enter a date between {FIRST_DAY} and {LAST_DAY}.", field)
    return day
