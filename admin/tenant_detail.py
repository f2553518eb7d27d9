"""One tenant in the vendor console: overview, subscription, usage, health, provisioning, audit
timeline, and the actions staff take on it (each a POST form, each audited)."""
from __future__ import annotations

from typing import Any, Callable

from flask import Response, flash, session, url_for
from wtforms.fields.choices import SelectChoice

from admin import bp, requires
from admin.forms import ActionForm, ChangePlanForm, ExtendTrialForm, SuspendForm
from admin.tenant_create import owner_link_key, provision_in_background
from admin.tenant_domains import domain_card
from extensions import db
from models.control import Tenant
from services import staff as perms
from services import tenants as svc
from services.audit_queries import tenant_timeline
from services.errors import ServiceError, ValidationFailed
from services.flags import evaluate_all
from tenancy.context import get_storage
from tenancy.fleet import check_health
from tenancy.migrations import TENANT, head
from tenancy.provisioning import steps_of
from web.actors import request_actor
from web.rendering import htmx_redirect, render, wants_fragment


DETAIL = "admin/tenants/detail.html"


def _page(tenant: Tenant, status: int = 200, error: str | None = None, **forms: Any) -> Response:
    plans = svc.plans_for_new_tenants()
    change = forms.pop("change_form", None) or ChangePlanForm(plan=tenant.plan.slug)
    change.plan.choices = [SelectChoice(p.slug, p.name) for p in plans]
    return render(DETAIL, status=status, t=tenant, error=error, steps=steps_of(tenant.id),
                  events=tenant_timeline(tenant.id), head_revision=head(TENANT),
                  flags=evaluate_all(tenant),
                  owner_link=None if wants_fragment() else session.pop(owner_link_key(tenant.id), None), **domain_card(tenant, forms.get("domain_form")),
                  suspend_form=forms.get("suspend_form") or SuspendForm(), change_form=change,
                  trial_form=forms.get("trial_form") or ExtendTrialForm(), action_form=ActionForm())


@bp.get("/tenants/<slug>")
@requires(perms.READ)
def tenant_detail(slug: str) -> Response:
    return _page(svc.get_tenant(slug))


def _act(slug: str, change: Callable[[Tenant], str], form: Any = None, form_name: str = "") -> Response:
    """Guarded action shape: validate the form → change → commit with its audit event → back to
    the page with a flash. A refusal re-renders the page with the reason (and the status)."""
    tenant = svc.get_tenant(slug)
    try:
        if form is not None and not form.validate_on_submit():
            raise ValidationFailed(" ".join(e for errors in form.errors.values() for e in errors))
        message = change(tenant)
    except ServiceError as exc:
        db.session.rollback()
        return _page(svc.get_tenant(slug), exc.status, exc.message, **({form_name: form} if form_name else {}))
    db.session.commit()
    flash(message, "success")
    return htmx_redirect(url_for("admin.tenant_detail", slug=slug))


@bp.post("/tenants/<slug>/suspend")
@requires(perms.SUSPEND)
def tenant_suspend(slug: str) -> Response:
    form = SuspendForm()

    def suspend(t: Tenant) -> str:
        svc.suspend_tenant(t, form.reason.data, request_actor())
        return f"{t.name} is suspended."
    return _act(slug, suspend, form, "suspend_form")


@bp.post("/tenants/<slug>/resume")
@requires(perms.SUSPEND)
def tenant_resume(slug: str) -> Response:
    def resume(t: Tenant) -> str:
        svc.resume_tenant(t, request_actor())
        return f"{t.name} is resumed."
    return _act(slug, resume, ActionForm())


@bp.post("/tenants/<slug>/plan")
@requires(perms.CHANGE_PLAN)
def tenant_change_plan(slug: str) -> Response:
    form = ChangePlanForm()
    form.plan.choices = [SelectChoice(p.slug, p.name) for p in svc.plans_for_new_tenants()]

    def change(t: Tenant) -> str:
        svc.change_plan(t, svc.get_plan(form.plan.data), request_actor())
        return f"{t.name} is now on {t.plan.name}."
    return _act(slug, change, form, "change_form")


@bp.post("/tenants/<slug>/extend-trial")
@requires(perms.EXTEND_TRIAL)
def tenant_extend_trial(slug: str) -> Response:
    form = ExtendTrialForm()

    def extend(t: Tenant) -> str:
        svc.extend_trial(t, form.days.data, request_actor())
        return f"Trial extended by {form.days.data} days."
    return _act(slug, extend, form, "trial_form")


@bp.post("/tenants/<slug>/churn")
@requires(perms.MANAGE_TENANTS)
def tenant_churn(slug: str) -> Response:
    def churn(t: Tenant) -> str:
        svc.mark_churned(t, request_actor())
        return f"{t.name} is marked churned."
    return _act(slug, churn, ActionForm())


@bp.post("/tenants/<slug>/check-health")
@requires(perms.CHECK_HEALTH)
def tenant_check_health(slug: str) -> Response:
    def check(t: Tenant) -> str:
        health = check_health(get_storage(), t)
        return "Reachable." if health.ok else f"Unreachable: {health.error}"
    return _act(slug, check, ActionForm())


@bp.post("/tenants/<slug>/retry")
@requires(perms.MANAGE_TENANTS)
def tenant_retry(slug: str) -> Response:
    tenant = svc.get_tenant(slug)
    if not ActionForm().validate_on_submit():
        return _page(tenant, 400, "The form expired; try again.")
    try:
        svc.prepare_retry(tenant, request_actor())
    except ServiceError as exc:
        return _page(tenant, exc.status, exc.message)
    db.session.commit()
    provision_in_background(tenant.id, tenant.slug)
    return htmx_redirect(url_for("admin.tenant_provisioning", slug=slug), full_page=True)


@bp.post("/tenants/<slug>/owner-link")
@requires(perms.MANAGE_TENANTS)
def tenant_reissue_link(slug: str) -> Response:
    def reissue(t: Tenant) -> str:
        raw = svc.reissue_owner_link(t, request_actor())
        # Shown once, in a copyable box on the page (a flash would fade away with it).
        session[owner_link_key(t.id)] = url_for("portal.set_password", tenant_slug=t.slug,
                                                token=raw, _external=True)
        return f"A new set-password link for {t.owner_email} is below; earlier links no longer work."
    return _act(slug, reissue, ActionForm())
