"""The CLI contract: clear errors, non-zero exits, nothing written on bad arguments."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from extensions import db
from models.control import Tenant, VendorStaff
from tests.factories import make_plan


def _tenant_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(Tenant.id))).scalar_one()


def test_create_list_show_a_tenant(runner, app, backend):
    make_plan("starter")
    result = runner.invoke(args=["tenants", "create", "bistro", "--name", "Bistro Bar", "--plan", "starter",
                                 "--isolation", "database", "--owner-email", "chef@bistro.example.com"])
    assert result.exit_code == 0, result.output
    assert "6/6 activate" in result.output and "/t/bistro/set-password/" in result.output
    listed = json.loads(runner.invoke(args=["tenants", "list", "--json"]).output)
    assert listed == [{"slug": "bistro", "name": "Bistro Bar", "status": "active", "plan": "starter",
                       "isolation": "database", "revision": "0001_tenant"}]
    shown = runner.invoke(args=["tenants", "show", "bistro"]).output
    assert "chef@bistro.example.com" in shown and "create_owner" in shown
    health = runner.invoke(args=["tenants", "health", "--json"])
    assert health.exit_code == 0 and json.loads(health.output)[0]["ok"] is True


@pytest.mark.parametrize("args, message", [
    (["tenants", "create", "Bad Slug!", "--name", "x", "--plan", "starter", "--owner-email", "a@b.example.com"], "lowercase"),
    (["tenants", "create", "admin", "--name", "x", "--plan", "starter", "--owner-email", "a@b.example.com"], "reserved"),
    (["tenants", "create", "../../etc", "--name", "x", "--plan", "starter", "--owner-email", "a@b.example.com"], "lowercase"),
    (["tenants", "create", "a" * 300, "--name", "x", "--plan", "starter", "--owner-email", "a@b.example.com"], "30 characters"),
    (["tenants", "create", "okslug", "--name", "x", "--plan", "nope", "--owner-email", "a@b.example.com"], "No plan 'nope'"),
    (["tenants", "create", "okslug", "--name", "x", "--plan", "starter", "--owner-email", "not-an-email"], "valid email"),
    (["tenants", "create", "okslug", "--name", "x", "--plan", "starter", "--owner-email", "a@b.example.com", "--isolation", "cloud"], "Invalid value"),
    (["tenants", "create", "okslug", "--name", "", "--plan", "starter", "--owner-email", "a@b.example.com"], "name"),
    (["tenants", "suspend", "ghost-town", "--reason", "x"], "No tenant"),
    (["tenants", "resume", "ghost-town"], "No tenant"),
    (["tenants", "show", "ghost-town"], "No tenant"),
    (["tenants", "migrate", "--parallel", "0"], "Invalid value"),
])
def test_bad_arguments_fail_cleanly_and_write_nothing(runner, app, backend, args, message):
    make_plan("starter")
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert _tenant_count() == 0


def test_schema_isolation_on_sqlite_is_refused(runner, app, backend):
    make_plan("starter")
    result = runner.invoke(args=["tenants", "create", "okslug", "--name", "x", "--plan", "starter",
                                 "--owner-email", "a@b.example.com", "--isolation", "schema"])
    if backend == "sqlite":
        assert result.exit_code != 0 and "needs PostgreSQL" in result.output
        assert _tenant_count() == 0
    else:
        assert result.exit_code == 0, result.output


def test_admins_create_reads_the_password_from_stdin(runner, app, backend):
    result = runner.invoke(args=["admins", "create", "ops@vendor.example.com", "--role", "support",
                                 "--password-stdin"], input="a fine password\n")
    assert result.exit_code == 0, result.output
    staff = db.session.execute(select(VendorStaff)).scalar_one()
    assert staff.role == "support" and staff.password_hash.startswith("$2")
    again = runner.invoke(args=["admins", "create", "ops@vendor.example.com", "--role", "support",
                                "--password-stdin"], input="a fine password\n")
    assert again.exit_code != 0 and "already" in again.output
    short = runner.invoke(args=["admins", "create", "new@vendor.example.com", "--role", "viewer",
                                "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 8" in short.output
    bad_role = runner.invoke(args=["admins", "create", "x@vendor.example.com", "--role", "god"])
    assert bad_role.exit_code != 0
    assert db.session.execute(select(func.count(VendorStaff.id))).scalar_one() == 1


def test_setup_and_seed_demo_are_idempotent(runner, app, backend):
    assert "already at head" in runner.invoke(args=["setup"]).output
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "tenant acme" in first.output and "admin@tenantry.test" in first.output
    assert "password for every account: tenantry-demo" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "demo data already present" in second.output
    assert _tenant_count() == 3

    # What the demo shows is what the services would have written: the stats agree with the rows.
    from models.tenant import Customer, Order
    from tenancy.context import tenant_context
    from tests.portal.helpers import fresh_rollup, stored_rollup
    for tenant in db.session.execute(select(Tenant)).scalars():
        with tenant_context(tenant) as ctx:
            orders, customers = ctx.session.execute(select(Order)).scalars().all(), \
                ctx.session.execute(select(Customer)).scalars().all()
            assert stored_rollup(ctx.session) == fresh_rollup(tenant.timezone, orders, customers), tenant.slug
            assert all(c.created_at >= tenant.created_at for c in customers)
            joined = {c.id: c.created_at for c in customers}
            assert all(o.customer_id is None or joined[o.customer_id] <= o.created_at for o in orders)
