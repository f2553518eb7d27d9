"""The team page (flag `team_members`): owners invite people, change roles, re-issue set-password
links and remove members. Staff get 403 on every route; another tenant's member ids are 404.

A new link is shown once: it is kept in the signed session only until the team page shows it
(the database stores its hash alone), the way the console shows a new tenant owner's link.
"""
from __future__ import annotations

import uuid
from typing import Any

from flask import Response, abort, flash, g, session, url_for

from extensions import db
from models.control import utcnow
from models.tenant import TenantUser
from services import audit, tenant_users
from services.errors import NotFound, ServiceError
from services.usage import refresh_usage
from tenant_portal import bp
from tenant_portal.forms import InviteForm, RoleForm
from tenancy.context import tenant_db
from web.actors import request_actor
from web.features import require_feature
from web.rendering import htmx_redirect, render

TEAM = "tenant_portal/team/index.html"


def _owners_only() -> None:
    require_feature("team_members")
    if not g.user.is_owner:
        abort(403, description="Only the account's owners can manage the team.")


def _link_key() -> str:
    return f"team_link:{g.tenant.id}"


def _page(status: int = 200, form: InviteForm | None = None, error: str | None = None,
          link: dict[str, str] | None = None) -> Response:
    members = tenant_users.team_members(tenant_db())
    owners = [m.id for m in members if m.is_active and m.is_owner and m.password_hash]
    return render(TEAM, status=status, members=members, form=form or InviteForm(formdata=None),
                  in_use=sum(1 for m in members if m.is_active), plan=g.tenant.plan, error=error,
                  link=link, now=utcnow(), sole_owner=owners[0] if len(owners) == 1 else None)


def _member_or_404(user_id: uuid.UUID) -> TenantUser:
    try:
        return tenant_users.get_user(tenant_db(), user_id)
    except NotFound:
        abort(404)


def _recorded(action: str, member: TenantUser, **change: Any) -> None:
    """After the tenant's commit: the audit event, usage and owner contact on the control plane."""
    tenant = g.tenant
    audit.record(action, request_actor(), tenant_id=tenant.id, target_type="tenant_user",
                 target_id=member.id, target_label=member.email, **change)
    contact_before = tenant.owner_email
    if tenant_users.keep_owner_contact(tenant_db(), tenant):
        audit.record("tenant.owner_contact", request_actor(), tenant_id=tenant.id, target_type="tenant",
                     target_id=tenant.id, target_label=tenant.slug,
                     before={"owner_email": contact_before}, after={"owner_email": tenant.owner_email})
    refresh_usage(tenant, tenant_db())
    db.session.commit()


def _show_link_once(member: TenantUser, raw: str, invited: bool) -> None:
    session[_link_key()] = {"email": member.email, "invited": invited,
                            "url": url_for("portal.set_password", token=raw, _external=True)}


@bp.get("/team")
def team() -> Response:
    _owners_only()
    return _page(link=session.pop(_link_key(), None))


@bp.post("/team/invite")
def team_invite() -> Response:
    _owners_only()
    form = InviteForm()
    if not form.validate_on_submit():
        return _page(422, form=form)
    try:
        member, raw = tenant_users.invite_user(tenant_db(), g.tenant, form.email.data or "",
                                               form.role.data or "", form.name.data or "")
    except ServiceError as exc:
        tenant_db().rollback()
        field = getattr(form, exc.field or "", None)
        (field.errors if field is not None else form.form_errors).append(exc.message)  # type: ignore[union-attr]
        return _page(exc.status, form=form)
    tenant_db().commit()
    _recorded("tenant_user.invite", member, after={"role": member.role, "name": member.name})
    _show_link_once(member, raw, invited=True)
    return htmx_redirect(url_for("portal.team", _anchor="link-card"))


@bp.post("/team/<uuid:user_id>/role")
def team_role(user_id: uuid.UUID) -> Response:
    _owners_only()
    member, form = _member_or_404(user_id), RoleForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("Choose owner or staff.")
        before = tenant_users.change_role(tenant_db(), member, form.role.data or "")
    except ServiceError as exc:
        tenant_db().rollback()
        return _page(exc.status, error=exc.message)
    tenant_db().commit()
    _recorded("tenant_user.role", member, before={"role": before}, after={"role": member.role})
    flash(f"{member.email} is now {'an owner' if member.is_owner else 'staff'}.", "success")
    if member.id == g.user.id and not member.is_owner:  # they just gave the team page away
        return htmx_redirect(url_for("portal.home"))
    return htmx_redirect(url_for("portal.team"))


@bp.post("/team/<uuid:user_id>/link")
def team_link(user_id: uuid.UUID) -> Response:
    _owners_only()
    member = _member_or_404(user_id)
    try:
        raw = tenant_users.new_link(member)
    except ServiceError as exc:
        return _page(exc.status, error=exc.message)
    tenant_db().commit()
    _recorded("tenant_user.reissue_link", member)
    _show_link_once(member, raw, invited=member.password_hash is None)
    return htmx_redirect(url_for("portal.team", _anchor="link-card"))


@bp.post("/team/<uuid:user_id>/remove")
def team_remove(user_id: uuid.UUID) -> Response:
    _owners_only()
    member = _member_or_404(user_id)
    try:
        tenant_users.remove_member(tenant_db(), member)
    except ServiceError as exc:
        tenant_db().rollback()
        return _page(exc.status, error=exc.message)
    tenant_db().commit()
    _recorded("tenant_user.remove", member, before={"role": member.role, "active": True},
              after={"active": False})
    flash(f"{member.email} was removed from the team and signed out.", "success")
    return htmx_redirect(url_for("portal.team"))
