"""Users of one tenant: invitations by one-time link, passwords, team changes."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.control import Tenant, utcnow
from models.tenant import TenantRole, TenantUser
from services.errors import LimitReached, NotFound, ValidationFailed
from services.passwords import hash_password
from services.tenants import normalise_email
from services.tokens import new_token, token_hash

INVITE_DAYS = 7


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


def invite_user(session: Session, tenant: Tenant, email: str, role: str, name: str = "",
                ) -> tuple[TenantUser, str]:
    """Create a user with no password and a one-time set-password token (returned raw, once)."""
    email = normalise_email(email)
    if role not in (TenantRole.OWNER.value, TenantRole.STAFF.value):
        raise ValidationFailed("Role must be owner or staff.", "role")
    if find_by_email(session, email) is not None:
        raise ValidationFailed(f"{email} is already on the team.", "email")
    limit = tenant.plan.max_users
    if limit is not None and count_users(session) >= limit:
        raise LimitReached(f"Your plan allows {limit} users; upgrade to invite more.")
    raw, hashed = new_token()
    user = TenantUser(tenant_id=tenant.id, email=email, role=role, name=name.strip()[:120],
                      set_password_token_hash=hashed,
                      set_password_expires_at=utcnow() + dt.timedelta(days=INVITE_DAYS))
    session.add(user)
    session.flush()
    return user, raw


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
