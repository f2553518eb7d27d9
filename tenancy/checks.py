"""Start-up safety checks on the database the app is about to use."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from tenancy.errors import UnsafeDatabaseRole

FIX = ("Connect as a role without them, e.g.\n"
       "  CREATE ROLE tenantry LOGIN CREATEDB PASSWORD '…';\n"
       "  ALTER DATABASE <db> OWNER TO tenantry;\n"
       "and point DATABASE_URL at it. (CREATEDB is needed only for database-mode tenants.)")


def role_problem(dbapi_connection: Any) -> str | None:
    cur = dbapi_connection.cursor()
    try:
        cur.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user")
        user, superuser, bypass = cur.fetchone()
    finally:
        cur.close()
    if superuser or bypass:
        what = "a superuser" if superuser else "allowed to BYPASSRLS"
        return (f"Refusing to run: the PostgreSQL role '{user}' is {what}, so row-level security "
                f"would not keep shared-mode tenants apart. {FIX}")
    return None


def verify_database_role(engine: Engine) -> None:
    """Raise UnsafeDatabaseRole if the app's role would bypass row-level security."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        problem = role_problem(conn.connection.dbapi_connection)
    if problem:
        raise UnsafeDatabaseRole(problem)


def guard_engine(engine: Engine) -> None:
    """Check the role on the engine's first connection: no request, command or worker can use an
    unsafe role, whichever touches the database first."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "first_connect")
    def _check(dbapi_connection: Any, _record: Any) -> None:
        problem = role_problem(dbapi_connection)
        if problem:
            raise UnsafeDatabaseRole(problem)
