"""Alembic, driven from code, for two separate tracks:

control — the control plane (plans, tenants, staff, audit), in the main database only.
tenant  — tenant-data tables, applied to every target: the shared tables in the main database,
          each tenant schema (search_path set to it) and each tenant database.

Each target keeps its own version table (`tenant_alembic_version`, inside the schema for schema
mode), so a target's revision is read in one query and targets already at head are skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, MetaData, text

ROOT = Path(__file__).resolve().parent.parent / "migrations"


@dataclass(frozen=True)
class Track:
    name: str
    version_table: str

    @property
    def location(self) -> Path:
        return ROOT / self.name

    def metadata(self) -> MetaData:
        if self.name == "control":
            from extensions import db
            import models  # noqa: F401  (registers the mapped classes)
            return db.metadata
        from models.tenant import TenantModel
        return TenantModel.metadata


CONTROL = Track("control", "alembic_version")
TENANT = Track("tenant", "tenant_alembic_version")
TRACKS = {"control": CONTROL, "tenant": TENANT}


@lru_cache(maxsize=None)
def _script(track: Track) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(track))


def alembic_config(track: Track) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(track.location))
    cfg.attributes["track"] = track.name
    return cfg


def head(track: Track) -> str:
    rev = _script(track).get_current_head()
    assert rev is not None, f"no revisions in {track.location}"
    return rev


def _set_schema(connection: Connection, schema: str | None) -> None:
    if schema and connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('search_path', :s, true)"), {"s": schema})


def _begin_sqlite_ddl_transaction(connection: Connection) -> None:
    """pysqlite only opens transactions before DML, so CREATE TABLE would autocommit and a failed
    revision would leave half its tables behind. An explicit BEGIN makes the whole upgrade roll back
    together (the caller's commit/rollback ends it)."""
    if connection.dialect.name != "sqlite":
        return
    dbapi = connection.connection.dbapi_connection
    if not dbapi.in_transaction:  # type: ignore[union-attr]
        connection.exec_driver_sql("BEGIN")


def current_revision(track: Track, connection: Connection, schema: str | None = None) -> str | None:
    ctx = MigrationContext.configure(connection, opts={
        "version_table": track.version_table, "version_table_schema": schema})
    return ctx.get_current_revision()


def _run(track: Track, connection: Connection, schema: str | None, revision: str,
         direction: str) -> None:
    """Run the track's revisions up or down to `revision` inside the caller's transaction."""
    script = _script(track)

    def steps(rev: Any, _context: Any) -> Any:
        if direction == "up":
            return script._upgrade_revs(revision, rev)
        return script._downgrade_revs(revision, rev)

    env = EnvironmentContext(alembic_config(track), script, fn=steps, destination_rev=revision)
    env.configure(connection=connection, target_metadata=track.metadata(),
                  version_table=track.version_table, version_table_schema=schema,
                  transaction_per_migration=False)
    with env.begin_transaction():
        env.run_migrations()


def upgrade(track: Track, connection: Connection, schema: str | None = None,
            revision: str = "head") -> tuple[str | None, str]:
    """Bring one target to `revision` inside the caller's transaction. Returns (before, after)."""
    _set_schema(connection, schema)
    _begin_sqlite_ddl_transaction(connection)
    before = current_revision(track, connection, schema)
    _run(track, connection, schema, revision, "up")
    return before, head(track) if revision == "head" else revision


def downgrade(track: Track, connection: Connection, schema: str | None = None,
              revision: str = "base") -> None:
    """Take one target down to `revision` (tests use it to put a fleet behind head)."""
    _set_schema(connection, schema)
    _begin_sqlite_ddl_transaction(connection)
    _run(track, connection, schema, revision, "down")
