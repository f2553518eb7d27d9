"""Sign-in, sign-out and the one-time set-password link of a tenant's users."""
from __future__ import annotations

from flask import Response, current_app, g, redirect, request, url_for

from extensions import db
from models.control import utcnow
from services import audit, ratelimit, tenant_users
from services.errors import ValidationFailed
from services.passwords import verify_password
from tenant_portal import bp
from tenant_portal.forms import SignInForm
from tenancy.context import tenant_db
from web.auth import client_address, sign_in, sign_out, tenant_key
from web.errors import error_response
from web.forms import SetPasswordForm
from web.navigation import safe_next
from web.rendering import render


def _actor(user: object) -> audit.Actor:
    return audit.Actor("tenant_user", str(user.id), user.email, client_address())  # type: ignore[attr-defined]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = SignInForm(next=request.args.get("next", ""))
    template = "tenant_portal/auth/login.html"
    if not form.validate_on_submit():
        return render(template, form=form, status=422 if form.errors else 200)
    email = form.email.data.strip().lower()
    keys = [f"login:tenant:{g.tenant.id}:{email}", f"login:tenant-ip:{client_address()}"]
    if ratelimit.over_limit(keys):
        form.form_errors.append("Too many sign-in attempts. Wait a few minutes and try again.")
        return render(template, form=form, status=429)
    user = tenant_users.find_by_email(tenant_db(), email)
    if user is None or not user.is_active or not verify_password(form.password.data, user.password_hash):
        ratelimit.record_failure(keys)
        form.form_errors.append("That email and password do not match an account here.")
        return render(template, form=form, status=422)
    sign_in(tenant_key(g.tenant.id), user, g.tenant.session_version)
    user.last_login_at = utcnow()
    tenant_db().commit()
    g.tenant.last_active_at = utcnow()
    audit.record("tenant_user.sign_in", _actor(user), tenant_id=g.tenant.id,
                 target_type="tenant_user", target_id=user.id, target_label=user.email)
    db.session.commit()
    return redirect(safe_next(form.next.data, url_for("portal.home")), 303)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    sign_out(tenant_key(g.tenant.id))
    return redirect(url_for("portal.login"), 303)  # type: ignore[return-value]


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Response:
    user = tenant_users.user_for_token(tenant_db(), token)
    if user is None:
        return error_response(404, "This link has expired or was already used. Ask the account "
                                   "owner (or your provider) for a new one.", "Link not valid")
    form = SetPasswordForm()
    template = "tenant_portal/auth/set_password.html"
    if form.validate_on_submit():
        try:
            tenant_users.set_password(user, form.password.data, current_app.config["BCRYPT_ROUNDS"])
        except ValidationFailed as exc:
            form.password.errors.append(exc.message)
        else:
            tenant_db().commit()
            audit.record("tenant_user.set_password", _actor(user), tenant_id=g.tenant.id,
                         target_type="tenant_user", target_id=user.id, target_label=user.email)
            db.session.commit()
            sign_in(tenant_key(g.tenant.id), user, g.tenant.session_version)
            return redirect(url_for("portal.home"), 303)  # type: ignore[return-value]
    return render(template, form=form, user=user, status=422 if form.errors else 200)
