"""The custom-domains card of a tenant's page: add, verify (DNS TXT), remove.

Every action answers htmx with the card itself (the card's root is the target), and a plain form
post with a redirect back to the tenant's page (or that page with the reason, when refused).
"""
from __future__ import annotations

import uuid
from typing import Any, Callable

from flask import Response, current_app, flash, redirect, url_for

from admin import bp, requires
from admin.domain_forms import DomainForm
from admin.forms import ActionForm
from extensions import db
from models.control import CustomDomain, Tenant
from services import domains
from services import staff as perms
from services import tenants as tenant_svc
from services.errors import ServiceError, ValidationFailed
from web.actors import request_actor
from web.rendering import render, wants_fragment

CARD = "admin/tenants/_domains.html"


def domain_card(tenant: Tenant, form: DomainForm | None = None, error: str | None = None,
                notice: str | None = None) -> dict[str, Any]:
    """What the card needs besides the tenant (`t`), for the tenant page and for the card alone."""
    return {"domains": domains.entries_of(tenant.id), "domain_form": form or DomainForm(formdata=None),
            "domain_error": error, "domain_notice": notice}


def _respond(tenant: Tenant, notice: str | None = None, status: int = 200, error: str | None = None,
             form: DomainForm | None = None) -> Response:
    if wants_fragment():
        return render(CARD, status=status, t=tenant, **domain_card(tenant, form, error, notice))
    if status >= 400:
        from admin.tenant_detail import _page  # the full tenant page, with the reason
        return _page(tenant, status, error, **({"domain_form": form} if form else {}))
    flash(notice or "Saved.", "success")
    return redirect(url_for("admin.tenant_detail", slug=tenant.slug, _anchor="domains"), 303)  # type: ignore[return-value]


def _act(slug: str, domain_id: uuid.UUID, change: Callable[[CustomDomain], str]) -> Response:
    tenant = tenant_svc.get_tenant(slug)
    row = domains.get_domain(tenant, domain_id)
    try:
        if not ActionForm().validate_on_submit():
            raise ValidationFailed("The form expired; reload the page and try again.")
        notice = change(row)
    except ServiceError as exc:
        db.session.rollback()
        return _respond(tenant_svc.get_tenant(slug), status=exc.status, error=exc.message)
    db.session.commit()
    return _respond(tenant, notice)


@bp.post("/tenants/<slug>/domains")
@requires(perms.MANAGE_TENANTS)
def tenant_domain_add(slug: str) -> Response:
    tenant = tenant_svc.get_tenant(slug)
    form = DomainForm()
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(" ".join(form.domain.errors) or "The form expired; try again.", "domain")
        row = domains.add_domain(tenant, form.domain.data, current_app.config["TENANTRY_BASE_DOMAIN"],
                                 request_actor())
    except ServiceError as exc:
        db.session.rollback()
        form.domain.errors = [exc.message]
        return _respond(tenant_svc.get_tenant(slug), status=exc.status, form=form)
    db.session.commit()
    return _respond(tenant, f"{row.domain} added. Create its TXT record, then verify it.")


@bp.post("/tenants/<slug>/domains/<uuid:domain_id>/verify")
@requires(perms.MANAGE_TENANTS)
def tenant_domain_verify(slug: str, domain_id: uuid.UUID) -> Response:
    def verify(row: CustomDomain) -> str:
        domains.verify_domain(row, request_actor(), current_app.config["DNS_RESOLVER"],
                              current_app.config["DNS_TIMEOUT_SECONDS"])
        return f"{row.domain} is verified: it now opens the tenant's portal."
    return _act(slug, domain_id, verify)


@bp.post("/tenants/<slug>/domains/<uuid:domain_id>/remove")
@requires(perms.MANAGE_TENANTS)
def tenant_domain_remove(slug: str, domain_id: uuid.UUID) -> Response:
    def remove(row: CustomDomain) -> str:
        domains.remove_domain(row, request_actor())
        return f"{row.domain} removed; it no longer reaches the tenant."
    return _act(slug, domain_id, remove)
