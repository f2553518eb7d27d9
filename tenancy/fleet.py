"""Work across every tenant's storage: migrations to head (DESIGN §2.5) and health checks.

Targets are the shared tables in the main database (one target for every shared tenant), each
schema and each database. Each target migrates in its own transaction and its revision is recorded
in the control plane as soon as it is done, so an interrupted run resumes where it stopped, and a
target already at head is only read (one query), never written.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import create_engine, select, text, update

from extensions import db
from models.control import Tenant, TenantStatus, utcnow
from tenancy.migrations import TENANT, current_revision, head, upgrade
from tenancy.storage import Storage, StorageTarget, target_for

SHARED = "(shared tables)"


@dataclass
class MigrationOutcome:
    label: str                  # tenant slug, or SHARED
    tenant_ids: list            # tenants whose revision this target carries
    before: str | None = None
    after: str | None = None
    status: str = "pending"     # at_head | upgraded | would_upgrade | failed
    error: str | None = None
    ms: float = 0.0


def _targets(tenants: Iterable[Tenant]) -> tuple[list[Tenant], list[StorageTarget]]:
    shared, own = [], []
    for t in tenants:
        if t.isolation == "shared":
            shared.append(t)
        else:
            own.append(target_for(t))
    return shared, own


def migrate_fleet(storage: Storage, slugs: list[str] | None = None, parallel: int = 4,
                  dry_run: bool = False,
                  on_progress: Callable[[int, int, MigrationOutcome], None] | None = None,
                  ) -> list[MigrationOutcome]:
    """Bring the shared tables, every schema and every database to head."""
    stmt = select(Tenant).where(Tenant.status.not_in(
        [TenantStatus.PROVISIONING.value, TenantStatus.DELETED.value])).order_by(Tenant.slug)
    if slugs:
        stmt = stmt.where(Tenant.slug.in_(slugs))
    tenants = list(db.session.execute(stmt).scalars())
    shared, own = _targets(tenants)
    target_rev = head(TENANT)

    work: list[tuple[MigrationOutcome, StorageTarget | None]] = []
    if shared or not slugs:
        work.append((MigrationOutcome(SHARED, [t.id for t in shared]), None))
    work += [(MigrationOutcome(t.slug, [t.tenant_id]), t) for t in own]

    # Schema targets share the main server: give the run its own pool, sized to the parallelism.
    main_url = storage.main_engine.url
    if storage.backend == "postgresql":
        run_engine = create_engine(main_url, pool_size=max(1, parallel), max_overflow=0)
    else:
        run_engine = storage.main_engine

    def one(item: tuple[MigrationOutcome, StorageTarget | None]) -> MigrationOutcome:
        outcome, target = item
        started = time.perf_counter()
        try:
            engine = run_engine if target is None or target.isolation == "schema" \
                else storage.engines.get(target)
            schema = target.schema if target else None
            with engine.begin() as conn:
                if schema and conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT set_config('search_path', :s, true)"), {"s": schema})
                outcome.before = current_revision(TENANT, conn, schema)
                if outcome.before == target_rev:
                    outcome.status, outcome.after = "at_head", outcome.before
                elif dry_run:
                    outcome.status, outcome.after = "would_upgrade", outcome.before
                else:
                    _, outcome.after = upgrade(TENANT, conn, schema=schema)
                    outcome.status = "upgraded"
        except Exception as exc:  # one broken target must not stop the fleet; it is reported
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
        outcome.ms = (time.perf_counter() - started) * 1000
        return outcome

    results: list[MigrationOutcome] = []
    try:
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            for done, outcome in enumerate(pool.map(one, work), start=1):
                results.append(outcome)
                if outcome.after and not dry_run and outcome.tenant_ids:
                    db.session.execute(update(Tenant).where(Tenant.id.in_(outcome.tenant_ids))
                                       .values(schema_revision=outcome.after, migrated_at=utcnow()))
                    db.session.commit()
                if on_progress:
                    on_progress(done, len(work), outcome)
    finally:
        if run_engine is not storage.main_engine:
            run_engine.dispose()
    return results


@dataclass
class Health:
    slug: str
    ok: bool
    latency_ms: float | None
    revision: str | None
    at_head: bool
    error: str | None = None


def check_health(storage: Storage, tenant: Tenant) -> Health:
    """Reach the tenant's storage, time a round trip, read its revision. Records the result."""
    target = target_for(tenant)
    started = time.perf_counter()
    try:
        engine = storage.engine_for(target)
        with engine.begin() as conn:
            if target.schema and conn.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('search_path', :s, true)"), {"s": target.schema})
            revision = current_revision(TENANT, conn, target.schema)
        health = Health(tenant.slug, True, (time.perf_counter() - started) * 1000, revision,
                        revision == head(TENANT))
    except Exception as exc:  # unreachable storage is the answer, not an error of this check
        if target.isolation == "database":
            storage.engines.mark_down(target)
        health = Health(tenant.slug, False, None, None, False, f"{type(exc).__name__}: {exc}"[:300])
    tenant.health_ok = health.ok
    tenant.health_latency_ms = health.latency_ms
    tenant.health_error = health.error
    tenant.health_checked_at = utcnow()
    return health
