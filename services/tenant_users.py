"""Users of one tenant: invitations by one-time link, passwords, team changes."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.control import Tenant, utcnow
from models.tenant import TenantRole, TenantUser
from services.errors import Conflict, LimitReached, NotFound, ValidationFailed
from services.passwords import hash_password
from services.tenants import normalise_email
from services.text import refuse_control_characters
from services.tokens import new_token, token_hash

INVITE_DAYS = 7
ROLES = (TenantRole.OWNER.value, TenantRole.STAFF.value)
LAST_OWNER = ("{email} is the last owner who can sign in. Make another member an owner (one who "
              "has set their password) first.")


def get_user(session: Session, user_id: Any) -> TenantUser:
    try:
        uid = user_id if isinstance(user_id, uuid.UUID) else uuid.UUID(str(user_id))
    except ValueError:
        raise NotFound("No such user.") from None
    user = session.execute(select(TenantUser).where(TenantUser.id == uid)).scalar_one_or_none()
    if user is None:
        raise NotFound("No such user.")
    return user


def find_by_email(session: Session, email: str) -> TenantUser | None:
    return session.execute(select(TenantUser).where(
        TenantUser.email == (email or "").strip().lower())).scalar_one_or_none()


def count_users(session: Session) -> int:
    return int(session.execute(select(func.count(TenantUser.id))
                               .where(TenantUser.is_active.is_(True))).scalar_one())


def team_members(session: Session) -> list[TenantUser]:
    """Everyone on the team: current members first (owners, then staff, oldest first), then the
    removed ones, who keep their row (for the audit trail, and to be invited back)."""
    return list(session.execute(select(TenantUser).order_by(
        TenantUser.is_active.desc(), case((TenantUser.role == TenantRole.OWNER.value, 0), else_=1),
        TenantUser.created_at, TenantUser.id)).scalars())


def _lock_team(session: Session) -> None:
    """Serialise team changes of this tenant until commit. On PostgreSQL this locks the current
    members' rows: a concurrent invite or role change waits here, then counts what the first one
    committed (READ COMMITTED: each statement sees the latest commits), so the user limit and the
    last-owner rule hold under races; the rows are re-read, never judged on a stale copy.
    SQLite ignores FOR UPDATE (it admits one writer at a time)."""
    session.execute(select(TenantUser).where(TenantUser.is_active.is_(True))
                    .with_for_update().execution_options(populate_existing=True)).all()


def _clean_name(name: str | None) -> str:
    refuse_control_characters(name, "name", "name")
    name = re.sub(r"\s+", " ", name or "").strip()
    if len(name) > 120:
        raise ValidationFailed("Names can be at most 120 characters.", "name")
    return name


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValidationFailed("Role must be owner or staff.", "role")


def invite_user(session: Session, tenant: Tenant, email: str, role: str, name: str = "",
                ) -> tuple[TenantUser, str]:
    """Create a user with no password and a one-time set-password token (returned raw, once).

    A removed member's email brings them back with a fresh start: the new role, no password
    until they follow the new link. Refused over the plan's `max_users` (active users)."""
    email = normalise_email(email)
    name = _clean_name(name)
    _check_role(role)
    _lock_team(session)
    user = find_by_email(session, email)
    if user is not None and user.is_active:
        raise ValidationFailed(f"{email} is already on the team.", "email")
    limit = tenant.plan.max_users
    if limit is not None and count_users(session) >= limit:
        raise LimitReached(f"Your plan allows {limit} users and all are in use; remove someone "
                           "or upgrade the plan to invite more.")
    raw, hashed = new_token()
    if user is None:
        user = TenantUser(tenant_id=tenant.id, email=email, role=role, name=name)
        session.add(user)
    else:
        user.role, user.name, user.is_active = role, name or user.name, True
        user.password_hash = None
        user.auth_version += 1
    user.set_password_token_hash = hashed
    user.set_password_expires_at = utcnow() + dt.timedelta(days=INVITE_DAYS)
    try:
        session.flush()
    except IntegrityError:  # the same email invited concurrently, between check and insert
        session.rollback()
        raise ValidationFailed(f"{email} is already on the team.", "email") from None
    return user, raw


def _owners_who_can_sign_in(session: Session, other_than: TenantUser) -> int:
    return int(session.execute(select(func.count(TenantUser.id)).where(
        TenantUser.is_active.is_(True), TenantUser.role == TenantRole.OWNER.value,
        TenantUser.password_hash.is_not(None), TenantUser.id != other_than.id)).scalar_one())


def change_role(session: Session, user: TenantUser, role: str) -> str:
    """Make `user` an owner or staff; returns the role before. The last owner who can sign in
    stays an owner (Conflict)."""
    _check_role(role)
    if not user.is_active:
        raise ValidationFailed(f"{user.email} was removed; invite them again instead.", "role")
    _lock_team(session)
    before = user.role
    if before == TenantRole.OWNER.value and role != before and not _owners_who_can_sign_in(session, user):
        raise Conflict(LAST_OWNER.format(email=user.email), "role")
    user.role = role
    return before


def remove_member(session: Session, user: TenantUser) -> None:
    """Take `user` off the team: they cannot sign in, their sessions end at their next request
    (auth_version), their link stops working. The last owner who can sign in stays."""
    if not user.is_active:
        raise ValidationFailed(f"{user.email} is not on the team any more.")
    _lock_team(session)
    if user.is_owner and not _owners_who_can_sign_in(session, user):
        raise Conflict(LAST_OWNER.format(email=user.email))
    user.is_active = False
    user.auth_version += 1
    user.set_password_token_hash = None
    user.set_password_expires_at = None


def new_link(user: TenantUser) -> str:
    """A fresh one-time set-password link for a member (the previous one stops working)."""
    if not user.is_active:
        raise ValidationFailed(f"{user.email} is not on the team any more; invite them again.")
    return reissue_link(user)


def keep_owner_contact(session: Session, tenant: Tenant) -> str | None:
    """Keep the control plane's `owner_email` (the vendor's contact, and whose link the console
    re-issues) naming a current owner: when that person is removed or made staff, the longest-
    serving owner who can sign in takes over. Returns the new email when it changed."""
    contact = find_by_email(session, tenant.owner_email)
    if contact is not None and contact.is_active and contact.is_owner:
        return None
    successor = session.execute(select(TenantUser.email).where(
        TenantUser.is_active.is_(True), TenantUser.role == TenantRole.OWNER.value).order_by(
        TenantUser.password_hash.is_(None), TenantUser.created_at, TenantUser.id).limit(1)).scalar()
    if successor is None or successor == tenant.owner_email:
        return None
    tenant.owner_email = successor
    return successor


def reissue_link(user: TenantUser) -> str:
    raw, hashed = new_token()
    user.set_password_token_hash = hashed
    user.set_password_expires_at = utcnow() + dt.timedelta(days=INVITE_DAYS)
    return raw


def user_for_token(session: Session, raw: str) -> TenantUser | None:
    if not raw or len(raw) > 200:
        return None
    user = session.execute(select(TenantUser).where(
        TenantUser.set_password_token_hash == token_hash(raw))).scalar_one_or_none()
    if user is None or not user.is_active or user.set_password_expires_at is None \
            or user.set_password_expires_at < utcnow():
        return None
    return user


def set_password(user: TenantUser, password: str, rounds: int) -> None:
    """Set the password and end every other session of the user."""
    user.password_hash = hash_password(password, rounds)
    user.set_password_token_hash = None
    user.set_password_expires_at = None
    user.auth_version += 1
