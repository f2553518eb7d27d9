"""The provisioning pipeline: every mode succeeds; a failure is recorded and retry resumes."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select

from extensions import db
from models.control import ProvisioningStep, Tenant
from models.tenant import Counter, TenantUser
from services import audit
from services.tenants import create_tenant
from tenancy.context import tenant_context
from tenancy.migrations import TENANT, head
from tenancy.provisioning import provision
from tests.conftest import _pg_conninfo
from tests.factories import make_plan


def _reserve(slug: str, isolation: str) -> Tenant:
    tenant, token = create_tenant(slug=slug, name="Bistro", plan=make_plan(), isolation=isolation,
                                  owner_email="owner@bistro.example.com", actor=audit.SYSTEM,
                                  backend=db.engine.dialect.name, trial_days=0,
                                  main_url=db.engine.url.render_as_string(hide_password=False))
    db.session.commit()
    assert token and tenant.owner_invite_hash
    return tenant


def _steps(tenant: Tenant) -> dict[str, ProvisioningStep]:
    return {s.step: s for s in db.session.execute(
        select(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id)).scalars()}


def test_each_mode_provisions_to_active_with_recorded_steps(app, backend, isolation):
    tenant = _reserve("bistro", isolation)
    result = provision(tenant.id)
    assert result.ok, result.error
    tenant = db.session.get(Tenant, tenant.id)
    assert tenant.status == "active"
    assert tenant.schema_revision == head(TENANT)
    steps = _steps(tenant)
    assert [s for s in steps.values() if s.status != "done"] == []
    assert all(s.started_at and s.finished_at and s.attempts == 1 for s in steps.values())
    with tenant_context(tenant) as ctx:
        owner = ctx.session.execute(select(TenantUser)).scalars().one()
        assert owner.email == "owner@bistro.example.com" and owner.role == "owner"
        assert owner.set_password_token_hash  # the one-time link works until used


def _conflict(app, backend: str, tenant: Tenant) -> callable:
    """Put a table named `orders` where the tenant's tables will go, so 'migrate' fails for real.
    Returns a function that removes it."""
    if backend == "sqlite":
        path = Path(app.config["TENANT_SQLITE_DIR"]) / tenant.db_name
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE orders (broken INTEGER)")
        return lambda: sqlite3.connect(path).execute("DROP TABLE orders").connection.commit()
    if tenant.isolation == "schema":
        target_db, ddl = app.config["SQLALCHEMY_DATABASE_URI"].rsplit("/", 1)[1], \
            f'CREATE SCHEMA "{tenant.db_name}" AUTHORIZATION "{db.engine.url.username}"; CREATE TABLE "{tenant.db_name}".orders (broken int)'
        drop = f'DROP TABLE "{tenant.db_name}".orders'
    else:
        role = db.engine.url.username
        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{tenant.db_name}" OWNER "{role}"')
        target_db, ddl, drop = tenant.db_name, "CREATE TABLE orders (broken int)", "DROP TABLE orders"
    with psycopg.connect(_pg_conninfo(target_db), autocommit=True) as conn:
        conn.execute(ddl)

    def undo() -> None:
        with psycopg.connect(_pg_conninfo(target_db), autocommit=True) as conn:
            conn.execute(drop)
    return undo


@pytest.mark.parametrize("mode", ["schema", "database"])
def test_failure_at_migrate_is_recorded_and_retry_completes_once(app, backend, mode):
    if mode == "schema" and backend == "sqlite":
        mode = "database"  # schema mode does not exist on SQLite; its refusal is tested below
    tenant = _reserve("bistro", mode)
    undo = _conflict(app, backend, tenant)

    result = provision(tenant.id)
    assert not result.ok and result.failed_step == "migrate"
    tenant = db.session.get(Tenant, tenant.id)
    assert tenant.status == "provisioning_failed"
    assert "migrate failed" in tenant.status_reason
    steps = _steps(tenant)
    assert steps["create_storage"].status == "done"
    assert steps["migrate"].status == "failed" and "orders" in steps["migrate"].error
    assert steps["create_owner"].status == "pending"

    undo()
    result = provision(tenant.id)
    assert result.ok, result.error
    tenant = db.session.get(Tenant, tenant.id)
    steps = _steps(tenant)
    assert tenant.status == "active"
    assert steps["migrate"].attempts == 2 and steps["create_storage"].attempts == 1
    with tenant_context(tenant) as ctx:
        assert ctx.session.execute(select(func.count(TenantUser.id))).scalar() == 1
        assert ctx.session.execute(select(func.count(Counter.name))).scalar() == 1
    assert provision(tenant.id).ok  # a third run changes nothing
    assert _steps(tenant)["migrate"].attempts == 2


def test_schema_mode_is_refused_on_sqlite_and_accepted_on_postgres(app, backend):
    from services.errors import ValidationFailed
    if backend == "sqlite":
        with pytest.raises(ValidationFailed, match="Schema isolation needs PostgreSQL"):
            _reserve("bistro", "schema")
        db.session.rollback()
        assert db.session.execute(select(func.count()).select_from(Tenant)).scalar() == 0
    else:
        assert _reserve("bistro", "schema").db_name == "t_bistro"
