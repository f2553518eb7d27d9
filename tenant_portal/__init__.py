"""A tenant's back-office, at the tenant's own address (see tenancy.resolver for the forms).

The blueprint's `before_request` is the guard every tenant page passes through:
resolve the tenant → refuse if unknown (404), suspended (403), not ready (503) → push the tenant
context → require a user of *this* tenant, except on the sign-in pages.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, request, url_for
from flask_login import current_user

from models.control import TenantStatus, utcnow
from models.tenant import TenantUser
from tenancy.context import open_tenant_context
from tenancy.resolver import Address, load_tenant, request_address
from web.auth import login_url_for, sign_in_required
from web.errors import error_response

bp = Blueprint("portal", __name__)

PUBLIC_ENDPOINTS = {"portal.login", "portal.set_password"}


@bp.url_value_preprocessor
def pull_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.tenant_slug = (values or {}).pop("tenant_slug", None)


@bp.url_defaults
def add_slug(_endpoint: str, values: dict[str, Any]) -> None:
    if "tenant_slug" not in values and g.get("tenant_slug"):
        values["tenant_slug"] = g.tenant_slug


def _status_refusal(tenant: Any) -> Response | None:
    status = tenant.status
    home = url_for("portal.home")  # "Back to home": after a resume it leads straight back in
    if status == TenantStatus.SUSPENDED.value:
        reason = tenant.status_reason or "No reason was given."
        return error_response(403, f"This account is suspended. Reason: {reason} "
                                   "Contact your provider to restore access.",
                              "Account suspended", error="tenant_suspended", home_url=home)
    if status == TenantStatus.TRIAL.value and tenant.trial_ends_at and tenant.trial_ends_at <= utcnow():
        return error_response(403, "This account's trial has ended. Choose a plan with your "
                                   "provider to keep using it.", "Trial ended",
                              error="trial_ended", home_url=home)
    if status in (TenantStatus.PROVISIONING.value, TenantStatus.PROVISIONING_FAILED.value):
        return error_response(503, "This account is being set up. Try again in a moment.",
                              "Not ready yet", error="tenant_not_ready", home_url=home)
    if status == TenantStatus.CHURNED.value:
        return error_response(403, "This account has been closed.", "Account closed",
                              error="tenant_closed", home_url=home)
    if status != TenantStatus.ACTIVE.value and status != TenantStatus.TRIAL.value:
        return error_response(404, "There is no account at this address.", "Not found",
                              error="tenant_not_found")
    return None


@bp.before_request
def enter_tenant() -> Response | None:
    address = request_address() or Address("path", g.tenant_slug or "")
    tenant = load_tenant(address)
    if tenant is None:
        return error_response(404, "There is no account at this address.", "Not found",
                              error="tenant_not_found")
    refusal = _status_refusal(tenant)
    if refusal is not None:
        return refusal
    g.tenant = tenant
    g.tenant_ctx = open_tenant_context(tenant).push()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = current_user._get_current_object()
    if not isinstance(user, TenantUser) or user.tenant_id != tenant.id:
        return sign_in_required(login_url_for("portal.login"))
    g.user = user
    return None


@bp.teardown_request
def leave_tenant(_exc: BaseException | None) -> None:
    ctx = g.pop("tenant_ctx", None)
    if ctx is not None:
        ctx.pop()


from tenant_portal import auth, customers, exports, home, orders, settings, stats, team  # noqa: E402,F401  (routes register on import)
