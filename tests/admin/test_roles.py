"""Roles: what each vendor role may do (DESIGN §7). Refusals are a 403 page and write nothing."""
from __future__ import annotations

import pytest

from services.staff import PERMISSIONS, can
from tests.admin.helpers import actions_for, sign_in_as, tenant_row
from tests.factories import make_plan, make_tenant


def test_permission_table() -> None:
    assert can("owner", "manage_staff") and not can("admin", "manage_staff")
    assert PERMISSIONS["admin"] | {"manage_staff"} == PERMISSIONS["owner"]
    assert {p for p in PERMISSIONS["support"]} == {"read", "suspend", "extend_trial", "check_health"}
    assert PERMISSIONS["viewer"] == {"read"}
    assert not can("intruder", "read") and not can(None, "read")


def test_viewer_reads_but_cannot_suspend(client, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "viewer")
    assert client.get("/admin/tenants").status_code == 200
    page = client.get("/admin/tenants/acme")
    assert page.status_code == 200 and b"Suspend" not in page.data  # no button it cannot use
    refused = client.post("/admin/tenants/acme/suspend", data={"reason": "unpaid"})
    assert refused.status_code == 403 and b"viewer" in refused.data
    assert tenant_row("acme").status == "active"
    assert "tenant.suspend" not in actions_for(tenant.id)
    for path in ("/admin/tenants/acme/resume", "/admin/tenants/acme/extend-trial",
                 "/admin/tenants/acme/plan", "/admin/tenants/acme/churn", "/admin/tenants/bulk",
                 "/admin/tenants/acme/check-health", "/admin/tenants/new"):
        assert client.post(path, data={"days": "5", "plan": "basic"}).status_code == 403, path


def test_support_suspends_resumes_and_extends_trials_but_cannot_change_plans_or_create(client, backend) -> None:
    make_plan("pro", max_customers=None)
    tenant = make_tenant("acme")
    sign_in_as(client, "support")
    assert client.post("/admin/tenants/acme/suspend", data={"reason": "unpaid"}).status_code == 303
    assert tenant_row("acme").status == "suspended"
    assert client.post("/admin/tenants/acme/resume").status_code == 303
    assert tenant_row("acme").status == "active"
    assert client.post("/admin/tenants/acme/extend-trial", data={"days": "7"}).status_code == 303
    assert tenant_row("acme").trial_ends_at is not None

    assert client.post("/admin/tenants/acme/plan", data={"plan": "pro"}).status_code == 403
    assert tenant_row("acme").plan.slug == "basic"
    assert client.get("/admin/tenants/new").status_code == 403
    assert client.post("/admin/tenants/new", data={"slug": "newco"}).status_code == 403
    assert tenant_row("newco") is None
    assert client.post("/admin/tenants/acme/churn").status_code == 403
    assert actions_for(tenant.id)[-3:] == ["tenant.suspend", "tenant.resume", "tenant.extend_trial"]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owner_and_admin_change_plans(client, backend, role) -> None:
    make_plan("pro")
    make_tenant("acme")
    sign_in_as(client, role)
    assert client.post("/admin/tenants/acme/plan", data={"plan": "pro"}).status_code == 303
    assert tenant_row("acme").plan.slug == "pro"
    assert client.get("/admin/tenants/new").status_code == 200
