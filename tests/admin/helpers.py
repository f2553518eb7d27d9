"""Helpers for the vendor console tests: staff of each role, htmx headers, provisioning waits."""
from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, Plan, Tenant
from tests.factories import make_plan, make_staff, staff_sign_in

HX = {"HX-Request": "true"}
ROLES = ("owner", "admin", "support", "viewer")


def sign_in_as(client: Any, role: str = "owner") -> str:
    """Make a staff member with `role` and sign them in; returns their email."""
    email = f"{role}@vendor.example.com"
    make_staff(email, role)
    staff_sign_in(client, email)
    return email


def reserve_tenant(slug: str, plan: Plan | None = None, **columns: Any) -> Tenant:
    """A tenant row in the state a test needs, without provisioning its storage (cheap): active,
    at the head revision, on a monthly subscription, unless `columns` say otherwise."""
    from services import audit
    from services.tenants import create_tenant
    from tenancy.migrations import TENANT, head
    tenant, _ = create_tenant(slug=slug, name=slug.title(), plan=plan or make_plan(), isolation="shared",
                              owner_email=f"owner@{slug}.example.com", actor=audit.SYSTEM,
                              backend=db.engine.dialect.name, main_url=str(db.engine.url), trial_days=0)
    for name, value in {"status": "active", "schema_revision": head(TENANT), **columns}.items():
        setattr(tenant, name, value)
    db.session.commit()
    return tenant


def tenant_row(slug: str) -> Tenant | None:
    db.session.expire_all()
    return db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def actions_for(tenant_id: Any) -> list[str]:
    db.session.expire_all()
    return list(db.session.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == tenant_id)
                                   .order_by(AuditEvent.at)).scalars())


def last_event(action: str) -> AuditEvent:
    db.session.expire_all()
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.at.desc())).scalars().first()


def wait_for_provisioning(client: Any, slug: str, timeout: float = 30.0) -> Any:
    """Poll the progress partial as htmx does until it answers 286 (pipeline ended), then wait
    for the background thread itself, so nothing still writes when the test's database goes."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/admin/tenants/{slug}/provisioning", headers=HX)
        assert response.status_code in (200, 286), response.data[:300]
        if response.status_code == 286:
            break
        assert time.monotonic() < deadline, "provisioning did not finish"
        time.sleep(0.05)
    for thread in threading.enumerate():
        if thread.name == f"provision-{slug}":
            thread.join(timeout)
    return response
