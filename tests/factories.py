"""Small factories over the real services: tenants are created and provisioned for real."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select

from extensions import db
from models.control import Plan, Tenant
from models.tenant import TenantUser
from services import audit, orders, tenant_users
from services.tenants import create_tenant
from tenancy.context import tenant_context
from tenancy.provisioning import provision

PASSWORD = "correct horse battery"


def make_plan(slug: str = "basic", **overrides: Any) -> Plan:
    existing = db.session.execute(select(Plan).where(Plan.slug == slug)).scalar_one_or_none()
    if existing:
        return existing
    values = dict(slug=slug, name=slug.title(), currency="USD", price_monthly=1000,
                  price_yearly=10000, max_orders_per_month=None, max_customers=None,
                  max_users=None, trial_days=0,
                  features={"csv_export": True, "advanced_stats": True, "team_members": True})
    values.update(overrides)
    plan = Plan(**values)
    db.session.add(plan)
    db.session.commit()
    return plan


def make_tenant(slug: str | None = None, isolation: str = "shared", plan: Plan | None = None,
                owner_email: str | None = None, currency: str = "USD") -> Tenant:
    slug = slug or f"t-{uuid.uuid4().hex[:8]}"
    tenant, _token = create_tenant(
        slug=slug, name=f"{slug.title()} Ltd", plan=plan or make_plan(), isolation=isolation,
        owner_email=owner_email or f"owner@{slug}.example.com", actor=audit.SYSTEM,
        backend=db.engine.dialect.name, currency=currency, trial_days=0,
        main_url=db.engine.url.render_as_string(hide_password=False))
    db.session.commit()
    result = provision(tenant.id)
    assert result.ok, result
    return db.session.get(Tenant, tenant.id)


def make_user(tenant: Tenant, email: str, role: str = "staff", password: str = PASSWORD) -> TenantUser:
    with tenant_context(tenant) as ctx:
        user = tenant_users.find_by_email(ctx.session, email)
        if user is None:
            user, _ = tenant_users.invite_user(ctx.session, tenant, email, role)
        tenant_users.set_password(user, password, current_app.config["BCRYPT_ROUNDS"])
        ctx.session.commit()
        return user


def make_order(tenant: Tenant, total: int = 10_000, customer: str | None = "Dana Buyer",
               status: str | None = None) -> Any:
    with tenant_context(tenant) as ctx:
        new_customer = orders.NewCustomer(customer, f"{uuid.uuid4().hex[:6]}@buyers.example.com") if customer else None
        order = orders.create_order(ctx.session, tenant, items=[orders.LineInput("Widget", 1, total)],
                                    channel="web", payment_method="card", actor_label="test",
                                    new_customer=new_customer)
        if status:
            orders.change_status(ctx.session, tenant, order, status, "test")
        ctx.session.commit()
        return order


@dataclass
class Person:
    email: str
    tenant: Tenant
    role: str
    password: str = PASSWORD

    def sign_in(self, client: Any) -> Any:
        response = client.post(f"/t/{self.tenant.slug}/login",
                               data={"email": self.email, "password": self.password})
        assert response.status_code == 303, response.data[:500]
        return response


@dataclass
class ThreePeople:
    alice: Person    # owner of tenant A
    bob: Person      # staff in tenant A
    charlie: Person  # owner of tenant B

    @property
    def a(self) -> Tenant:
        return self.alice.tenant

    @property
    def b(self) -> Tenant:
        return self.charlie.tenant


def three_people(isolation: str) -> ThreePeople:
    a = make_tenant(f"alpha-{uuid.uuid4().hex[:6]}", isolation, owner_email="alice@example.com")
    b = make_tenant(f"beta-{uuid.uuid4().hex[:6]}", isolation, owner_email="charlie@example.com")
    make_user(a, "alice@example.com", "owner")
    make_user(a, "bob@example.com", "staff")
    make_user(b, "charlie@example.com", "owner")
    return ThreePeople(Person("alice@example.com", a, "owner"), Person("bob@example.com", a, "staff"),
                       Person("charlie@example.com", b, "owner"))


def make_staff(email: str = "ana@vendor.example.com", role: str = "owner", password: str = PASSWORD) -> Any:
    from services.staff import create_staff, find_staff
    staff = find_staff(email) or create_staff(email, role, password, current_app.config["BCRYPT_ROUNDS"], audit.SYSTEM)
    db.session.commit()
    return staff


def staff_sign_in(client: Any, email: str = "ana@vendor.example.com", password: str = PASSWORD) -> Any:
    response = client.post("/admin/login", data={"email": email, "password": password})
    assert response.status_code == 303, response.data[:500]
    return response
