"""Demo data for `flask seed-demo` and `make run`: plans, a vendor owner, three tenants in three
isolation modes and currencies, each with an owner, a staff member, customers and a few hundred
orders over the last 90 days — all written through the real services, so rollups and totals agree.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import select

from extensions import db
from models.control import Plan, Tenant, utcnow
from models.tenant import CHANNELS, PAYMENT_METHODS, TenantRole, TenantUser
from services import audit, customers, orders, staff, tenant_users
from services.tenants import create_tenant
from tenancy.context import tenant_context
from tenancy.provisioning import provision

PLANS = [
    dict(slug="starter", name="Starter", currency="USD", price_monthly=2900, price_yearly=29000,
         max_orders_per_month=500, max_customers=300, max_users=3, trial_days=14, is_default=True,
         features={"csv_export": False, "advanced_stats": False, "team_members": False}),
    dict(slug="growth", name="Growth", currency="USD", price_monthly=7900, price_yearly=79000,
         max_orders_per_month=5000, max_customers=5000, max_users=10, trial_days=14,
         features={"csv_export": True, "advanced_stats": False, "team_members": True}),
    dict(slug="pro", name="Pro", currency="USD", price_monthly=19900, price_yearly=199000,
         max_orders_per_month=None, max_customers=None, max_users=None, trial_days=30,
         features={"csv_export": True, "advanced_stats": True, "team_members": True}),
]


@dataclass(frozen=True)
class DemoTenant:
    slug: str
    name: str
    plan: str
    isolation_pg: str
    isolation_sqlite: str
    currency: str
    people: tuple[str, ...]
    products: tuple[tuple[str, int], ...]  # name, unit price in minor units


# Spread over the console's 90-day sign-ups chart; each tenant's history starts when it signed up.
SIGNED_UP_DAYS_AGO = {"acme": 88, "globex": 63, "initech": 37}

TENANTS = [
    DemoTenant("acme", "Acme Coffee Roasters", "growth", "shared", "shared", "IDR",
               ("Budi Santoso", "Siti Rahayu", "Agus Wijaya", "Dewi Lestari", "Rudi Hartono",
                "Putri Anggraini", "Eko Prasetyo", "Sri Wahyuni", "Andi Saputra", "Rina Kusuma",
                "Joko Susilo", "Maya Sari", "Hendra Gunawan", "Nur Aisyah", "Fajar Nugroho"),
               (("Arabica Gayo 250 g", 95_000), ("Robusta Lampung 1 kg", 180_000),
                ("Kopi Luwak 100 g", 450_000), ("V60 Dripper", 125_000), ("Cold Brew 1 L", 65_000))),
    DemoTenant("globex", "Globex Hotel Supplies", "pro", "schema", "database", "MYR",
               ("Ahmad Faizal", "Nurul Huda", "Tan Wei Ming", "Lim Mei Ling", "Ravi Kumar",
                "Siti Aminah", "Wong Kar Wai", "Farah Nabila", "Hafiz Rahman", "Chong Li Na",
                "Azlan Shah", "Priya Devi"),
               (("Bath towel set", 8_900), ("Linen duvet cover", 15_900), ("Room key cards x100", 4_500),
                ("Minibar fridge", 89_900), ("Housekeeping cart", 129_900))),
    DemoTenant("initech", "Initech Industrial", "starter", "database", "database", "USD",
               ("Peter Gibbons", "Samir Nagheenanajar", "Michael Bolton", "Joanna Smith",
                "Milton Waddams", "Bill Lumbergh", "Tom Smykowski", "Nina Patel", "Drew Carter",
                "Laura Chen"),
               (("Red stapler", 1_999), ("TPS report binder", 899), ("Printer toner", 7_450),
                ("Ergonomic chair", 34_900), ("Standing desk", 59_900))),
]


def _ensure_plans() -> dict[str, Plan]:
    plans = {p.slug: p for p in db.session.execute(select(Plan)).scalars()}
    for spec in PLANS:
        if spec["slug"] not in plans:
            plan = Plan(**spec)
            db.session.add(plan)
            plans[plan.slug] = plan
    db.session.flush()
    return plans


def _fill_tenant(tenant: Tenant, spec: DemoTenant, password: str, rounds: int, rng: random.Random) -> None:
    with tenant_context(tenant) as ctx:
        s = ctx.session
        owner = s.execute(select(TenantUser).where(TenantUser.role == TenantRole.OWNER.value)).scalars().first()
        tenant_users.set_password(owner, password, rounds)
        owner.name = f"{spec.name.split()[0]} Owner"
        staff_user, _ = tenant_users.invite_user(s, tenant, f"staff@{spec.slug}.test", "staff",
                                                 name=f"{spec.name.split()[0]} Staff")
        tenant_users.set_password(staff_user, password, rounds)
        now = utcnow()
        history_days = (now - tenant.created_at).days - 1
        people = []
        for n, person in enumerate(spec.people):
            # Customers arrive over the tenant's life, most of them early (the first at sign-up).
            first = person.split()[0].lower()
            joined = tenant.created_at + dt.timedelta(days=history_days * (n / len(spec.people)) ** 1.5, hours=n)
            people.append(customers.create_customer(
                s, tenant, name=person, email=f"{first}{n}@example.{spec.slug}.test", created_at=joined,
                phone=f"+{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"))
        s.flush()
        statuses = ["paid"] * 14 + ["pending"] * 3 + ["failed", "expired", "cancelled", "refunded"]
        count = 260 + rng.randint(0, 80)
        # Busier recently; created oldest first so order numbers follow the dates.
        moments = sorted(now - dt.timedelta(days=history_days * rng.random() ** 1.6, minutes=rng.randint(0, 600))
                         for _ in range(count))
        for at in moments:
            at = min(at, now)
            picks = rng.sample(spec.products, rng.choice([1, 1, 2, 3]))
            items = [orders.LineInput(name, rng.choice([1, 1, 2, 3, 5]), price) for name, price in picks]
            subtotal = sum(i.quantity * i.unit_price for i in items)
            order = orders.create_order(
                s, tenant, items=items, channel=rng.choice(CHANNELS), payment_method=rng.choice(PAYMENT_METHODS),
                actor_label=f"owner@{spec.slug}.test",
                customer_id=rng.choice([c for c in people if c.created_at <= at]).id,
                discount=subtotal // 10 if rng.random() < 0.15 else 0,
                tax=subtotal * 11 // 100 if spec.currency == "IDR" else 0, created_at=at)
            status = rng.choice(statuses)
            if status == "refunded":
                orders.change_status(s, tenant, order, "paid", f"owner@{spec.slug}.test")
                orders.change_status(s, tenant, order, "refunded", f"owner@{spec.slug}.test",
                                     note="Customer returned the goods")
            elif status != "pending":
                orders.change_status(s, tenant, order, status, f"staff@{spec.slug}.test")
        s.commit()
        tenant.usage_customers = len(people)
        tenant.usage_users = 2
        tenant.usage_month = now.strftime("%Y-%m")
        from services import rollup
        tenant.usage_orders_month = rollup.orders_in_month(s, rollup.local_day(now, tenant.timezone))


def seed_demo(*, password: str, rounds: int, backend: str, main_url: str,
              say: Callable[[str], None] = print) -> list[str]:
    """Create the demo data once; a second run changes nothing. Returns what it created."""
    created: list[str] = []
    rng = random.Random(20261123)
    plans = _ensure_plans()
    if staff.find_staff("admin@tenantry.test") is None:
        staff.create_staff("admin@tenantry.test", "owner", password, rounds, audit.CLI, name="Ada Admin")
        created.append("vendor owner admin@tenantry.test")
    db.session.commit()
    for spec in TENANTS:
        if db.session.execute(select(Tenant.id).where(Tenant.slug == spec.slug)).first():
            continue
        isolation = spec.isolation_pg if backend == "postgresql" else spec.isolation_sqlite
        say(f"  creating {spec.slug} ({isolation}, {spec.currency}) …")
        tenant, _token = create_tenant(slug=spec.slug, name=spec.name, plan=plans[spec.plan],
                                       isolation=isolation, owner_email=f"owner@{spec.slug}.test",
                                       actor=audit.CLI, backend=backend, main_url=main_url,
                                       currency=spec.currency, trial_days=0)
        db.session.commit()
        result = provision(tenant.id)
        if not result.ok:
            raise RuntimeError(f"provisioning {spec.slug} failed at {result.failed_step}: {result.error}")
        tenant = db.session.get(Tenant, tenant.id)
        tenant.created_at = utcnow() - dt.timedelta(days=SIGNED_UP_DAYS_AGO[spec.slug])
        _fill_tenant(tenant, spec, password, rounds, rng)
        db.session.commit()
        created.append(f"tenant {spec.slug}")
    return created
