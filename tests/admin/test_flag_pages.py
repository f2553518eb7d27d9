"""Flags in the console: the plan matrix, overrides, and who has it — each with its reason."""
from __future__ import annotations

from extensions import db
from models.control import Plan
from services.flags import is_enabled
from tests.factories import make_plan, make_staff, make_tenant, staff_sign_in


def _sign_in(client, role: str = "admin") -> None:
    make_staff(f"{role}@vendor.example.com", role)
    staff_sign_in(client, f"{role}@vendor.example.com")


def test_matrix_cell_cycles_the_plan_value(client, app, backend):
    plan = make_plan("basic", features={})
    tenant = make_tenant("cafe", plan=plan)
    _sign_in(client)
    assert is_enabled("csv_export", tenant).reason == "off: default"
    cell = client.post("/admin/flags/matrix/basic/csv_export", headers={"HX-Request": "true"})
    assert cell.status_code == 200 and b"<html" not in cell.data and b'id="cell-basic-csv_export"' in cell.data
    db.session.expire_all()
    assert is_enabled("csv_export", db.session.get(type(tenant), tenant.id)) == (True, "on: plan Basic")
    client.post("/admin/flags/matrix/basic/csv_export")
    client.post("/admin/flags/matrix/basic/csv_export")
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).features == {}


def test_override_from_the_who_has_it_page(client, app, backend):
    make_tenant("cafe", plan=make_plan("basic", features={"csv_export": True}))
    make_tenant("deli", plan=make_plan("basic"))
    _sign_in(client)
    done = client.post("/admin/flags/csv_export/override",
                       data={"tenant": "cafe", "value": "off", "reason": "chargeback review", "expires_in_days": "7"})
    assert done.status_code == 303
    page = client.get("/admin/flags/csv_export?value=off").data.decode()
    assert "cafe" in page and "deli" not in page
    assert "off: override by admin@vendor.example.com, expires" in page
    unknown = client.post("/admin/flags/csv_export/override", data={"tenant": "nobody", "value": "on", "reason": "x"})
    assert unknown.status_code == 303
    assert "No tenant" in client.get("/admin/flags").data.decode()


def test_viewers_read_flags_but_cannot_change_them(client, app, backend):
    make_tenant("cafe", plan=make_plan("basic"))
    _sign_in(client, "viewer")
    assert client.get("/admin/flags").status_code == 200
    assert client.get("/admin/flags/matrix").status_code == 200
    assert client.post("/admin/flags/matrix/basic/csv_export").status_code == 403
    assert client.post("/admin/flags/csv_export/override", data={"tenant": "cafe", "value": "on", "reason": "x"}).status_code == 403
    assert client.post("/admin/flags/new", data={"key": "sneaky"}).status_code == 403


def test_create_and_archive_a_flag(client, app, backend):
    tenant = make_tenant("cafe", plan=make_plan("basic"))
    _sign_in(client)
    assert client.post("/admin/flags/new", data={"key": "bulk_refunds", "description": "Refund many", "rollout_percent": "100"}).status_code == 303
    assert is_enabled("bulk_refunds", tenant) == (True, "on: rollout 100%")
    assert client.post("/admin/flags/new", data={"key": "Bad Key!", "rollout_percent": "0"}).status_code == 422
    assert client.post("/admin/flags/bulk_refunds/edit", data={"description": "x", "rollout_percent": "100", "archived": "y"}).status_code == 303
    db.session.expire_all()
    assert is_enabled("bulk_refunds", tenant) == (False, "off: archived (kill switch)")


def test_tenant_detail_shows_each_flag_with_its_reason(client, app, backend):
    from services import audit
    from services.flags import set_override
    tenant = make_tenant("cafe", plan=make_plan("basic", features={"csv_export": True}))
    set_override(tenant, "team_members", False, "seat dispute", None, audit.Actor("staff", None, "ana@vendor.example.com"))
    db.session.commit()
    _sign_in(client, "viewer")
    page = client.get("/admin/tenants/cafe").data.decode()
    assert "on: plan Basic" in page and "off: override by ana@vendor.example.com" in page
