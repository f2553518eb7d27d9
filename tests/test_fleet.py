"""`flask tenants migrate` over a mixed fleet: brings every target to head, then does nothing."""
from __future__ import annotations

from sqlalchemy import select, update

from extensions import db
from models.control import Tenant
from tenancy.context import get_storage
from tenancy.migrations import TENANT, current_revision, downgrade, head
from tenancy.storage import target_for
from tests.conftest import MODES
from tests.factories import make_tenant


def _put_behind(tenant: Tenant) -> None:
    """Really take the tenant's own storage back to an empty schema (revision base)."""
    target = target_for(tenant)
    with get_storage().engine_for(target).begin() as conn:
        downgrade(TENANT, conn, schema=target.schema)


def test_migrate_brings_a_mixed_fleet_to_head_and_a_second_run_does_nothing(app, runner, backend):
    modes = [m for m in MODES[backend] if m != "shared"]
    fleet = [make_tenant(f"fleet-{n:02d}", isolation=("shared", *modes)[n % (1 + len(modes))])
             for n in range(30)]
    own_storage = [t for t in fleet if t.isolation != "shared"]
    for tenant in own_storage:
        _put_behind(tenant)
    db.session.execute(update(Tenant).values(schema_revision=None))
    db.session.commit()

    result = runner.invoke(args=["tenants", "migrate", "--parallel", "3"])
    assert result.exit_code == 0, result.output
    assert f"{len(own_storage)} upgraded" in result.output
    assert "1 at head" in result.output  # the shared tables were never taken down

    revisions = set(db.session.execute(select(Tenant.schema_revision)).scalars())
    assert revisions == {head(TENANT)}
    for tenant in own_storage:
        target = target_for(tenant)
        with get_storage().engine_for(target).begin() as conn:
            if target.schema:
                conn.exec_driver_sql(f'SET LOCAL search_path TO "{target.schema}"')
            assert current_revision(TENANT, conn, target.schema) == head(TENANT)

    again = runner.invoke(args=["tenants", "migrate"])
    assert again.exit_code == 0, again.output
    assert f"nothing to do: all {len(own_storage) + 1} targets already at head" in again.output


def test_dry_run_changes_nothing(app, runner, backend):
    tenant = make_tenant("drydock", isolation="database")
    _put_behind(tenant)
    result = runner.invoke(args=["tenants", "migrate", "--dry-run", "drydock"])
    assert result.exit_code == 0, result.output
    assert "drydock: would_upgrade" in result.output
    with get_storage().engine_for(target_for(tenant)).begin() as conn:
        assert current_revision(TENANT, conn) is None


def test_migrate_refuses_unknown_slugs_without_touching_anything(app, runner, backend):
    make_tenant("known-one")
    result = runner.invoke(args=["tenants", "migrate", "known-one", "nobody-here"])
    assert result.exit_code != 0
    assert "no such tenant: nobody-here" in result.output
    bad = runner.invoke(args=["tenants", "migrate", "../etc"])
    assert bad.exit_code != 0 and "not a tenant slug" in bad.output
