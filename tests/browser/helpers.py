"""What the browser journeys share: signing in as a person would, and the data they start from."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from extensions import db
from models.control import Tenant
from services import audit
from services.tenants import create_tenant
from tenancy.provisioning import provision
from tests.factories import PASSWORD, make_order, make_plan, make_staff, make_user

STAFF_EMAIL = "ana@vendor.example.com"
OWNER_EMAIL = "owner@bistro.example.com"


def staff_signs_in(page: Any, email: str = STAFF_EMAIL, password: str = PASSWORD) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/")


def member_signs_in(page: Any, slug: str, email: str = OWNER_EMAIL, password: str = PASSWORD) -> None:
    page.goto(f"/t/{slug}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/t/{slug}/")


def starter_plan() -> Any:
    """The demo's entry plan: small limits (so meters mean something), no CSV export on the plan."""
    return make_plan("starter", name="Starter", max_orders_per_month=500, max_customers=300, max_users=3,
                     features={"csv_export": False, "advanced_stats": False, "team_members": False})


@dataclass
class Bistro:
    tenant: Tenant
    set_password_path: str  # the owner's one-time link, as the console shows it


def make_bistro(plan: Any = None, currency: str = "IDR") -> Bistro:
    """Tenant `bistro` (shared), provisioned, its owner not yet with a password, as after the console
    created it."""
    tenant, token = create_tenant(
        slug="bistro", name="Bistro Nusantara", plan=plan or starter_plan(), isolation="shared",
        owner_email=OWNER_EMAIL, actor=audit.SYSTEM, backend=db.engine.dialect.name,
        main_url=db.engine.url.render_as_string(hide_password=False), currency=currency, trial_days=0)
    db.session.commit()
    assert provision(tenant.id).ok
    tenant = db.session.get(Tenant, tenant.id)
    return Bistro(tenant, f"/t/bistro/set-password/{token}")


def bistro_with_orders(plan: Any = None) -> tuple[Tenant, list[Any]]:
    """bistro with a signed-up owner, a staff member and orders in several states; vendor staff ana.
    Returns the tenant and its orders, oldest first."""
    make_staff(STAFF_EMAIL)
    tenant = make_bistro(plan).tenant
    make_user(tenant, OWNER_EMAIL, "owner")
    make_user(tenant, "bob@bistro.example.com", "staff")
    orders = []
    for total, customer, status in [(1_250_000, "Budi Santoso", "paid"), (85_000, "Siti Rahayu", None),
                                    (430_000, "Agus Wijaya", "paid"), (64_500, "Dewi Lestari", "cancelled"),
                                    (990_000, "Budi Santoso", "failed")]:
        orders.append(make_order(tenant, total=total, customer=customer, status=status))
    return tenant, orders
