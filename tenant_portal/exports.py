"""CSV exports of the orders and customers lists (flag `csv_export`).

An export is the list as filtered, searched and sorted — every matching row, not one page —
parsed and filtered by the same services as the list. It streams: rows are read in keyset
batches, and the session is closed between batches, so memory stays bounded and no pooled
connection is held while a slow client downloads.

The stream runs after the view has returned, when the request's teardown has already left the
tenant context; so the generator enters a context of its own (made in the view, while the tenant
row is loaded) for exactly as long as it reads.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Iterator, Sequence

from flask import Response, current_app, g, request, url_for

from extensions import db
from models.control import utcnow
from models.tenant import Customer, Order
from services import audit, customer_queries, order_queries
from services.errors import ValidationFailed
from services.rollup import local_day
from tenant_portal import bp
from tenant_portal.orders import LIST_PARAMS as ORDER_PARAMS
from tenancy.context import open_tenant_context, tenant_db
from web.actors import request_actor
from web.csv_export import csv_chunk, csv_download
from web.errors import error_response
from web.features import require_feature
from web.formatting import iso_datetime, to_decimal

CUSTOMER_PARAMS = ("q", "sort")
EXPORT_PARAMS = {"portal.orders_csv": ORDER_PARAMS, "portal.customers_csv": CUSTOMER_PARAMS}

ORDER_HEADER = ("Order", "Date", "Customer", "Customer email", "Channel", "Payment method",
                "Payment status", "Currency", "Subtotal", "Discount", "Tax", "Total")
CUSTOMER_HEADER = ("Name", "Email", "Phone", "Orders", "Spent", "Currency", "Added", "Last order")


@bp.app_template_global()
def csv_url(endpoint: str) -> str:
    """The export of the list being shown: its filters from the query string, without its page."""
    wanted = EXPORT_PARAMS[endpoint]
    return url_for(endpoint, **{k: v for k, v in request.args.items() if v and k in wanted})


def _order_cells(order: Order, tz: str) -> Sequence[Any]:
    money = order.currency
    return (order.number, iso_datetime(order.created_at, tz), order.customer_name, order.customer_email,
            order.channel, order.payment_method, order.payment_status, money,
            to_decimal(order.subtotal, money), to_decimal(order.discount, money),
            to_decimal(order.tax, money), to_decimal(order.total, money))


def _customer_cells(customer: Customer, tz: str, currency: str) -> Sequence[Any]:
    return (customer.name, customer.email, customer.phone, customer.orders_count,
            to_decimal(customer.total_spent, currency), currency,
            iso_datetime(customer.created_at, tz), iso_datetime(customer.last_order_at, tz))


@bp.get("/orders.csv")
def orders_csv() -> Response:
    require_feature("csv_export")
    try:
        query = order_queries.parse_order_query(request.args)
    except ValidationFailed as exc:
        return error_response(422, exc.message)
    tz, size = g.tenant.timezone, current_app.config["CSV_EXPORT_BATCH"]
    return _export("orders", ORDER_HEADER, query,
                   lambda: order_queries.order_batches(tenant_db(), query, tz, size),
                   lambda order: _order_cells(order, tz))


@bp.get("/customers.csv")
def customers_csv() -> Response:
    require_feature("csv_export")
    try:
        query = customer_queries.parse_customer_query(request.args)
    except ValidationFailed as exc:
        return error_response(422, exc.message)
    tz, currency, size = g.tenant.timezone, g.tenant.currency, current_app.config["CSV_EXPORT_BATCH"]
    return _export("customers", CUSTOMER_HEADER, query,
                   lambda: customer_queries.customer_batches(tenant_db(), query, size),
                   lambda customer: _customer_cells(customer, tz, currency))


def _export(what: str, header: Sequence[str], query: Any, batches: Callable[[], Iterable[list[Any]]],
            cells: Callable[[Any], Sequence[Any]]) -> Response:
    """Audit the export, then stream `header` and the cells of every row `batches()` yields."""
    tenant = g.tenant
    ctx = open_tenant_context(tenant)  # entered by the stream below, not here
    filename = f"{tenant.slug}-{what}-{local_day(utcnow(), tenant.timezone).isoformat()}.csv"
    filters = {k: v for k, v in dataclasses.asdict(query).items() if v}
    audit.record(f"{what[:-1]}.export", request_actor(), tenant_id=tenant.id, target_type=what,
                 target_label=f"{what} CSV", after={"filters": filters})
    db.session.commit()

    def rows() -> Iterator[bytes]:
        ctx.push()
        try:
            yield csv_chunk([header])
            for batch in batches():
                chunk = csv_chunk(cells(row) for row in batch)
                ctx.session.close()  # rows are plain values now: hold no connection while sending
                yield chunk
        finally:
            ctx.pop()

    return csv_download(filename, rows())
