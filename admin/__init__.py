"""The vendor console, at /admin. Every endpoint needs signed-in staff, except sign-in itself;
every state-changing endpoint also needs a role that grants its permission (`requires`)."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable, TypeVar

from flask import Blueprint, Response, abort, g, request
from flask_login import current_user

from models.control import VendorStaff
from services.staff import can
from web.auth import login_url_for, sign_in_required

bp = Blueprint("admin", __name__, template_folder="../templates")

PUBLIC_ENDPOINTS = {"admin.login", "admin.login_verify", "admin.staff_set_password"}

View = TypeVar("View", bound=Callable[..., Any])


@bp.before_request
def require_staff() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not isinstance(current_user._get_current_object(), VendorStaff):
        return sign_in_required(login_url_for("admin.login"))
    g.staff = current_user._get_current_object()
    return None


def requires(permission: str) -> Callable[[View], View]:
    """Refuse (403 page) staff whose role does not grant `permission`."""
    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff = g.get("staff")
            if staff is None or not can(staff.role, permission):
                role = staff.role if staff is not None else "none"
                abort(403, description=f"Your role ({role}) does not allow this "
                                       f"({permission.replace('_', ' ')}).")
            return view(*args, **kwargs)
        return guarded  # type: ignore[return-value]
    return decorate


@bp.context_processor
def _permissions() -> dict[str, Any]:
    def staff_can(permission: str) -> bool:
        staff = g.get("staff")
        return staff is not None and can(staff.role, permission)
    return {"staff_can": staff_can}


from admin import (account, audit, auth, dashboard, flags, plans, tenant_create,  # noqa: E402,F401
                   tenant_detail, tenants)  # noqa: E402,F401  (routes register on import)
from admin import staff, tenant_domains  # noqa: E402,F401
