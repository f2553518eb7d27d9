"""Staff management (owners only): list, invite, change role, disable/enable, set-password links;
and the invited member's own set-password page (public: the signed link is the credential)."""
from __future__ import annotations

import uuid
from typing import Any, Callable

from flask import Response, current_app, flash, g, redirect, session, url_for

from admin import bp, requires
from admin.auth import _complete_sign_in as complete_sign_in
from admin.forms import ActionForm
from admin.staff_forms import InviteForm, RoleForm
from extensions import db
from models.control import VendorStaff
from services import audit
from services import staff as svc
from services.errors import ServiceError, ValidationFailed
from web.actors import request_actor
from web.auth import client_address
from web.errors import error_response
from web.forms import SetPasswordForm
from web.rendering import render

LINK_KEY = "staff_link"  # the link just issued, shown once on the member's page, then dropped


def _remember_link(member: VendorStaff) -> None:
    token = svc.set_password_token(member, current_app.config["SECRET_KEY"])
    session[LINK_KEY] = {"id": str(member.id),
                         "url": url_for("admin.staff_set_password", token=token, _external=True)}


@bp.get("/staff")
@requires(svc.MANAGE_STAFF)
def staff_index() -> Response:
    return render("admin/staff/index.html", members=svc.list_staff())


@bp.route("/staff/new", methods=["GET", "POST"])
@requires(svc.MANAGE_STAFF)
def staff_new() -> Response:
    form = InviteForm()
    if form.validate_on_submit():
        try:
            member = svc.create_staff(form.email.data, form.role.data, None,
                                      current_app.config["BCRYPT_ROUNDS"], request_actor(), form.name.data or "")
        except ValidationFailed as exc:
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            db.session.commit()
            _remember_link(member)
            flash(f"{member.email} is invited as {member.role}.", "success")
            return redirect(url_for("admin.staff_detail", staff_id=member.id), 303)  # type: ignore[return-value]
    return render("admin/staff/new.html", form=form, link_days=svc.LINK_DAYS,
                  status=422 if form.errors else 200)


def _page(member: VendorStaff, status: int = 200, error: str | None = None,
          role_form: RoleForm | None = None) -> Response:
    issued = session.pop(LINK_KEY, None)
    link = issued["url"] if issued and issued.get("id") == str(member.id) else None
    return render("admin/staff/detail.html", status=status, member=member, error=error, link=link,
                  role_form=role_form or RoleForm(role=member.role), action_form=ActionForm(),
                  is_self=member.id == g.staff.id, link_days=svc.LINK_DAYS)


@bp.get("/staff/<uuid:staff_id>")
@requires(svc.MANAGE_STAFF)
def staff_detail(staff_id: uuid.UUID) -> Response:
    return _page(svc.get_staff(staff_id))


def _act(staff_id: uuid.UUID, change: Callable[[VendorStaff], str], form: Any) -> Response:
    """Validate the form → change → commit with its audit event → back to the member's page with a
    flash. A refusal re-renders the page with the reason, and nothing is written."""
    member = svc.get_staff(staff_id)
    try:
        if not form.validate_on_submit():
            raise ValidationFailed(" ".join(e for errors in form.errors.values() for e in errors)
                                   or "The form expired; try again.")
        message = change(member)
    except ServiceError as exc:
        db.session.rollback()
        return _page(svc.get_staff(staff_id), exc.status, exc.message,
                     form if isinstance(form, RoleForm) else None)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("admin.staff_detail", staff_id=staff_id), 303)  # type: ignore[return-value]


@bp.post("/staff/<uuid:staff_id>/role")
@requires(svc.MANAGE_STAFF)
def staff_role(staff_id: uuid.UUID) -> Response:
    form = RoleForm()

    def change(member: VendorStaff) -> str:
        svc.change_role(member, form.role.data, request_actor())
        return f"{member.email} is now {member.role}."
    return _act(staff_id, change, form)


@bp.post("/staff/<uuid:staff_id>/disable")
@requires(svc.MANAGE_STAFF)
def staff_disable(staff_id: uuid.UUID) -> Response:
    def disable(member: VendorStaff) -> str:
        svc.disable_staff(member, request_actor())
        return f"{member.email} is disabled and signed out everywhere."
    return _act(staff_id, disable, ActionForm())


@bp.post("/staff/<uuid:staff_id>/enable")
@requires(svc.MANAGE_STAFF)
def staff_enable(staff_id: uuid.UUID) -> Response:
    def enable(member: VendorStaff) -> str:
        svc.enable_staff(member, request_actor())
        return f"{member.email} can sign in again."
    return _act(staff_id, enable, ActionForm())


@bp.post("/staff/<uuid:staff_id>/link")
@requires(svc.MANAGE_STAFF)
def staff_link(staff_id: uuid.UUID) -> Response:
    def reissue(member: VendorStaff) -> str:
        svc.reissue_link(member, current_app.config["SECRET_KEY"], request_actor())
        _remember_link(member)
        return f"New set-password link for {member.email}; earlier links no longer work."
    return _act(staff_id, reissue, ActionForm())


@bp.route("/set-password/<token>", methods=["GET", "POST"])
def staff_set_password(token: str) -> Response:
    member = svc.staff_for_token(token, current_app.config["SECRET_KEY"])
    if member is None:
        return error_response(404, "This link has expired, was already used, or was replaced by a newer "
                                   "one. Ask an owner of the console for a new link.", "Link not valid",
                              home_url=url_for("admin.login"))
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            svc.set_password(member, form.password.data, current_app.config["BCRYPT_ROUNDS"],
                             audit.Actor("staff", str(member.id), member.email, client_address()))
        except ValidationFailed as exc:
            form.password.errors.append(exc.message)
        else:
            if not member.totp_secret:
                return complete_sign_in(member, url_for("admin.index"))  # commits
            db.session.commit()  # a link replaces the password, never the second factor
            flash("Password set. Sign in with it and a code from your authenticator app.", "success")
            return redirect(url_for("admin.login"), 303)  # type: ignore[return-value]
    return render("admin/staff/set_password.html", form=form, member=member,
                  status=422 if form.errors else 200)
