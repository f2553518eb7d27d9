"""The provisioning pipeline (DESIGN §2.4):

    reserve → create_storage → migrate → seed_defaults → create_owner → activate

Each step is idempotent and recorded in `provisioning_steps` (status, attempts, start, end, error),
committed as it goes: that record is what makes the pipeline resumable. A failed step leaves the
tenant `provisioning_failed` with the error; `provision()` again resumes at the first step not done.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from extensions import db
from models.control import ProvisioningStep, Tenant, TenantStatus, utcnow
from models.tenant import Counter, TenantRole, TenantUser
from services import audit
from tenancy.context import get_storage, tenant_context
from tenancy.migrations import TENANT, head, upgrade
from tenancy.storage import target_for

INVITE_DAYS = 7


@dataclass
class ProvisionResult:
    ok: bool
    failed_step: str | None = None
    error: str | None = None
    seconds: float = 0.0


def _create_storage(tenant: Tenant) -> None:
    storage = get_storage()
    storage.check_supported(tenant.isolation)
    storage.create(target_for(tenant))


def _migrate(tenant: Tenant) -> None:
    storage = get_storage()
    target = target_for(tenant)
    with storage.engine_for(target).begin() as conn:
        _, after = upgrade(TENANT, conn, schema=target.schema)
    tenant.schema_revision = after
    tenant.migrated_at = utcnow()


def _seed_defaults(tenant: Tenant) -> None:
    with tenant_context(tenant) as ctx:
        if ctx.session.get(Counter, (tenant.id, "order")) is None:
            ctx.session.add(Counter(name="order", value=1000))  # first order is #1001
        ctx.session.commit()


def _create_owner(tenant: Tenant) -> None:
    with tenant_context(tenant) as ctx:
        exists = ctx.session.execute(
            select(TenantUser.id).where(TenantUser.email == tenant.owner_email)).first()
        if not exists:
            ctx.session.add(TenantUser(
                email=tenant.owner_email, role=TenantRole.OWNER.value,
                set_password_token_hash=tenant.owner_invite_hash,
                set_password_expires_at=utcnow() + dt.timedelta(days=INVITE_DAYS)))
        ctx.session.commit()
    tenant.owner_invite_hash = None
    tenant.usage_users = max(tenant.usage_users, 1)


def _activate(tenant: Tenant) -> None:
    trial = tenant.trial_ends_at is not None and tenant.trial_ends_at > utcnow()
    tenant.status = TenantStatus.TRIAL.value if trial else TenantStatus.ACTIVE.value
    tenant.status_reason = None
    audit.record("tenant.activate", audit.SYSTEM, tenant_id=tenant.id, target_type="tenant",
                 target_id=tenant.id, target_label=tenant.slug, after={"status": tenant.status})


STEP_FUNCTIONS: dict[str, Callable[[Tenant], None]] = {
    "reserve": lambda tenant: None,  # done by services.tenants.create_tenant; recorded here
    "create_storage": _create_storage,
    "migrate": _migrate,
    "seed_defaults": _seed_defaults,
    "create_owner": _create_owner,
    "activate": _activate,
}


def steps_of(tenant_id: uuid.UUID) -> list[ProvisioningStep]:
    return list(db.session.execute(select(ProvisioningStep).where(
        ProvisioningStep.tenant_id == tenant_id).order_by(ProvisioningStep.position)).scalars())


def provision(tenant_id: uuid.UUID, on_step: Callable[[ProvisioningStep], None] | None = None,
              ) -> ProvisionResult:
    """Run (or resume) the pipeline for a reserved tenant. Commits after every step."""
    started = time.perf_counter()
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return ProvisionResult(False, None, "no such tenant")
    if tenant.status not in (TenantStatus.PROVISIONING.value, TenantStatus.PROVISIONING_FAILED.value):
        return ProvisionResult(True, seconds=0.0)
    if tenant.status == TenantStatus.PROVISIONING_FAILED.value:
        tenant.status = TenantStatus.PROVISIONING.value
        tenant.status_reason = None
        db.session.commit()
    for step in steps_of(tenant_id):
        if step.status == "done":
            continue
        step.status, step.started_at, step.finished_at, step.error = "running", utcnow(), None, None
        step.attempts += 1
        db.session.commit()
        if on_step:
            on_step(step)
        try:
            STEP_FUNCTIONS[step.step](tenant)
            step.status, step.finished_at = "done", utcnow()
            db.session.commit()
        except Exception as exc:  # any failure (SQL, OS, network) is recorded on the step, not raised
            db.session.rollback()
            message = f"{type(exc).__name__}: {exc}"[:2000]
            step = db.session.get(ProvisioningStep, (tenant_id, step.step))
            tenant = db.session.get(Tenant, tenant_id)
            step.status, step.finished_at, step.error = "failed", utcnow(), message
            tenant.status = TenantStatus.PROVISIONING_FAILED.value
            tenant.status_reason = f"{step.step} failed: {message}"[:500]
            db.session.commit()
            if on_step:
                on_step(step)
            return ProvisionResult(False, step.step, message, time.perf_counter() - started)
        if on_step:
            on_step(step)
    return ProvisionResult(True, seconds=time.perf_counter() - started)


def tenant_at_head(tenant: Tenant) -> bool:
    return tenant.schema_revision == head(TENANT)
