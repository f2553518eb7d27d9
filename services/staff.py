"""Vendor staff accounts: create and invite, roles, disable/enable, one-time set-password links.

A set-password link carries a signed token (SECRET_KEY, no database row) that names the member and
binds their `auth_version` and current password hash: setting a password, disabling the member or
issuing a newer link changes one of them, so every earlier link stops working.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError

from extensions import db
from models.control import VendorStaff
from services import audit
from services.errors import NotFound, ValidationFailed
from services.passwords import hash_password
from services.tenants import normalise_email
from services.text import refuse_control_characters

STAFF_ROLES = ("owner", "admin", "support", "viewer")
LINK_DAYS = 7
_LINK_SALT = "tenantry.staff.set-password"


def find_staff(email: str) -> VendorStaff | None:
    return db.session.execute(select(VendorStaff).where(
        VendorStaff.email == (email or "").strip().lower())).scalar_one_or_none()


def create_staff(email: str, role: str, password: str | None, rounds: int, actor: audit.Actor,
                 name: str = "") -> VendorStaff:
    """A new staff member. Without a password this is an invitation: they choose one through the
    link from `set_password_token` (audited as staff.invite rather than staff.create)."""
    email = normalise_email(email)
    name = (name or "").strip()
    refuse_control_characters(name, "name", "name")
    if len(name) > 120:
        raise ValidationFailed("Names can be at most 120 characters.", "name")
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"Role must be one of {', '.join(STAFF_ROLES)}.", "role")
    if find_staff(email) is not None:
        raise ValidationFailed(f"{email} is already a staff member.", "email")
    staff = VendorStaff(email=email, role=role, name=name,
                        password_hash=hash_password(password, rounds) if password else None)
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent invitation took the email between check and insert
        db.session.rollback()
        raise ValidationFailed(f"{email} is already a staff member.", "email") from None
    audit.record("staff.create" if password else "staff.invite", actor, target_type="staff",
                 target_id=staff.id, target_label=email, after={"email": email, "name": name, "role": role})
    return staff


def list_staff() -> list[VendorStaff]:
    """Everyone, active first, owners before admins before support before viewers."""
    rank = case({r: i for i, r in enumerate(STAFF_ROLES)}, value=VendorStaff.role, else_=len(STAFF_ROLES))
    return list(db.session.execute(select(VendorStaff).order_by(
        VendorStaff.is_active.desc(), rank, VendorStaff.email)).scalars())


def get_staff(staff_id: uuid.UUID) -> VendorStaff:
    member = db.session.get(VendorStaff, staff_id)
    if member is None:
        raise NotFound("No such staff member.")
    return member


def _snapshot(member: VendorStaff) -> dict[str, Any]:
    return {"role": member.role, "active": member.is_active}


def _record(action: str, member: VendorStaff, actor: audit.Actor, before: dict[str, Any] | None) -> None:
    audit.record(action, actor, target_type="staff", target_id=member.id, target_label=member.email,
                 before=before, after=_snapshot(member))


def _keep_an_owner(member: VendorStaff, doing: str) -> None:
    """Refuse a change that would leave no active owner (nobody could manage staff any more).

    The active owners' rows are locked (PostgreSQL) so two owners demoting each other at the same
    moment cannot both pass the check."""
    if member.role != "owner" or not member.is_active:
        return
    owners = db.session.execute(select(VendorStaff.id).where(
        VendorStaff.role == "owner", VendorStaff.is_active.is_(True)).with_for_update()).scalars().all()
    if [i for i in owners if i != member.id]:
        return
    raise ValidationFailed(f"{member.email} is the last active owner; make someone else an owner "
                           f"before you {doing}.", "role")


def change_role(member: VendorStaff, role: str, actor: audit.Actor) -> None:
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"Role must be one of {', '.join(STAFF_ROLES)}.", "role")
    if role == member.role:
        raise ValidationFailed(f"{member.email} is already {role}.", "role")
    before = _snapshot(member)
    if role != "owner":
        _keep_an_owner(member, "change their role")
    member.role = role
    _record("staff.change_role", member, actor, before)


def disable_staff(member: VendorStaff, actor: audit.Actor) -> None:
    """Disabled members cannot sign in; their sessions end at their next request (auth_version)."""
    if not member.is_active:
        raise ValidationFailed(f"{member.email} is already disabled.")
    before = _snapshot(member)
    _keep_an_owner(member, "disable them")
    member.is_active = False
    member.auth_version += 1
    _record("staff.disable", member, actor, before)


def enable_staff(member: VendorStaff, actor: audit.Actor) -> None:
    if member.is_active:
        raise ValidationFailed(f"{member.email} is already active.")
    before = _snapshot(member)
    member.is_active = True
    _record("staff.enable", member, actor, before)


def _password_mark(member: VendorStaff) -> str:
    # A digest of the current hash, not the hash itself: the token's payload is readable.
    return hashlib.sha256((member.password_hash or "").encode()).hexdigest()[:16]


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=_LINK_SALT)


def set_password_token(member: VendorStaff, secret_key: str, now: float | None = None) -> str:
    """A signed token for the member's set-password link, valid LINK_DAYS from `now`."""
    expires = int((time.time() if now is None else now) + LINK_DAYS * 86400)
    return _serializer(secret_key).dumps({"id": str(member.id), "v": member.auth_version,
                                          "p": _password_mark(member), "exp": expires})


def staff_for_token(token: str, secret_key: str) -> VendorStaff | None:
    """The member a link is for, or None when the link is forged, expired, used or superseded, or
    the member is disabled."""
    try:
        payload = _serializer(secret_key).loads(token[:1000])
        member_id = uuid.UUID(str(payload["id"]))
        version, mark, expires = int(payload["v"]), str(payload["p"]), int(payload["exp"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if expires < time.time():
        return None
    member = db.session.get(VendorStaff, member_id)
    if member is None or not member.is_active or member.auth_version != version \
            or _password_mark(member) != mark:
        return None
    return member


def reissue_link(member: VendorStaff, secret_key: str, actor: audit.Actor) -> str:
    """A new set-password link for `member` (returned, never stored). Earlier links stop working,
    and so do the member's sessions: a new link is how a lost or leaked password is replaced."""
    if not member.is_active:
        raise ValidationFailed(f"{member.email} is disabled; enable them first.")
    if actor.id == str(member.id):
        raise ValidationFailed("You cannot issue a link for your own account; ask another owner.")
    member.auth_version += 1
    _record("staff.reissue_link", member, actor, None)
    return set_password_token(member, secret_key)


def set_password(member: VendorStaff, password: str, rounds: int, actor: audit.Actor) -> None:
    """The member chose a password through their link; the link (and any session) stops working."""
    had_one = member.password_hash is not None
    member.password_hash = hash_password(password, rounds)
    member.auth_version += 1
    audit.record("staff.set_password", actor, target_type="staff", target_id=member.id,
                 target_label=member.email, after={"replaced": had_one})


# What each vendor role may do (DESIGN §7). Views guard with admin.requires(permission);
# templates ask staff_can(permission) to hide what the role cannot use.
READ = "read"
SUSPEND = "suspend"                  # suspend and resume
EXTEND_TRIAL = "extend_trial"
CHECK_HEALTH = "check_health"
CHANGE_PLAN = "change_plan"
CREATE_TENANT = "create_tenant"
MANAGE_TENANTS = "manage_tenants"    # mark churned, retry provisioning, re-issue owner link
MANAGE_STAFF = "manage_staff"
MANAGE_PLANS = "manage_plans"      # create, edit, archive plans; plan × flag values
MANAGE_FLAGS = "manage_flags"      # flag registry and per-tenant overrides

_SUPPORT = frozenset({READ, SUSPEND, EXTEND_TRIAL, CHECK_HEALTH})
_ADMIN = _SUPPORT | {CHANGE_PLAN, CREATE_TENANT, MANAGE_TENANTS, MANAGE_PLANS, MANAGE_FLAGS}
PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": _ADMIN | {MANAGE_STAFF},
    "admin": _ADMIN,
    "support": _SUPPORT,
    "viewer": frozenset({READ}),
}


def can(role: str | None, permission: str) -> bool:
    """Whether `role` grants `permission`; unknown roles and permissions grant nothing."""
    return permission in PERMISSIONS.get(role or "", frozenset())
