"""The vendor console, at /admin. Every endpoint needs signed-in staff, except sign-in itself."""
from __future__ import annotations

from flask import Blueprint, Response, g, request
from flask_login import current_user

from models.control import VendorStaff
from web.auth import login_url_for, sign_in_required

bp = Blueprint("admin", __name__, template_folder="../templates")

PUBLIC_ENDPOINTS = {"admin.login"}


@bp.before_request
def require_staff() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not isinstance(current_user._get_current_object(), VendorStaff):
        return sign_in_required(login_url_for("admin.login"))
    g.staff = current_user._get_current_object()
    return None


from admin import auth, tenants  # noqa: E402,F401  (routes register on import)
