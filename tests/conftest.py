"""Real-database fixtures.

Every test that asks for `backend` runs on SQLite and on PostgreSQL; one that also asks for
`isolation` runs on every mode its backend supports (schema mode only on PostgreSQL). PostgreSQL
tests connect as a non-superuser role made for the run (superusers would bypass row-level
security), on databases made for the run and dropped after it.

PostgreSQL: TEST_DATABASE_URL (a superuser URL), else postgresql://postgres@127.0.0.1:5432/postgres.
If it does not answer, PostgreSQL tests are skipped — or fail, with REQUIRE_POSTGRES=1 (CI).
"""
from __future__ import annotations

import contextvars
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask.testing import FlaskCliRunner, FlaskClient

os.environ["TENANTRY_ENV"] = "test"
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)

import psycopg  # noqa: E402
from sqlalchemy import make_url  # noqa: E402

from config import engine_options  # noqa: E402

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
PG_ADMIN_URL = os.environ.get("TEST_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = f"tenantry_test_{os.getpid()}_{WORKER}"
PG_ROLE = f"tenantry_app_{os.getpid()}_{WORKER}"
BACKENDS = ("sqlite", "postgres")
MODES = {"sqlite": ("shared", "database"), "postgres": ("shared", "schema", "database")}


def _pg_conninfo(database: str | None = None) -> str:
    url = make_url(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"))
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(_pg_conninfo(), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


_PG_PROBLEM = _pg_reachable()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _PG_PROBLEM is None:
        return
    if os.environ.get("REQUIRE_POSTGRES") == "1":
        raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {_PG_PROBLEM}")
    skip = pytest.mark.skip(reason=f"PostgreSQL not reachable ({_PG_PROBLEM})")
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        if params.get("backend") == "postgres" or item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    names = metafunc.fixturenames
    only_pg = metafunc.definition.get_closest_marker("postgres_only") is not None
    only_sqlite = metafunc.definition.get_closest_marker("sqlite_only") is not None
    backends = ("postgres",) if only_pg else ("sqlite",) if only_sqlite else BACKENDS
    only_modes = metafunc.definition.get_closest_marker("modes")
    if "backend" in names and "isolation" in names:
        combos = [(b, m) for b in backends for m in MODES[b]
                  if only_modes is None or m in only_modes.args]
        metafunc.parametrize(("backend", "isolation"), combos, indirect=["backend"],
                             ids=[f"{b}-{m}" for b, m in combos])
    elif "backend" in names:
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[dict[str, str]]:
    """A database and a non-superuser role (CREATEDB for database-mode tenants) for this run."""
    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        conn.execute(f'DROP ROLE IF EXISTS "{PG_ROLE}"')
        conn.execute(f'CREATE ROLE "{PG_ROLE}" LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS')
        conn.execute(f'CREATE DATABASE "{PG_DB}" OWNER "{PG_ROLE}"')
    admin = make_url(_pg_conninfo())
    app_url = admin.set(drivername="postgresql+psycopg", username=PG_ROLE, password=None,
                        database=PG_DB).render_as_string(hide_password=False)
    _migrate(app_url)
    try:
        yield {"app_url": app_url, "db": PG_DB, "role": PG_ROLE}
    finally:
        with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
            dbs = [r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", (PG_DB + "%",))]
            for name in dbs:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{PG_ROLE}"')


def _migrate(url: str) -> None:
    from app import create_app
    from tenancy.cli import setup_database
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url)})
    with app.app_context():
        setup_database()
        from extensions import db
        db.engine.dispose()


def _pg_reset() -> None:
    """Empty every table, drop tenant schemas and databases: the next test starts clean."""
    with psycopg.connect(_pg_conninfo(PG_DB), autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('alembic_version', 'tenant_alembic_version')")]
        # The audit table refuses TRUNCATE by trigger; a superuser in replica mode skips triggers.
        conn.execute("SET session_replication_role = replica")
        # A connection a failed test left in a transaction would make TRUNCATE wait for ever.
        conn.execute("SET lock_timeout = '20s'")
        conn.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")
        conn.execute("SET session_replication_role = DEFAULT")
        # Put back the reference rows the migrations seed, as a fresh database would have them.
        for key, description in _migration_seed_flags():
            conn.execute("INSERT INTO feature_flags (key, description, \"default\", rollout_percent, "
                         "archived, version, created_at, updated_at) "
                         "VALUES (%s, %s, false, 0, false, 1, now(), now())", (key, description))
        for (schema,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 't\\_%'").fetchall():
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    with psycopg.connect(_pg_conninfo(), autocommit=True) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                    (PG_DB + "\\_\\_%",)).fetchall():
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def _migration_seed_flags() -> list[tuple[str, str]]:
    import importlib.util
    path = Path(__file__).parent.parent / "migrations/control/versions/0002_feature_flags.py"
    spec = importlib.util.spec_from_file_location("seed_flags_revision", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return list(module.SEED)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tenantry.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "postgres":
        server = request.getfixturevalue("pg_server")
        yield server["app_url"]
        _pg_reset()
    else:
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "tenantry.db"
        shutil.copy(template, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from app import create_app
    monkeypatch.setenv("TENANTRY_INSTANCE_PATH", str(tmp_path / "instance"))
    application = create_app({
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "TENANT_SQLITE_DIR": str(tmp_path / "tenants"),
        "WTF_CSRF_ENABLED": False,
        "TENANTRY_BASE_DOMAIN": "tenantry.test",
    })
    ctx = application.app_context()
    ctx.push()
    try:
        yield application
    finally:
        from extensions import db
        db.session.remove()
        storage = application.extensions.get("tenantry_storage")
        if storage is not None:
            storage.engines.dispose_all()
        db.engine.dispose()
        ctx.pop()


class FreshContextClient(FlaskClient):
    """Each request runs in an empty contextvars.Context, as on a real server.

    Tests keep an app context pushed to use the database directly; Flask would reuse that context
    for requests, sharing `g` (and the signed-in user cached on it) between requests.
    A streamed body (stream_with_context) is read inside that same Context, as a server reads it
    in the request's thread: `buffered=True` unless a test asks otherwise.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


class FreshContextRunner(FlaskCliRunner):
    def invoke(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        return contextvars.Context().run(super().invoke, *args, **kwargs)


@pytest.fixture
def client(app: Any) -> Any:
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app: Any) -> Any:
    return FreshContextRunner(app)


@pytest.fixture
def people(app: Any, isolation: str) -> Any:
    """alice owns tenant A, bob is staff in A, charlie owns tenant B (each in `isolation` mode)."""
    from tests.factories import three_people
    return three_people(isolation)


def unique_slug(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
