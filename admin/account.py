"""The signed-in staff member's own security settings: two-factor sign-in."""
from __future__ import annotations

from flask import Response, flash, g, redirect, session, url_for

from admin import bp
from admin.forms import CodeForm
from extensions import db
from services import totp
from services.errors import ValidationFailed
from web.actors import request_actor
from web.rendering import render

TEMPLATE = "admin/account/security.html"


@bp.get("/account/security")
def account_security() -> Response:
    return render(TEMPLATE, form=CodeForm(), enrolling=None, recovery_codes=None)


@bp.post("/account/security/enrol")
def account_2fa_start() -> Response:
    secret = totp.new_secret()
    session["enrol_totp"] = secret  # inside the signed session until a code proves the app has it
    return render(TEMPLATE, form=CodeForm(), recovery_codes=None,
                  enrolling={"secret": secret, "qr": totp.qr_data_uri(secret, g.staff.email)})


@bp.post("/account/security/confirm")
def account_2fa_confirm() -> Response:
    form = CodeForm()
    secret = session.get("enrol_totp")
    if not secret:
        return redirect(url_for("admin.account_security"), 303)  # type: ignore[return-value]
    try:
        codes = totp.enable(g.staff, secret, form.code.data or "", request_actor())
    except ValidationFailed as exc:
        form.code.errors = [exc.message]
        return render(TEMPLATE, form=form, recovery_codes=None, status=422,
                      enrolling={"secret": secret, "qr": totp.qr_data_uri(secret, g.staff.email)})
    db.session.commit()
    session.pop("enrol_totp", None)
    return render(TEMPLATE, form=CodeForm(), enrolling=None, recovery_codes=codes)


@bp.post("/account/security/disable")
def account_2fa_disable() -> Response:
    form = CodeForm()
    try:
        totp.disable(g.staff, form.code.data or "", request_actor())
    except ValidationFailed as exc:
        form.code.errors = [exc.message]
        return render(TEMPLATE, form=form, enrolling=None, recovery_codes=None, status=422)
    db.session.commit()
    flash("Two-factor sign-in is off. Sign in again.", "success")
    return redirect(url_for("admin.login"), 303)  # type: ignore[return-value]
