"""Tenant lifecycle from the vendor's side: create (reserve), suspend, resume.

Each tenant also carries a subscription (status, billing interval, current period end), kept here
by the same lifecycle: created trialing (period end = trial end) or active; a trial converts to
active when the tenant resumes after its trial; churn cancels. No billing system sets past_due.

Provisioning itself — creating storage, migrating, seeding, activating — is the resumable pipeline
in `tenancy.provisioning`; `create_tenant` only reserves the slug and records the steps to do.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from babel import Locale
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from extensions import db
from models.control import (Isolation, Plan, ProvisioningStep, SubscriptionStatus, Tenant,
                            TenantStatus, add_billing_intervals, utcnow)
from services import audit
from services.errors import NotFound, ServiceError, ValidationFailed
from services.text import refuse_control_characters
from services.tokens import new_token
from tenancy.resolver import RESERVED_SLUGS, SLUG_RE
from tenancy.storage import database_name, schema_name
from web.formatting import valid_locale

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
    now = utcnow()
    trial_ends_at = now + dt.timedelta(days=trial_days) if trial_days else None
    tenant = Tenant(slug=slug, name=name, plan=plan, isolation=isolation, owner_email=owner_email,
                    status=TenantStatus.PROVISIONING.value, currency=currency,
                    locale=locale or default_locale, timezone=timezone or default_tz,
                    owner_invite_hash=token_hash, trial_ends_at=trial_ends_at, billing_interval="month")
    if trial_ends_at:
        tenant.subscription_status, tenant.current_period_end = SubscriptionStatus.TRIALING.value, trial_ends_at
    else:
        _start_paid_period(tenant, now)
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


def _start_paid_period(tenant: Tenant, now: dt.datetime) -> None:
    tenant.subscription_status = SubscriptionStatus.ACTIVE.value
    tenant.current_period_end = add_billing_intervals(now, tenant.billing_interval or "month")


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
    tenant.session_version = (tenant.session_version or 1) + 1  # its users sign in again after resume
    audit.record("tenant.suspend", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before, after=_snapshot(tenant))


def resume_tenant(tenant: Tenant, actor: audit.Actor) -> None:
    if tenant.status != TenantStatus.SUSPENDED.value:
        raise ServiceError(f"Only suspended tenants can be resumed (this one is {tenant.status}).")
    before = _snapshot(tenant)
    now = utcnow()
    in_trial = tenant.trial_ends_at is not None and tenant.trial_ends_at > now
    tenant.status = TenantStatus.TRIAL.value if in_trial else TenantStatus.ACTIVE.value
    tenant.status_reason = None
    after = _snapshot(tenant)
    if not in_trial and tenant.subscription_status == SubscriptionStatus.TRIALING.value:
        # Staff let a tenant back in after its trial: the trial has converted to a paid plan.
        _start_paid_period(tenant, now)
        before["subscription"], after["subscription"] = SubscriptionStatus.TRIALING.value, tenant.subscription_status
    audit.record("tenant.resume", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before, after=after)


def tenant_counts_by_status() -> dict[str, int]:
    rows = db.session.execute(select(Tenant.status, func.count()).group_by(Tenant.status))
    return {status: n for status, n in rows}


def plans_for_new_tenants() -> list[Plan]:
    return list(db.session.execute(select(Plan).where(Plan.archived.is_(False))
                                   .order_by(Plan.price_monthly, Plan.name)).scalars())


def over_limits(tenant: Tenant, plan: Plan) -> list[str]:
    """What the tenant's current usage (control-plane mirror) already exceeds on `plan`."""
    usage = [("orders this month", tenant.usage_orders_month, plan.max_orders_per_month),
             ("customers", tenant.usage_customers, plan.max_customers),
             ("users", tenant.usage_users, plan.max_users)]
    return [f"{used} {label} (the plan allows {limit})"
            for label, used, limit in usage if limit is not None and used > limit]


def change_plan(tenant: Tenant, plan: Plan, actor: audit.Actor) -> None:
    """Move the tenant to `plan`, refused if it already uses more than the plan allows."""
    if plan.id == tenant.plan_id:
        raise ValidationFailed(f"The tenant is already on {plan.name}.", "plan")
    if plan.archived:
        raise ValidationFailed(f"Plan '{plan.name}' is archived and takes no tenants.", "plan")
    excess = over_limits(tenant, plan)
    if excess:
        raise ValidationFailed(f"{tenant.name} cannot move to {plan.name}: it already has "
                               + "; ".join(excess) + ".", "plan")
    before = {"plan": tenant.plan.slug}
    tenant.plan = plan
    audit.record("tenant.change_plan", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before,
                 after={"plan": plan.slug})


def extend_trial(tenant: Tenant, days: int, actor: audit.Actor) -> None:
    """Push the trial end `days` later (from now if it already ended)."""
    if not 1 <= days <= 90:
        raise ValidationFailed("Extend by 1 to 90 days.", "days")
    if tenant.status not in (TenantStatus.TRIAL.value, TenantStatus.ACTIVE.value,
                             TenantStatus.SUSPENDED.value):
        raise ValidationFailed(f"A {tenant.status.replace('_', ' ')} tenant has no trial to extend.")
    before = {"trial_ends_at": tenant.trial_ends_at, "status": tenant.status}
    start = max(tenant.trial_ends_at or utcnow(), utcnow())
    tenant.trial_ends_at = start + dt.timedelta(days=days)
    if tenant.subscription_status == SubscriptionStatus.TRIALING.value:
        tenant.current_period_end = tenant.trial_ends_at
    audit.record("tenant.extend_trial", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before,
                 after={"trial_ends_at": tenant.trial_ends_at, "status": tenant.status, "days": days})


def mark_churned(tenant: Tenant, actor: audit.Actor) -> None:
    if tenant.status not in (TenantStatus.ACTIVE.value, TenantStatus.TRIAL.value,
                             TenantStatus.SUSPENDED.value):
        raise ServiceError(f"Only active, trial or suspended tenants can churn "
                           f"(this one is {tenant.status.replace('_', ' ')}).")
    before = {**_snapshot(tenant), "subscription": tenant.subscription_status}
    tenant.status = TenantStatus.CHURNED.value
    tenant.status_reason = "churned"
    tenant.session_version = (tenant.session_version or 1) + 1
    # The tenant loses access at once, so its subscription ends now, not at the period's end.
    tenant.subscription_status = SubscriptionStatus.CANCELLED.value
    tenant.current_period_end = utcnow()
    audit.record("tenant.churn", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before,
                 after={**_snapshot(tenant), "subscription": tenant.subscription_status})


def prepare_retry(tenant: Tenant, actor: audit.Actor) -> None:
    """Record a staff retry of a failed pipeline; the caller commits, then runs `provision`."""
    if tenant.status != TenantStatus.PROVISIONING_FAILED.value:
        raise ServiceError("Only a tenant whose provisioning failed can be retried.")
    before = _snapshot(tenant)
    # Back to "provisioning" at once, so the progress page polls until the pipeline ends again.
    tenant.status, tenant.status_reason = TenantStatus.PROVISIONING.value, None
    audit.record("tenant.retry_provisioning", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, before=before, after=_snapshot(tenant))


def reissue_owner_link(tenant: Tenant, actor: audit.Actor) -> str:
    """A new one-time set-password token for the tenant's owner (returned raw, never stored).
    The token is committed in the tenant's storage here; the audit event waits for the caller."""
    from services.tenant_users import find_by_email, reissue_link
    from tenancy.context import tenant_context
    if not tenant.is_ready and tenant.status != TenantStatus.SUSPENDED.value:
        raise ServiceError("The tenant is not provisioned yet; its owner has no account.")
    with tenant_context(tenant) as ctx:
        owner = find_by_email(ctx.session, tenant.owner_email)
        if owner is None:
            raise NotFound(f"No user {tenant.owner_email} in this tenant.")
        raw = reissue_link(owner)
        ctx.session.commit()
    audit.record("tenant.reissue_owner_link", actor, tenant_id=tenant.id, target_type="tenant_user",
                 target_id=owner.id, target_label=tenant.owner_email)
    return raw


@dataclass
class BulkOutcome:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "slug: why"


BULK_ACTIONS = ("suspend", "resume")
BULK_MAX = 200


def tenants_by_slugs(slugs: list[str]) -> list[Tenant]:
    wanted = sorted({s for s in slugs if SLUG_RE.match(s or "")})[:BULK_MAX]
    if not wanted:
        return []
    return list(db.session.execute(select(Tenant).where(Tenant.slug.in_(wanted))
                                   .order_by(Tenant.slug)).scalars())


def check_bulk(tenants: list[Tenant], action: str, reason: str) -> None:
    """Refuse a bulk request that cannot do anything as asked (before asking to confirm it)."""
    if action not in BULK_ACTIONS:
        raise ValidationFailed("Choose suspend or resume.", "action")
    if not tenants:
        raise ValidationFailed("Tick at least one tenant.", "slug")
    if action == "suspend" and not re.sub(r"\s+", " ", reason or "").strip():
        raise ValidationFailed("Say why the tenants are suspended; they will see it.", "reason")


def bulk_change_status(tenants: list[Tenant], action: str, reason: str,
                       actor: audit.Actor) -> BulkOutcome:
    """Suspend or resume each tenant that allows it; the others are reported, not fatal.
    One audit event per tenant changed; the caller commits them together."""
    check_bulk(tenants, action, reason)
    outcome = BulkOutcome()
    for tenant in tenants:
        try:
            if action == "suspend":
                suspend_tenant(tenant, reason, actor)
            else:
                resume_tenant(tenant, actor)
            outcome.done.append(tenant.slug)
        except ValidationFailed:
            raise
        except ServiceError as exc:
            outcome.skipped.append(f"{tenant.slug}: {exc.message}")
    return outcome


# --- a tenant's own settings (the back-office's settings page) --------------------------------------

SETTINGS_LOCALES = ("en_US", "en_GB", "en_AU", "en_CA", "en_SG", "en_MY", "en_PH", "id_ID", "ms_MY",
                    "zh_Hans_SG", "th_TH", "vi_VN")
_REGIONS = re.compile(r"(Africa|America|Antarctica|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z_/-]+")


def locale_choices(current: str | None = None) -> list[tuple[str, str]]:
    """(code, "English (United States)") for the settings form; a tenant's current locale is kept
    in the list even when it is not one of ours (set by the console or the CLI)."""
    codes = list(SETTINGS_LOCALES)
    if current and current not in codes and valid_locale(current):
        codes.append(current)
    return sorted(((c, Locale.parse(c).get_display_name("en") or c) for c in codes), key=lambda x: x[1])


def timezone_choices() -> list[str]:
    """Every region/city zone of the IANA database, and UTC (no "Etc/GMT+7" and other aliases)."""
    from zoneinfo import available_timezones
    return ["UTC", *sorted(z for z in available_timezones() if _REGIONS.fullmatch(z))]


def update_settings(tenant: Tenant, *, name: str, locale: str, timezone: str,
                    actor: audit.Actor) -> dict[str, Any]:
    """Change the business name, the language and number format, and the time zone; returns what
    they were (empty when nothing changed). The currency is not here: every stored amount is in it."""
    refuse_control_characters(name, "name", "name")
    name = re.sub(r"\s+", " ", name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("Give the business a name of 1 to 120 characters.", "name")
    if locale not in dict(locale_choices(tenant.locale)):
        raise ValidationFailed("Choose a language and format from the list.", "locale")
    if timezone != tenant.timezone and timezone not in timezone_choices():
        raise ValidationFailed("Choose a time zone from the list.", "timezone")
    after = {"name": name, "locale": locale, "timezone": timezone}
    before = {key: getattr(tenant, key) for key in after}
    changed = {key for key in after if after[key] != before[key]}
    if not changed:
        return {}
    for key in changed:
        setattr(tenant, key, after[key])
    audit.record("tenant.settings", actor, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug,
                 before={k: before[k] for k in sorted(changed)}, after={k: after[k] for k in sorted(changed)})
    return {k: before[k] for k in changed}
