"""Staff sign-in and sign-out."""
from __future__ import annotations

import time
import uuid

from flask import Response, redirect, request, session, url_for

from admin import bp
from admin.forms import CodeForm, SignInForm
from extensions import db
from models.control import VendorStaff, utcnow
from services import audit, ratelimit
from services.passwords import verify_password
from services.staff import find_staff
from services.totp import verify_second_factor
from web.actors import request_actor
from web.auth import STAFF, client_address, sign_in, sign_out
from web.navigation import safe_next
from web.rendering import render

TEMPLATE = "admin/auth/login.html"
PENDING_SECONDS = 300  # the second step must follow the password within five minutes


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
    if staff.totp_secret:
        # Password proven; the second factor comes next. Nothing is signed in until it does.
        session["pending_2fa"] = {"id": str(staff.id), "at": int(time.time()),
                                  "next": safe_next(form.next.data, url_for("admin.index"))}
        return redirect(url_for("admin.login_verify"), 303)  # type: ignore[return-value]
    return _complete_sign_in(staff, safe_next(form.next.data, url_for("admin.index")))


def _complete_sign_in(staff: VendorStaff, next_url: str) -> Response:
    sign_in(STAFF, staff)
    staff.last_login_at = utcnow()
    audit.record("staff.sign_in", audit.Actor("staff", str(staff.id), staff.email, client_address()),
                 target_type="staff", target_id=staff.id, target_label=staff.email)
    db.session.commit()
    return redirect(next_url, 303)  # type: ignore[return-value]


@bp.route("/login/verify", methods=["GET", "POST"])
def login_verify() -> Response:
    """The second step of sign-in for staff with two-factor on: a code from their app."""
    pending = session.get("pending_2fa") or {}
    staff_id = _uuid(pending.get("id"))
    staff = db.session.get(VendorStaff, staff_id) if staff_id else None
    if staff is None or not staff.is_active or int(time.time()) - pending.get("at", 0) > PENDING_SECONDS:
        session.pop("pending_2fa", None)
        return redirect(url_for("admin.login"), 303)  # type: ignore[return-value]
    form = CodeForm()
    template = "admin/auth/verify.html"
    if not form.validate_on_submit():
        return render(template, form=form, status=422 if form.errors else 200)
    keys = [f"login:staff:{staff.email}", f"login:staff-ip:{client_address()}"]
    if ratelimit.over_limit(keys):
        form.form_errors.append("Too many sign-in attempts. Wait a few minutes and try again.")
        return render(template, form=form, status=429)
    if not verify_second_factor(staff, form.code.data):
        ratelimit.record_failure(keys)
        form.code.errors.append("That code is not right. Use the newest code, or a recovery code.")
        return render(template, form=form, status=422)
    session.pop("pending_2fa", None)
    return _complete_sign_in(staff, pending.get("next") or url_for("admin.index"))


def _uuid(raw: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        return None


@bp.post("/logout")
def logout() -> Response:
    audit.record("staff.sign_out", request_actor(), target_type="staff")
    db.session.commit()
    sign_out(STAFF)
    return redirect(url_for("admin.login"), 303)  # type: ignore[return-value]
