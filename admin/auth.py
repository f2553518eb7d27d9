"""Staff sign-in and sign-out."""
from __future__ import annotations

from flask import Response, current_app, redirect, request, url_for

from admin import bp
from admin.forms import SignInForm
from extensions import db
from models.control import utcnow
from services import audit, ratelimit
from services.passwords import verify_password
from services.staff import find_staff
from web.actors import request_actor
from web.auth import STAFF, client_address, sign_in, sign_out
from web.navigation import safe_next
from web.rendering import render

TEMPLATE = "admin/auth/login.html"


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    form = SignInForm(next=request.args.get("next", ""))
    if not form.validate_on_submit():
        return render(TEMPLATE, form=form, status=422 if form.errors else 200)
    email = form.email.data.strip().lower()
    keys = [f"login:staff:{email}", f"login:staff-ip:{client_address()}"]
    if ratelimit.over_limit(keys):
        form.form_errors.append("Too many sign-in attempts. Wait a few minutes and try again.")
        return render(TEMPLATE, form=form, status=429)
    staff = find_staff(email)
    if staff is None or not staff.is_active or not verify_password(form.password.data, staff.password_hash):
        ratelimit.record_failure(keys)
        form.form_errors.append("That email and password do not match an active staff account.")
        return render(TEMPLATE, form=form, status=422)
    sign_in(STAFF, staff)
    staff.last_login_at = utcnow()
    audit.record("staff.sign_in", audit.Actor("staff", str(staff.id), staff.email, client_address()),
                 target_type="staff", target_id=staff.id, target_label=staff.email)
    db.session.commit()
    return redirect(safe_next(form.next.data, url_for("admin.index")), 303)  # type: ignore[return-value]


@bp.post("/logout")
def logout() -> Response:
    audit.record("staff.sign_out", request_actor(), target_type="staff")
    db.session.commit()
    sign_out(STAFF)
    return redirect(url_for("admin.login"), 303)  # type: ignore[return-value]
