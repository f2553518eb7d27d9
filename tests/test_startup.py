"""On PostgreSQL the app refuses a role that would bypass row-level security."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import make_url

from config import engine_options
from tenancy.checks import verify_database_role
from tenancy.errors import UnsafeDatabaseRole
from tests.conftest import _pg_conninfo


def _app_for(url: str, tmp_path):
    from app import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
                       "TENANT_SQLITE_DIR": str(tmp_path)})


@pytest.mark.postgres_only
@pytest.mark.parametrize("attribute", ["SUPERUSER", "BYPASSRLS"])
def test_role_that_bypasses_rls_is_refused(pg_server, tmp_path, attribute):
    role = f"unsafe_{attribute.lower()}_{pg_server['role'][-12:]}"
    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')
        conn.execute(f'CREATE ROLE "{role}" LOGIN {attribute}')
    try:
        url = make_url(pg_server["app_url"]).set(username=role).render_as_string(hide_password=False)
        app = _app_for(url, tmp_path)
        with app.app_context():
            from extensions import db
            with pytest.raises(UnsafeDatabaseRole, match="row-level security"):
                verify_database_role(db.engine)
            result = app.test_cli_runner().invoke(args=["tenants", "list"])
            assert result.exit_code == 1
            assert "row-level security" in result.output and "Traceback" not in result.output
            response = app.test_client().get("/t/acme/")
            assert response.status_code >= 500 and b"acme" not in response.data.lower()
            db.engine.dispose()
    finally:
        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.mark.postgres_only
def test_the_application_role_is_accepted(pg_server, tmp_path):
    app = _app_for(pg_server["app_url"], tmp_path)
    with app.app_context():
        from extensions import db
        verify_database_role(db.engine)
        db.engine.dispose()
