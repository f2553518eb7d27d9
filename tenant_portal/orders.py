"""Orders of the back-office: the list (search, filters, sort, keyset pages), the detail with its
status changes and notes, and the new-order form with live totals."""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, g, request, url_for
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from extensions import db
from models.control import Tenant
from models.tenant import Customer, Order
from services import audit, customer_queries, order_queries, orders
from services.customer_queries import recent_customers
from services.errors import LimitReached, NotFound, TransitionRefused, ValidationFailed
from services.usage import refresh_usage
from tenant_portal import bp
from tenant_portal.forms import NoteForm, OrderFilterForm, OrderForm, StatusForm
from tenancy.context import tenant_db
from web.actors import request_actor
from web.errors import error_response
from web.rendering import htmx_redirect, render, wants_fragment

LIST = "tenant_portal/orders/index.html"
DETAIL = "tenant_portal/orders/detail.html"
NEW = "tenant_portal/orders/new.html"
LIST_PARAMS = ("q", "status", "method", "channel", "date_from", "date_to", "sort", "customer")


def list_url(args: MultiDict[str, str], **changes: Any) -> str:
    """The list's URL with the current filters, some replaced (None drops a parameter)."""
    values = {k: v for k, v in args.items() if v and k in LIST_PARAMS}
    values.update(changes)
    return url_for("portal.orders", **{k: v for k, v in values.items() if v})


@bp.get("/orders", endpoint="orders")
def orders_index() -> Response:
    filters = OrderFilterForm(request.args)
    try:
        query = order_queries.parse_order_query(request.args)
        result = order_queries.list_orders(tenant_db(), query, g.tenant.timezone,
                                           after=request.args.get("after"), before=request.args.get("before"))
    except ValidationFailed as exc:
        return render(LIST, "results", status=422, filters=filters, result=None, error=exc.message,
                      query=None, list_url=list_url)
    return render(LIST, "results", filters=filters, result=result, query=query, error=None,
                  list_url=list_url)


def _order_or_404(order_id: uuid.UUID, with_details: bool = True) -> Order:
    try:
        return orders.get_order(tenant_db(), order_id, with_details=with_details)
    except NotFound:
        abort(404)


def _detail(order: Order, status: int = 200, block: str | None = "activity",
            note_form: NoteForm | None = None, status_error: str | None = None) -> Response:
    """The order page, or (for htmx) its status-and-timeline partial."""
    return render(DETAIL, block, status=status, order=order, note_form=note_form or NoteForm(),
                  status_error=status_error)


@bp.get("/orders/<uuid:order_id>")
def order_detail(order_id: uuid.UUID) -> Response:
    return _detail(_order_or_404(order_id), block=None)


@bp.post("/orders/<uuid:order_id>/status")
def order_status(order_id: uuid.UUID) -> Response:
    order = _order_or_404(order_id, with_details=False)
    to_status, from_status = StatusForm().to_status.data or "", order.payment_status
    try:
        orders.change_status(tenant_db(), g.tenant, order, to_status, g.user.email)
    except TransitionRefused as exc:
        tenant_db().rollback()
        if wants_fragment():  # htmx shows refusals as a toast; the page stays as it was
            return error_response(409, exc.message)
        return _detail(_order_or_404(order_id), 409, block=None, status_error=exc.message)
    tenant_db().commit()
    audit.record("order.status", request_actor(), tenant_id=g.tenant.id, target_type="order",
                 target_id=order.id, target_label=f"#{order.number}",
                 before={"payment_status": from_status}, after={"payment_status": to_status})
    db.session.commit()
    return _detail(_order_or_404(order_id))


@bp.post("/orders/<uuid:order_id>/notes")
def order_note(order_id: uuid.UUID) -> Response:
    order = _order_or_404(order_id, with_details=False)
    form = NoteForm()
    try:
        orders.add_note(tenant_db(), g.tenant, order, form.note.data or "", g.user.email)
    except ValidationFailed as exc:
        form.note.errors = [exc.message]
        return _detail(_order_or_404(order_id), 422, note_form=form)
    tenant_db().commit()
    return _detail(_order_or_404(order_id))


# --- new order ------------------------------------------------------------------------------

FIELD_OF = {"customer": "customer_id", "name": "new_customer_name", "email": "new_customer_email",
            "phone": "new_customer_phone", "discount": "discount", "tax": "tax",
            "channel": "channel", "payment_method": "payment_method"}


def _order_form(found: list[Customer] | None = None) -> OrderForm:
    """The form, offering `found` customers (a search's results) or else the most recent ones."""
    form = OrderForm(customer_id=request.args.get("customer", ""))
    form.customer_id.choices = [form.customer_id.choices[0]] + [
        SelectChoice(str(c.id), f"{c.name} · {c.email}" if c.email else c.name)
        for c in (found if found is not None else recent_customers(tenant_db()))]
    return form


def _show_error(form: OrderForm, exc: ValidationFailed) -> None:
    field = getattr(form, FIELD_OF.get(exc.field or "", ""), None)
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


@bp.route("/orders/new", methods=["GET", "POST"])
def order_new() -> Response:
    form = _order_form()
    if request.method == "GET" or form.wants_rows_changed(request.form):
        form.change_rows(request.form)
        return render(NEW, "form", form=form)
    amounts = form.amounts(g.tenant.currency, g.tenant.locale) if form.validate() else None
    if amounts is None:
        return render(NEW, "form", status=422, form=form)
    try:
        order = orders.create_order(tenant_db(), g.tenant, **_create_args(form, amounts))
    except LimitReached as exc:
        return _refused(form, exc)
    except ValidationFailed as exc:
        tenant_db().rollback()
        _show_error(form, exc)
        return render(NEW, "form", status=422, form=form)
    tenant_db().commit()
    after_order_write(g.tenant)
    return htmx_redirect(url_for("portal.order_detail", order_id=order.id))


def _create_args(form: OrderForm, amounts: Any) -> dict[str, Any]:
    new_customer = None
    if (form.new_customer_name.data or "").strip() or (form.new_customer_email.data or "").strip():
        new_customer = orders.NewCustomer(form.new_customer_name.data or "",
                                          form.new_customer_email.data or None,
                                          form.new_customer_phone.data or None)
    return dict(items=amounts.items, discount=amounts.discount, tax=amounts.tax,
                channel=form.channel.data, payment_method=form.payment_method.data,
                customer_id=form.customer_id.data or None, new_customer=new_customer,
                actor_label=g.user.email)


def _refused(form: OrderForm, exc: LimitReached) -> Response:
    tenant_db().rollback()
    if wants_fragment():  # htmx does not swap a 402; the toast carries the message
        return error_response(402, exc.message)
    form.form_errors.append(exc.message)
    return render(NEW, status=402, form=form)


def after_order_write(tenant: Tenant) -> None:
    """Mirror usage onto the control plane once the tenant's transaction is committed."""
    refresh_usage(tenant, tenant_db())
    db.session.commit()


@bp.get("/orders/new/customers")
def order_customer_choices() -> Response:
    """The picker's options for a search; the whole form for a browser without JavaScript."""
    try:
        query = customer_queries.parse_customer_query({"q": request.args.get("customer_search", "")})
    except ValidationFailed as exc:
        return error_response(422, exc.message)
    form = _order_form(customer_queries.list_customers(tenant_db(), query, limit=20).items)
    return render(NEW, "customer_choices", form=form)


@bp.post("/orders/totals")
def order_totals() -> Response:
    form = OrderForm()
    amounts = form.amounts(g.tenant.currency, g.tenant.locale) if form.validate() else None
    totals, problem = None, None
    if amounts is None:
        problem = "Fix the highlighted amounts to see the totals."
    else:
        try:
            totals = orders.compute_totals(amounts.items, amounts.discount, amounts.tax)
        except ValidationFailed as exc:
            problem = exc.message
    return render("tenant_portal/orders/_totals.html", totals=totals, problem=problem)
