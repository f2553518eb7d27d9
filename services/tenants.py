"""Tenant lifecycle from the vendor's side: create (reserve), suspend, resume.

Provisioning itself — creating storage, migrating, seeding, activating — is the resumable pipeline
in `tenancy.provisioning`; `create_tenant` only reserves the slug and records the steps to do.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from extensions import db
from models.control import Isolation, Plan, ProvisioningStep, Tenant, TenantStatus, utcnow
from services import audit
from services.errors import NotFound, ServiceError, ValidationFailed
from services.tokens import new_token
from tenancy.resolver import RESERVED_SLUGS, SLUG_RE
from tenancy.storage import database_name, schema_name

PROVISIONING_STEPS = ("reserve", "create_storage", "migrate", "seed_defaults", "create_owner",
                      "activate")
LOCALES = {"IDR": ("id_ID", "Asia/Jakarta"), "MYR": ("ms_MY", "Asia/Kuala_Lumpur"),
           "USD": ("en_US", "America/New_York")}


def normalise_email(raw: str, field: str = "email") -> str:
    try:
        return validate_email((raw or "").strip(), check_deliverability=False,
                              test_environment=True).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed(f"Enter a valid email address ({exc}).", field) from None


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot be used, or None. Checks format, reserved words and taken, in that order."""
    if not slug:
        return "Choose an address for the tenant."
    if len(slug) > 30:
        return "At most 30 characters."
    if len(slug) < 3:
        return "At least 3 characters."
    if not SLUG_RE.match(slug):
        return ("Use lowercase letters a–z, digits and hyphens, starting and ending with a letter "
                "or digit.")
    if "--" in slug:
        return "Hyphens cannot be doubled."
    if slug in RESERVED_SLUGS:
        return f"'{slug}' is reserved; choose another."
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first():
        return f"'{slug}' is taken."
    return None


def get_tenant(slug: str) -> Tenant:
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none() \
        if SLUG_RE.match(slug or "") else None
    if tenant is None:
        raise NotFound(f"No tenant '{slug[:40]}'.")
    return tenant


def get_plan(slug: str) -> Plan:
    plan = db.session.execute(select(Plan).where(Plan.slug == slug)).scalar_one_or_none()
    if plan is None:
        raise ValidationFailed(f"No plan '{slug[:40]}'.", "plan")
    return plan


def create_tenant(*, slug: str, name: str, plan: Plan, isolation: str, owner_email: str,
                  actor: audit.Actor, backend: str, main_url: str, trial_days: int | None = None,
                  currency: str = "USD", locale: str | None = None, timezone: str | None = None,
                  ) -> tuple[Tenant, str]:
    """Reserve the tenant (status provisioning) and its pipeline steps. The caller commits, then
    runs `tenancy.provisioning.provision`. Returns the tenant and the owner's one-time token."""
    slug = (slug or "").strip().lower()
    problem = slug_problem(slug)
    if problem:
        raise ValidationFailed(problem, "slug")
    name = re.sub(r"\s+", " ", name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Give the tenant a name of 1 to 120 characters.", "name")
    if isolation not in {m.value for m in Isolation}:
        raise ValidationFailed("Isolation must be shared, schema or database.", "isolation")
    if isolation == Isolation.SCHEMA.value and backend != "postgresql":
        raise ValidationFailed("Schema isolation needs PostgreSQL; use shared or database here.",
                               "isolation")
    if plan.archived:
        raise ValidationFailed(f"Plan '{plan.slug}' is archived and takes no new tenants.", "plan")
    owner_email = normalise_email(owner_email, "owner_email")
    if currency not in LOCALES:
        raise ValidationFailed(f"Currency must be one of {', '.join(LOCALES)}.", "currency")
    trial_days = plan.trial_days if trial_days is None else trial_days
    if not 0 <= trial_days <= 365:
        raise ValidationFailed("Trial days must be between 0 and 365.", "trial_days")

    default_locale, default_tz = LOCALES[currency]
    raw_token, token_hash = new_token()
    tenant = Tenant(slug=slug, name=name, plan=plan, isolation=isolation, owner_email=owner_email,
                    status=TenantStatus.PROVISIONING.value, currency=currency,
                    locale=locale or default_locale, timezone=timezone or default_tz,
                    owner_invite_hash=token_hash,
                    trial_ends_at=utcnow() + dt.timedelta(days=trial_days) if trial_days else None)
    if isolation == Isolation.SCHEMA.value:
        tenant.db_name = schema_name(slug)
    elif isolation == Isolation.DATABASE.value:
        tenant.db_name = database_name(main_url, slug)
    db.session.add(tenant)
    db.session.flush()
    for position, step in enumerate(PROVISIONING_STEPS):
        db.session.add(ProvisioningStep(tenant_id=tenant.id, step=step, position=position))
    audit.record("tenant.create", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=slug,
                 after={"slug": slug, "name": name, "plan": plan.slug, "isolation": isolation,
                        "owner_email": owner_email, "trial_days": trial_days})
    return tenant, raw_token


def _snapshot(tenant: Tenant) -> dict[str, Any]:
    return {"status": tenant.status, "reason": tenant.status_reason}


def suspend_tenant(tenant: Tenant, reason: str, actor: audit.Actor) -> None:
    reason = re.sub(r"\s+", " ", reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why the tenant is suspended; the tenant will see it.", "reason")
    if len(reason) > 500:
        raise ValidationFailed("Keep the reason under 500 characters.", "reason")
    if tenant.status not in (TenantStatus.ACTIVE.value, TenantStatus.TRIAL.value):
        raise ServiceError(f"Only active or trial tenants can be suspended (this one is {tenant.status}).")
    before = _snapshot(tenant)
    tenant.status = TenantStatus.SUSPENDED.value
    tenant.status_reason = reason
    audit.record("tenant.suspend", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before, after=_snapshot(tenant))


def resume_tenant(tenant: Tenant, actor: audit.Actor) -> None:
    if tenant.status != TenantStatus.SUSPENDED.value:
        raise ServiceError(f"Only suspended tenants can be resumed (this one is {tenant.status}).")
    before = _snapshot(tenant)
    in_trial = tenant.trial_ends_at is not None and tenant.trial_ends_at > utcnow()
    tenant.status = TenantStatus.TRIAL.value if in_trial else TenantStatus.ACTIVE.value
    tenant.status_reason = None
    audit.record("tenant.resume", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before, after=_snapshot(tenant))


def tenant_counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Tenant.status, func.count()).group_by(Tenant.status))
    return {status: n for status, n in rows}
