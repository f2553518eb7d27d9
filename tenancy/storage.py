"""Where a tenant's rows live, and how to reach them, for the three isolation modes.

shared   — tenant tables in the main database; ORM scoping, plus row-level security on PostgreSQL.
schema   — one PostgreSQL schema per tenant; `search_path` set per transaction (SET LOCAL).
database — one database per tenant: `<main database>__<slug>` on PostgreSQL (optionally on another
           host), or `<TENANT_SQLITE_DIR>/<slug>.db` on SQLite; engines come from a bounded cache.

Every mode runs the same tenant-data migrations and the same ORM code; only the engine and the
per-transaction settings differ (`StorageTarget`).
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from tenancy.errors import TenantStorageUnavailable, UnsupportedIsolation

SCHEMA_PREFIX = "t_"


@dataclass(frozen=True)
class StorageTarget:
    """A tenant's storage, independent of any session (safe to pass to worker threads)."""

    tenant_id: Any
    slug: str
    isolation: str
    db_name: str | None = None
    db_host: str | None = None

    @property
    def schema(self) -> str | None:
        return self.db_name if self.isolation == "schema" else None


def target_for(tenant: Any) -> StorageTarget:
    return StorageTarget(tenant.id, tenant.slug, tenant.isolation, tenant.db_name, tenant.db_host)


def schema_name(slug: str) -> str:
    # Slugs are [a-z0-9-]; schema identifiers get underscores so they never need quoting.
    return SCHEMA_PREFIX + slug.replace("-", "_")


def database_name(main_url: str, slug: str) -> str:
    """`<main database>__<slug>`: recognisable per deployment, no collision between deployments."""
    url = make_url(main_url)
    if url.get_backend_name() == "sqlite":
        return f"{slug}.db"
    return f"{url.database}__{slug.replace('-', '_')}"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def configure_engine(engine: Engine) -> Engine:
    """Per-connection settings every engine of ours gets."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class EngineCache:
    """Bounded LRU of engines for database-mode tenants.

    Each engine has a pool of one connection (plus one overflow that is closed on return), so one
    worker holds at most `main pool (5) + capacity` idle PostgreSQL connections, whatever the tenant
    count. An evicted engine is disposed, closing its connections. A tenant whose database refused a
    connection is remembered as down for a few seconds, so its pages fail fast (503) instead of each
    waiting for a connect timeout.
    """

    DOWN_SECONDS = 5.0

    def __init__(self, main_url: str, sqlite_dir: str, capacity: int) -> None:
        self.main_url = make_url(main_url)
        self.sqlite_dir = Path(sqlite_dir)
        self.capacity = capacity
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def url_for(self, target: StorageTarget) -> Any:
        if self.main_url.get_backend_name() == "sqlite":
            return make_url(f"sqlite:///{self.sqlite_dir / (target.db_name or f'{target.slug}.db')}")
        url = self.main_url.set(database=target.db_name)
        if target.db_host:
            host, _, port = target.db_host.partition(":")
            url = url.set(host=host, port=int(port) if port else url.port)
        return url

    @staticmethod
    def _key(target: StorageTarget) -> str:
        # The location is part of the key: a tenant moved to another host or database gets a new
        # engine at once instead of the cached one for its old place.
        return f"{target.tenant_id}|{target.db_name}|{target.db_host}"

    def get(self, target: StorageTarget) -> Engine:
        key = self._key(target)
        with self._lock:
            down = self._down_until.get(key)
            if down and down > time.monotonic():
                raise TenantStorageUnavailable(target.slug, "database did not answer a moment ago")
            engine = self._engines.get(key)
            if engine is not None:
                self._engines.move_to_end(key)
                return engine
            engine = self._create(target)
            self._engines[key] = engine
            while len(self._engines) > self.capacity:
                _, old = self._engines.popitem(last=False)
                old.dispose()
            return engine

    def _create(self, target: StorageTarget) -> Engine:
        url = self.url_for(target)
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 15, "check_same_thread": False})
        else:
            engine = create_engine(url, pool_size=1, max_overflow=1, pool_timeout=2,
                                   pool_recycle=1800,
                                   connect_args={"connect_timeout": 2, "application_name": "tenantry"})
        return configure_engine(engine)

    def mark_down(self, target: StorageTarget) -> None:
        with self._lock:
            self._down_until[self._key(target)] = time.monotonic() + self.DOWN_SECONDS
            engine = self._engines.pop(self._key(target), None)
        if engine is not None:
            engine.dispose()

    def forget(self, target: StorageTarget) -> None:
        with self._lock:
            engine = self._engines.pop(self._key(target), None)
            self._down_until.pop(self._key(target), None)
        if engine is not None:
            engine.dispose()

    def dispose_all(self) -> None:
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.dispose()

    def __len__(self) -> int:
        return len(self._engines)


class Storage:
    """The app's view of all tenant storage: the main engine plus the database-mode cache."""

    def __init__(self, main_engine: Engine, sqlite_dir: str, capacity: int) -> None:
        self.main_engine = main_engine
        self.backend = main_engine.dialect.name
        self.engines = EngineCache(main_engine.url.render_as_string(hide_password=False),
                                   sqlite_dir, capacity)

    def check_supported(self, isolation: str) -> None:
        if isolation == "schema" and self.backend != "postgresql":
            raise UnsupportedIsolation(
                "schema isolation needs PostgreSQL; on SQLite use 'shared' or 'database'")
        if isolation not in ("shared", "schema", "database"):
            raise UnsupportedIsolation(f"unknown isolation mode {isolation!r}")

    def engine_for(self, target: StorageTarget) -> Engine:
        if target.isolation == "database":
            return self.engines.get(target)
        return self.main_engine

    def create(self, target: StorageTarget) -> None:
        """Create the schema or database if missing (idempotent)."""
        if target.isolation == "schema":
            with self.main_engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{target.db_name}"'))
        elif target.isolation == "database":
            if self.backend == "sqlite":
                self.engines.sqlite_dir.mkdir(parents=True, exist_ok=True)
                return
            self._create_pg_database(target)

    def _create_pg_database(self, target: StorageTarget) -> None:
        admin_url = self.engines.url_for(target).set(database=self.main_engine.url.database)
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool(),
                               connect_args={"connect_timeout": 2})
        try:
            with engine.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                      {"n": target.db_name}).first()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{target.db_name}"'))
        finally:
            engine.dispose()

    def drop(self, target: StorageTarget) -> None:
        """Erase the tenant's storage. Shared mode rows are deleted by the caller."""
        if target.isolation == "schema":
            with self.main_engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{target.db_name}" CASCADE'))
        elif target.isolation == "database":
            self.engines.forget(target)
            if self.backend == "sqlite":
                path = self.engines.sqlite_dir / (target.db_name or "")
                for suffix in ("", "-wal", "-shm"):
                    Path(str(path) + suffix).unlink(missing_ok=True)
                return
            admin_url = self.engines.url_for(target).set(database=self.main_engine.url.database)
            engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=_null_pool())
            try:
                with engine.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{target.db_name}" WITH (FORCE)'))
            finally:
                engine.dispose()


def _null_pool() -> Any:
    from sqlalchemy.pool import NullPool
    return NullPool
