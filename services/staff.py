"""Vendor staff accounts."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models.control import VendorStaff
from services import audit
from services.errors import ValidationFailed
from services.passwords import hash_password
from services.tenants import normalise_email

STAFF_ROLES = ("owner", "admin", "support", "viewer")


def find_staff(email: str) -> VendorStaff | None:
    return db.session.execute(select(VendorStaff).where(
        VendorStaff.email == (email or "").strip().lower())).scalar_one_or_none()


def create_staff(email: str, role: str, password: str | None, rounds: int, actor: audit.Actor,
                 name: str = "") -> VendorStaff:
    email = normalise_email(email)
    if role not in STAFF_ROLES:
        raise ValidationFailed(f"Role must be one of {', '.join(STAFF_ROLES)}.", "role")
    if find_staff(email) is not None:
        raise ValidationFailed(f"{email} is already a staff member.", "email")
    staff = VendorStaff(email=email, role=role, name=name.strip()[:120],
                        password_hash=hash_password(password, rounds) if password else None)
    db.session.add(staff)
    db.session.flush()
    audit.record("staff.create", actor, target_type="staff", target_id=staff.id,
                 target_label=email, after={"email": email, "role": role})
    return staff


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
