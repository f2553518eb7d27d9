"""`flask bench fleet`: the migration budget of DESIGN §6 — `tenants migrate` over 1,000 schema
tenants already at head in under a minute.

The data set of `bench seed` has 80 schema tenants; this tops the database up to `schemas` schema
tenants (`fleet-0001`…, made the real way: `create_tenant` + `provision`, so each has its own
schema, tables, indexes, policies and version table) and then times `migrate_fleet` over every
target of the database, as `flask tenants migrate` runs it. Run it on a database of its own (README,
Performance) so the 1,000 extra tenants stay out of the data set the other budgets are measured on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, select

from extensions import db
from models.control import Tenant, TenantStatus
from services import audit
from services.errors import ServiceError
from tenancy.context import get_storage
from tenancy.provisioning import provision

PREFIX = "fleet-"


@dataclass
class FleetReport:
    schemas: int            # schema tenants in the database
    created: int            # of them made by this run
    provision_s: float      # time spent provisioning them
    targets: int            # targets `tenants migrate` visited
    at_head: int
    migrate_s: float
    parallel: int


def ensure_schema_tenants(n: int, say: Callable[[str, bool], None]) -> tuple[int, float]:
    """Make schema tenants `fleet-0001`… until the database holds `n` schema tenants (or finish
    provisioning ones a previous run left half-made). Returns (created, seconds)."""
    from services.demo import _ensure_plans
    if db.engine.dialect.name != "postgresql":
        raise ServiceError("bench fleet needs PostgreSQL: schema tenants do not exist on SQLite")
    plans = _ensure_plans()
    db.session.commit()
    have = db.session.execute(select(func.count()).select_from(Tenant).where(
        Tenant.isolation == "schema")).scalar_one()
    unfinished = list(db.session.execute(select(Tenant.id).where(
        Tenant.slug.startswith(PREFIX), Tenant.status.in_(
            [TenantStatus.PROVISIONING.value, TenantStatus.PROVISIONING_FAILED.value]))).scalars())
    existing = set(db.session.execute(select(Tenant.slug).where(Tenant.slug.startswith(PREFIX))).scalars())
    started, created, number = time.perf_counter(), 0, 0
    for tenant_id in unfinished:
        _provision(tenant_id)
    while have + created < n:
        number += 1
        slug = f"{PREFIX}{number:04d}"
        if slug in existing:
            continue
        from services.tenants import create_tenant
        tenant, _token = create_tenant(
            slug=slug, name=f"Fleet {number:04d}", plan=plans["starter"], isolation="schema",
            owner_email=f"owner@{slug}.test", actor=audit.CLI, trial_days=0, backend="postgresql",
            main_url=db.engine.url.render_as_string(hide_password=False))
        db.session.commit()
        _provision(tenant.id)
        created += 1
        say(f"[{have + created}/{n} schema tenants] {created} created, "
            f"{time.perf_counter() - started:.0f} s", False)
    return created, time.perf_counter() - started


def _provision(tenant_id: object) -> None:
    result = provision(tenant_id)
    if not result.ok:
        raise ServiceError(f"provisioning stopped at {result.failed_step}: {result.error}")


def measure_fleet(schemas: int, parallel: int, say: Callable[[str, bool], None]) -> FleetReport:
    from tenancy.fleet import migrate_fleet
    created, provision_s = ensure_schema_tenants(schemas, say)
    have = db.session.execute(select(func.count()).select_from(Tenant).where(
        Tenant.isolation == "schema")).scalar_one()
    say(f"tenants migrate over the fleet (--parallel {parallel})…", True)
    started = time.perf_counter()
    results = migrate_fleet(get_storage(), None, parallel)
    migrate_s = time.perf_counter() - started
    return FleetReport(schemas=have, created=created, provision_s=provision_s, targets=len(results),
                       at_head=sum(r.status == "at_head" for r in results), migrate_s=migrate_s,
                       parallel=parallel)
