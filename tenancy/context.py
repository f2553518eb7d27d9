"""The tenant context: the only door to tenant-owned data.

    with tenant_context(tenant) as ctx:
        ctx.session.execute(select(Order))      # scoped to `tenant`, in its storage

The same contract holds for web requests (pushed by the portal's `before_request`), CLI commands
and background work. It fails closed, in three layers:

1. Any ORM statement or flush that touches a tenant model in a session with no tenant raises
   `NoTenantContext` — including Flask-SQLAlchemy's `db.session`. It never returns "all rows".
2. Inside a context every ORM SELECT/UPDATE/DELETE gets `tenant_id = :current` added
   (`with_loader_criteria`), and new rows get the context's tenant_id; writing another tenant's
   row raises `CrossTenantWrite`.
3. On PostgreSQL each transaction runs `set_config('app.tenant_id', …, true)` (SET LOCAL) and the
   tenant's `search_path`; shared tables have FORCE ROW LEVEL SECURITY keyed on that setting, so
   even raw SQL sees zero rows when no tenant is set.
"""
from __future__ import annotations

import contextvars
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import Table, event, func, select, text
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql import visitors

from models.tenant import TenantModel
from tenancy.errors import CrossTenantWrite, NoTenantContext
from tenancy.storage import Storage, StorageTarget, target_for

_current: contextvars.ContextVar["TenantContext | None"] = contextvars.ContextVar(
    "tenantry_tenant_context", default=None)


class TenantSession(Session):
    """A session bound to one tenant's storage; `info` carries the tenant id and target."""


@dataclass
class TenantContext:
    tenant: Any  # models.Tenant (control-plane row)
    target: StorageTarget
    session: TenantSession
    _tokens: list[contextvars.Token[Any]] = field(default_factory=list)

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.target.tenant_id

    def push(self) -> "TenantContext":
        self._tokens.append(_current.set(self))
        return self

    def pop(self) -> None:
        self.session.close()
        _current.reset(self._tokens.pop())


def get_storage() -> Storage:
    """The app's Storage, made on first use (it needs the engine, which needs an app context)."""
    storage = current_app.extensions.get("tenantry_storage")
    if storage is None:
        from extensions import db
        storage = Storage(db.engine, current_app.config["TENANT_SQLITE_DIR"],
                          current_app.config["TENANT_ENGINE_CACHE"])
        current_app.extensions["tenantry_storage"] = storage
    return storage


def open_tenant_context(tenant: Any) -> TenantContext:
    """Make (but do not enter) a context for `tenant`; `push()`/`pop()` it, or use `tenant_context`."""
    target = target_for(tenant)
    engine = get_storage().engine_for(target)
    session = TenantSession(bind=engine, expire_on_commit=False,
                            info={"tenant_id": target.tenant_id, "target": target})
    return TenantContext(tenant=tenant, target=target, session=session)


@contextmanager
def tenant_context(tenant: Any) -> Iterator[TenantContext]:
    ctx = open_tenant_context(tenant).push()
    try:
        yield ctx
    finally:
        ctx.pop()


def current_context() -> TenantContext:
    ctx = _current.get()
    if ctx is None:
        raise NoTenantContext("tenant-owned data used outside a tenant context")
    return ctx


def has_context() -> bool:
    return _current.get() is not None


def tenant_db() -> TenantSession:
    """The current tenant's session. Raises NoTenantContext outside a context."""
    return current_context().session


def current_tenant() -> Any:
    return current_context().tenant


# --- fail-closed guards, on every Session (TenantSession and Flask-SQLAlchemy's alike) ----------

def _is_tenant_mapper(mapper: Any) -> bool:
    return issubclass(mapper.class_, TenantModel)


def _references_tenant_table(statement: Any) -> bool:
    return any(isinstance(element, Table) and element.metadata is TenantModel.metadata
               for element in visitors.iterate(statement))


def capped_count(session: Session, stmt: Any, cap: int) -> int:
    """How many rows `stmt` (a select of tenant rows) returns, counting at most `cap` + 1 — in SQL,
    so "10,000+" costs one index range scan, not 10,001 rows shipped to Python.

    The count wraps `stmt` in a subquery, which the ORM criteria cannot reach; so the tenant filter
    is added here, in the tenancy layer, from the session's own tenant (and RLS still applies).
    """
    tenant_id = session.info.get("tenant_id")
    if tenant_id is None:
        raise NoTenantContext("capped_count needs a tenant context")
    entity = stmt.column_descriptions[0]["entity"]
    if entity is None or not issubclass(entity, TenantModel):
        raise TypeError("capped_count counts selects of a tenant model")
    inner = stmt.where(entity.tenant_id == tenant_id).limit(cap + 1).subquery()
    count = select(func.count()).select_from(inner).execution_options(tenantry_scoped=True)
    return int(session.execute(count).scalar_one())


@event.listens_for(Session, "do_orm_execute")
def _scope_tenant_statements(state: ORMExecuteState) -> None:
    if state.execution_options.get("tenantry_scoped"):
        return  # built by capped_count above, with the tenant filter inside
    if not any(_is_tenant_mapper(m) for m in state.all_mappers):
        # A tenant table reached without a tenant entity in the columns (e.g.
        # `select(func.count()).select_from(Order)`) would get no tenant criteria: refuse it.
        if state.is_select or state.is_update or state.is_delete:
            if _references_tenant_table(state.statement):
                raise NoTenantContext(
                    "statement reads a tenant table without a tenant entity to scope; select a "
                    "column of it instead, e.g. select(func.count(Order.id))")
        return
    tenant_id = state.session.info.get("tenant_id")
    if tenant_id is None:
        raise NoTenantContext("tenant-owned model queried outside a tenant context")
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(with_loader_criteria(
            TenantModel, lambda cls: cls.tenant_id == tenant_id, include_aliases=True))


@event.listens_for(Session, "before_flush")
def _check_tenant_writes(session: Session, _flush: Any, _instances: Any) -> None:
    tenant_id = session.info.get("tenant_id")
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, TenantModel):
            continue
        if tenant_id is None:
            raise NoTenantContext(f"{type(obj).__name__} written outside a tenant context")
        if obj.tenant_id is None and obj in session.new:
            obj.tenant_id = tenant_id
        elif obj.tenant_id != tenant_id:
            raise CrossTenantWrite(f"{type(obj).__name__} of another tenant written in this context")


@event.listens_for(TenantSession, "after_begin")
def _bind_transaction(session: Session, _transaction: Any, connection: Any) -> None:
    if connection.dialect.name != "postgresql":
        return
    target: StorageTarget = session.info["target"]
    connection.execute(
        text("SELECT set_config('app.tenant_id', :tenant_id, true), "
             "set_config('search_path', :search_path, true)"),
        {"tenant_id": str(target.tenant_id), "search_path": target.schema or "public"})
