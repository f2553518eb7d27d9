"""Customers of the back-office: the list (search, sort, keyset pages), the detail with their
orders and totals, create and edit."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, g, request, url_for
from werkzeug.datastructures import MultiDict

from extensions import db
from models.tenant import Customer
from services import audit, customer_queries, customers, order_queries
from services.errors import LimitReached, NotFound, ServiceError, ValidationFailed
from services.usage import refresh_usage
from tenant_portal import bp
from tenant_portal.forms import CustomerFilterForm, CustomerForm
from tenancy.context import tenant_db
from web.actors import request_actor
from web.errors import error_response
from web.rendering import htmx_redirect, render, wants_fragment

LIST = "tenant_portal/customers/index.html"
DETAIL = "tenant_portal/customers/detail.html"
FORM = "tenant_portal/customers/form.html"


def customers_url(args: MultiDict[str, str], **changes: Any) -> str:
    values = {k: v for k, v in args.items() if v and k in ("q", "sort")}
    values.update(changes)
    return url_for("portal.customers", **{k: v for k, v in values.items() if v})


@bp.get("/customers", endpoint="customers")
def customers_index() -> Response:
    filters = CustomerFilterForm(request.args)
    try:
        query = customer_queries.parse_customer_query(request.args)
        page = customer_queries.list_customers(tenant_db(), query, after=request.args.get("after"),
                                               before=request.args.get("before"))
    except ValidationFailed as exc:
        return render(LIST, "results", status=422, filters=filters, page=None, query=None, error=exc.message,
                      list_url=customers_url)
    return render(LIST, "results", filters=filters, page=page, query=query, error=None,
                  list_url=customers_url)


def _customer_or_404(customer_id: uuid.UUID) -> Customer:
    try:
        return customers.get_customer(tenant_db(), customer_id)
    except NotFound:
        abort(404)


@bp.get("/customers/<uuid:customer_id>")
def customer_detail(customer_id: uuid.UUID) -> Response:
    customer = _customer_or_404(customer_id)
    recent = order_queries.list_orders(tenant_db(), order_queries.OrderQuery(customer_id=customer.id),
                                       g.tenant.timezone, limit=20)
    return render(DETAIL, customer=customer, recent=recent)


def _refused(form: CustomerForm, exc: ServiceError, customer: Customer | None = None) -> Response:
    """Nothing saved: re-show the form with the refusal next to its field (or above the form)."""
    tenant_db().rollback()
    if isinstance(exc, LimitReached) and wants_fragment():
        return error_response(402, exc.message)  # htmx does not swap a 402: the toast says it
    if exc.field in ("name", "email", "phone"):
        getattr(form, exc.field).errors = [exc.message]
    else:
        form.form_errors.append(exc.message)
    return render(FORM, "form", status=exc.status, form=form, customer=customer)


@bp.route("/customers/new", methods=["GET", "POST"])
def customer_new() -> Response:
    form = CustomerForm()
    if not form.validate_on_submit():
        return render(FORM, "form", status=422 if form.errors else 200, form=form, customer=None)
    try:
        customer = customers.create_customer(tenant_db(), g.tenant, name=form.name.data or "",
                                             email=form.email.data, phone=form.phone.data)
    except (LimitReached, ValidationFailed) as exc:
        return _refused(form, exc)
    tenant_db().commit()
    audit.record("customer.create", request_actor(), tenant_id=g.tenant.id, target_type="customer",
                 target_id=customer.id, target_label=customer.name)
    refresh_usage(g.tenant, tenant_db())
    db.session.commit()
    return htmx_redirect(url_for("portal.customer_detail", customer_id=customer.id))


@bp.route("/customers/<uuid:customer_id>/edit", methods=["GET", "POST"])
def customer_edit(customer_id: uuid.UUID) -> Response:
    customer = _customer_or_404(customer_id)
    form = CustomerForm(obj=customer)
    if not form.validate_on_submit():
        return render(FORM, "form", status=422 if form.errors else 200, form=form, customer=customer)
    try:
        before = customers.update_customer(tenant_db(), customer, name=form.name.data or "",
                                           email=form.email.data, phone=form.phone.data)
    except ValidationFailed as exc:
        return _refused(form, exc, customer)
    tenant_db().commit()
    if before:  # a save that changed nothing is not an event
        audit.record("customer.update", request_actor(), tenant_id=g.tenant.id, target_type="customer",
                     target_id=customer.id, target_label=customer.name, before=before,
                     after={k: getattr(customer, k) for k in before})
        db.session.commit()
    return htmx_redirect(url_for("portal.customer_detail", customer_id=customer.id))
