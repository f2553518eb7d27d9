"""Tenants in the vendor console: the searchable list and bulk suspend/resume."""
from __future__ import annotations

from flask import Response, flash, request, url_for

from admin import bp, requires
from admin.forms import BulkForm
from extensions import db
from services import staff as perms
from services.errors import ServiceError, ValidationFailed
from services.plans import CURRENCIES
from services.tenant_queries import (CREATED_DAYS, HEALTH, ISOLATIONS, LIMITS, REVISIONS, SORTS,
                                     STATUSES, SUBSCRIPTIONS, TRIAL_ENDING_DAYS, list_tenants,
                                     parse_tenant_query, plan_choices)
from services.tenants import bulk_change_status, check_bulk, tenants_by_slugs
from web.actors import request_actor
from web.navigation import safe_next
from web.rendering import htmx_redirect, render

LIST = "admin/tenants/index.html"


@bp.get("/tenants")
@requires(perms.READ)
def tenants() -> Response:
    query = parse_tenant_query(request.args)
    page = list_tenants(query, after=request.args.get("after"), before=request.args.get("before"))
    return render(LIST, "results", page=page, query=query, sorts=SORTS, statuses=STATUSES,
                  isolations=ISOLATIONS, health=HEALTH, plans=plan_choices(),
                  subscriptions=SUBSCRIPTIONS, currencies=CURRENCIES, limits=LIMITS,
                  revisions=REVISIONS, trial_ending_days=TRIAL_ENDING_DAYS,
                  created_days=CREATED_DAYS, bulk=BulkForm(back=request.full_path))


@bp.post("/tenants/bulk")
@requires(perms.SUSPEND)
def tenants_bulk() -> Response:
    form = BulkForm()
    back = safe_next(form.back.data, url_for("admin.tenants"))
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(" ".join(e for errors in form.errors.values() for e in errors))
        chosen = tenants_by_slugs(request.form.getlist("slug"))
        check_bulk(chosen, form.action.data, form.reason.data or "")
        if form.confirmed.data != "1":
            # htmx asks with hx-confirm (and sends confirmed=1); without JavaScript, ask here.
            return render("admin/tenants/bulk_confirm.html", form=form, chosen=chosen, back=back)
        outcome = bulk_change_status(chosen, form.action.data, form.reason.data or "", request_actor())
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return htmx_redirect(back, full_page=True)
    db.session.commit()
    skipped = f" Skipped: {'; '.join(outcome.skipped)}" if outcome.skipped else ""
    verb = {"suspend": "Suspended", "resume": "Resumed"}[form.action.data]
    flash(f"{verb} {len(outcome.done)} tenant(s).{skipped}",
          "success" if outcome.done else "error")
    return htmx_redirect(back, full_page=True)
