"""Creating a tenant: the form with its live slug check, then the provisioning page that follows
the pipeline live (htmx polling, stopped with 286) and shows the owner's link once."""
from __future__ import annotations

import threading
import uuid

from flask import Response, current_app, request, session, url_for
from wtforms.fields.choices import SelectChoice

from admin import bp, requires
from admin.forms import ActionForm, TenantForm
from extensions import db
from models.control import Isolation, TenantStatus
from services import staff as perms
from services import tenants as svc
from services.errors import ServiceError
from tenancy.provisioning import provision, steps_of
from web.actors import request_actor
from web.rendering import htmx_redirect, render, wants_fragment

NEW = "admin/tenants/new.html"
PROVISIONING = "admin/tenants/provisioning.html"


def owner_link_key(tenant_id: uuid.UUID) -> str:
    # The raw link lives only in the signed session cookie, until the page that shows it pops it.
    return f"owner_link:{tenant_id}"


def provision_in_background(tenant_id: uuid.UUID, slug: str) -> None:
    """Run (or resume) the pipeline off the request; the provisioning page polls its progress."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def run() -> None:
        with app.app_context():
            provision(tenant_id)

    threading.Thread(target=run, name=f"provision-{slug}", daemon=True).start()


def _tenant_form() -> TenantForm:
    form = TenantForm()
    form.plan.choices = [SelectChoice(p.slug, p.name) for p in svc.plans_for_new_tenants()]
    modes = [m.value for m in Isolation]
    if db.engine.dialect.name != "postgresql":
        modes.remove(Isolation.SCHEMA.value)  # schema isolation needs PostgreSQL
    form.isolation.choices = [SelectChoice(m, m.title()) for m in modes]
    return form


@bp.route("/tenants/new", methods=["GET", "POST"])
@requires(perms.CREATE_TENANT)
def tenant_new() -> Response:
    form = _tenant_form()
    if not form.validate_on_submit():
        return render(NEW, "form", form=form, status=422 if form.errors else 200)
    try:
        tenant, raw = svc.create_tenant(
            slug=form.slug.data, name=form.name.data, plan=svc.get_plan(form.plan.data),
            isolation=form.isolation.data, owner_email=form.owner_email.data,
            currency=form.currency.data, trial_days=form.trial_days.data, actor=request_actor(),
            backend=db.engine.dialect.name, main_url=db.engine.url.render_as_string(hide_password=False))
    except ServiceError as exc:
        db.session.rollback()
        getattr(form, exc.field or "", form.slug).errors.append(exc.message)  # type: ignore[union-attr]
        return render(NEW, "form", form=form, status=422)
    db.session.commit()
    session[owner_link_key(tenant.id)] = url_for("portal.set_password", tenant_slug=tenant.slug,
                                                 token=raw, _external=True)
    provision_in_background(tenant.id, tenant.slug)
    return htmx_redirect(url_for("admin.tenant_provisioning", slug=tenant.slug), full_page=True)


@bp.get("/tenants/slug-check")
@requires(perms.CREATE_TENANT)
def slug_check() -> Response:
    slug = (request.args.get("slug") or "").strip().lower()
    return render("admin/tenants/_slug_check.html", slug=slug[:40], problem=svc.slug_problem(slug))


@bp.get("/tenants/<slug>/provisioning")
@requires(perms.READ)
def tenant_provisioning(slug: str) -> Response:
    tenant = svc.get_tenant(slug)
    finished = tenant.status != TenantStatus.PROVISIONING.value
    # Polls get the steps alone, and 286 (htmx: stop polling) once the pipeline has ended.
    fragment = wants_fragment()
    link = None if fragment else session.pop(owner_link_key(tenant.id), None)
    return render(PROVISIONING, "steps", status=286 if finished and fragment else 200, t=tenant,
                  steps=steps_of(tenant.id), finished=finished, owner_link=link,
                  action_form=ActionForm())
