"""Jinja filters and globals: money and dates in the current tenant's locale, time zone, currency."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask, g

from web import formatting


def _tenant_locale() -> tuple[str, str, str]:
    tenant = g.get("tenant")
    if tenant is None:
        return "en_US", "UTC", "USD"
    return tenant.locale, tenant.timezone, tenant.currency


def money(minor: int | None, currency: str | None = None) -> str:
    """In a tenant: the tenant's locale. In the console: the currency's home format (Rp 1.250.000)."""
    locale, _, default_currency = _tenant_locale()
    currency = currency or default_currency
    if g.get("tenant") is None:
        from services.tenants import LOCALES
        locale = LOCALES.get(currency, (locale, ""))[0]
    return formatting.format_money(minor, currency, locale)


def datetime_filter(value: dt.datetime | None, fmt: str = "medium") -> str:
    locale, tz, _ = _tenant_locale()
    return formatting.format_datetime(value, tz, locale, fmt)


def date_filter(value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
    locale, tz, _ = _tenant_locale()
    return formatting.format_date(value, tz, locale, fmt)


def ago(value: dt.datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (dt.datetime.now(dt.timezone.utc) - value).total_seconds()
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def register_filters(app: Flask) -> None:
    app.jinja_env.filters.update(label=formatting.code_label, money=money, datetime=datetime_filter, date=date_filter, ago=ago)
    app.jinja_env.globals.update(tenant_money=money)

    @app.context_processor
    def _tenant() -> dict[str, Any]:
        return {"tenant": g.get("tenant")}
