"""Money and dates in the tenant's currency, locale and time zone (Babel).

Amounts are integer minor units. Currencies whose minor unit is not used in practice (IDR, JPY,
KRW, VND) are stored and shown without decimals: Rp 1.250.000, RM 1,250.00, $1,250.00.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import NumberFormatError, format_currency, get_currency_precision, parse_decimal

ZERO_DECIMAL = frozenset({"IDR", "JPY", "KRW", "VND", "CLP", "ISK", "UGX"})
MAX_AMOUNT = 10**13  # minor units; larger is surely a typo and would overflow some sums
_ALPHA_SYMBOL = re.compile(r"^([^\d\s\-+]*[A-Za-z]{2,})(?=\d)")


def exponent(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL else get_currency_precision(currency)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int | None, currency: str, locale: str = "en_US") -> str:
    if minor is None:
        return "—"
    digits = exponent(currency)
    pattern = None if digits else "¤#,##0"
    text = format_currency(to_decimal(minor, currency), currency, locale=_locale(locale),
                           format=pattern, currency_digits=digits != 0)
    # "Rp1.250.000" → "Rp 1.250.000": letter symbols read better apart from the number.
    return _ALPHA_SYMBOL.sub(lambda m: m.group(1) + "\u00a0", text)


def parse_money(text: str, currency: str, locale: str = "en_US") -> int:
    """Parse an amount typed in the locale's normal format into minor units.

    Raises ValueError with a message a person can act on.
    """
    raw = (text or "").strip().replace("\u00a0", " ")
    symbol_free = re.sub(r"^[^\d\-]*", "", raw).strip()
    if not symbol_free or len(symbol_free) > 24:
        raise ValueError("Enter an amount, for example " + format_money(125000 * 10**exponent(currency) // 100, currency, locale))
    if re.search(r"[eE_]", symbol_free):
        # Decimal (and Babel) read "1e999999999" and "1_000"; nobody writes money so, and a huge
        # exponent would overflow below, a tiny one round silently to zero.
        raise ValueError(f"'{text[:30]}' is not an amount")
    try:
        value = parse_decimal(symbol_free.replace(" ", ""), locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation):
        try:  # people also type plain machine numbers ("1250.50") whatever their locale
            value = Decimal(symbol_free.replace(" ", ""))
        except InvalidOperation:
            raise ValueError(f"'{text[:30]}' is not an amount") from None
    if not value.is_finite():
        raise ValueError(f"'{text[:30]}' is not an amount")
    if value < 0:
        raise ValueError("Amounts cannot be negative")
    digits = exponent(currency)
    scaled = value.scaleb(digits)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {digits} decimals")
    minor = int(scaled)
    if minor > MAX_AMOUNT:
        raise ValueError("That amount is too large")
    return minor


@lru_cache(maxsize=256)
def _locale(name: str) -> Locale | str:
    """The parsed Locale, once per name: Babel would parse the string again on every call (about
    half the cost of formatting one amount, and a list page formats fifty). An unknown name is
    passed through, so Babel raises exactly as before."""
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return name


def valid_locale(name: str) -> bool:
    try:
        Locale.parse(name)
        return True
    except (UnknownLocaleError, ValueError):
        return False


def format_datetime(value: dt.datetime | None, tz: str = "UTC", locale: str = "en_US",
                    fmt: str = "medium") -> str:
    if value is None:
        return "—"
    return _babel_datetime(value, fmt, tzinfo=_tz(tz), locale=_locale(locale))


def iso_datetime(value: dt.datetime | None, tz: str = "UTC") -> str:
    """ISO 8601 in the tenant's time zone, to the second: "2026-11-23T14:05:09+07:00"; "" for None."""
    if value is None:
        return ""
    return value.astimezone(_tz(tz)).isoformat(timespec="seconds")


def format_date(value: dt.date | dt.datetime | None, tz: str = "UTC", locale: str = "en_US",
                fmt: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        value = value.astimezone(_tz(tz)).date()
    return _babel_date(value, fmt, locale=_locale(locale))


def _tz(name: str) -> dt.tzinfo:
    from zoneinfo import ZoneInfo
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return dt.timezone.utc


# How stored codes (payment methods, channels, statuses) read on a page.
_LABELS = {"cod": "Cash on delivery", "ewallet": "E-wallet", "past_due": "Past due"}


def code_label(code: str | None) -> str:
    """"bank_transfer" → "Bank transfer", "cod" → "Cash on delivery"."""
    if not code:
        return ""
    return _LABELS.get(code) or code.replace("_", " ").capitalize()
