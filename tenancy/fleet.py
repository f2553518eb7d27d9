"""Work across every tenant's storage: migrations to head (DESIGN §2.5) and health checks.

Targets are the shared tables in the main database (one target for every shared tenant), each
schema and each database. Each target migrates in its own transaction and its revision is recorded
in the control plane as soon as it is done, so an interrupted run resumes where it stopped, and a
target already at head is only read, never written: the schemas of the whole fleet in one read
(`schema_revisions`), the shared tables and each database with one connection each.
"""
from __future__ import annotations

import time
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import Engine, create_engine, select, text, update

from extensions import db
from models.control import Tenant, TenantStatus, utcnow
from tenancy.migrations import TENANT, current_revision, head, upgrade
from tenancy.storage import Storage, StorageTarget, configure_engine, target_for

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


def _engine(url: str) -> Engine:
    """One engine per URL per process (worker processes reuse theirs across targets)."""
    engine = _ENGINES.get(url)
    if engine is None:
        from sqlalchemy.pool import NullPool
        engine = configure_engine(create_engine(url, poolclass=NullPool))
        _ENGINES[url] = engine
    return engine


_ENGINES: dict[str, Engine] = {}


def _forget_inherited_engines() -> None:
    # A forked worker must not share the parent's pooled connections.
    for engine in _ENGINES.values():
        engine.dispose(close=False)
    _ENGINES.clear()


def migrate_target(outcome: MigrationOutcome, url: str, schema: str | None, target_rev: str,
                   dry_run: bool) -> MigrationOutcome:
    """Check one target and upgrade it if it is behind. Runs in a worker process."""
    started = time.perf_counter()
    try:
        with _engine(url).begin() as conn:
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


def schema_revisions(engine: Engine, schemas: list[str], chunk: int = 500) -> dict[str, str]:
    """The tenant revision of each schema that has exactly one, read for the whole fleet at once:
    one catalog query, then one UNION ALL over the version tables per `chunk` schemas — instead
    of a connection and two queries per schema (what checking a 1,000-schema fleet cost)."""
    if not schemas or engine.dialect.name != "postgresql":
        return {}
    found: dict[str, list[str]] = {}
    with engine.connect() as conn:
        present = list(conn.execute(text(
            "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = :table AND c.relkind = 'r' AND n.nspname = ANY(:schemas)"),
            {"table": TENANT.version_table, "schemas": list(schemas)}).scalars())
        quote = conn.dialect.identifier_preparer.quote
        for start in range(0, len(present), chunk):
            part = present[start:start + chunk]
            sql = " UNION ALL ".join(
                f"SELECT CAST(:s{i} AS text) AS schema, version_num FROM {quote(name)}.{quote(TENANT.version_table)}"
                for i, name in enumerate(part))
            for schema, version in conn.execute(text(sql), {f"s{i}": name for i, name in enumerate(part)}):
                found.setdefault(schema, []).append(version)
        conn.rollback()
    return {schema: versions[0] for schema, versions in found.items() if len(versions) == 1}


def migrate_fleet(storage: Storage, slugs: list[str] | None = None, parallel: int = 4,
                  dry_run: bool = False,
                  on_progress: Callable[[int, int, MigrationOutcome], None] | None = None,
                  ) -> list[MigrationOutcome]:
    """Bring the shared tables, every schema and every database to head.

    Targets run in `parallel` worker processes (Alembic keeps per-run state in module globals, so
    threads cannot run two migrations at once, and processes also spread the Python work over
    cores). Each target's revision is recorded in the control plane as soon as it is known.
    """
    stmt = select(Tenant).where(Tenant.status.not_in(
        [TenantStatus.PROVISIONING.value, TenantStatus.DELETED.value])).order_by(Tenant.slug)
    if slugs:
        stmt = stmt.where(Tenant.slug.in_(slugs))
    tenants = list(db.session.execute(stmt).scalars())
    shared, own = _targets(tenants)
    target_rev = head(TENANT)
    main_url = storage.main_engine.url.render_as_string(hide_password=False)
    recorded = {t.id: t.schema_revision for t in tenants}
    # Schemas already at head are known from one read of the whole fleet; only the others (and
    # the shared tables, and each database) are visited one by one.
    at_head = {schema for schema, rev in schema_revisions(
        storage.main_engine, [t.schema for t in own if t.schema]).items() if rev == target_rev}

    known: list[MigrationOutcome] = []
    work: list[tuple[MigrationOutcome, str, str | None]] = []
    if shared or not slugs:
        work.append((MigrationOutcome(SHARED, [t.id for t in shared]), main_url, None))
    for target in own:
        if target.schema in at_head:
            known.append(MigrationOutcome(target.slug, [target.tenant_id], target_rev, target_rev, "at_head"))
            continue
        url = main_url if target.isolation == "schema" else \
            storage.engines.url_for(target).render_as_string(hide_password=False)
        work.append((MigrationOutcome(target.slug, [target.tenant_id]), url, target.schema))
    total = len(known) + len(work)

    def record(done: int, outcome: MigrationOutcome, commit: bool = True) -> None:
        results.append(outcome)
        stale = [i for i in outcome.tenant_ids if recorded.get(i) != outcome.after]
        if outcome.after and not dry_run and stale:  # a revision already recorded is not rewritten
            db.session.execute(update(Tenant).where(Tenant.id.in_(stale))
                               .values(schema_revision=outcome.after, migrated_at=utcnow()))
            if commit:
                db.session.commit()
        if on_progress:
            on_progress(done, total, outcome)

    results: list[MigrationOutcome] = []
    for done, outcome in enumerate(known, start=1):
        record(done, outcome, commit=False)
    db.session.commit()
    if parallel <= 1 or len(work) <= 1:
        for done, (outcome, url, schema) in enumerate(work, start=len(known) + 1):
            record(done, migrate_target(outcome, url, schema, target_rev, dry_run))
        return results
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(parallel, len(work)), mp_context=context,
                             initializer=_forget_inherited_engines) as pool:
        futures = [pool.submit(migrate_target, outcome, url, schema, target_rev, dry_run)
                   for outcome, url, schema in work]
        for done, future in enumerate(as_completed(futures), start=len(known) + 1):
            record(done, future.result())
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
