"""One tenant's database being down fails only that tenant's pages, fast; others keep working."""
from __future__ import annotations

import time

from extensions import db
from models.control import Tenant
from tests.factories import make_staff, make_tenant, make_user, staff_sign_in


def _break_storage(tenant: Tenant, backend: str) -> None:
    if backend == "postgres":
        tenant.db_host = "127.0.0.1:1"  # nothing listens there: connections are refused
    else:
        tenant.db_name = "no-such-folder/gone.db"  # SQLite cannot open it
    db.session.commit()


def test_unreachable_tenant_database_is_a_fast_503_and_others_work(client, app, backend):
    broken = make_tenant("broken-db", isolation="database")
    healthy = make_tenant("healthy-db", isolation="database")
    make_user(healthy, "owner@healthy-db.example.com", "owner")
    make_user(broken, "owner@broken-db.example.com", "owner")
    client.post("/t/broken-db/login", data={"email": "owner@broken-db.example.com",
                                            "password": "correct horse battery"})
    assert client.get("/t/broken-db/").status_code == 200
    _break_storage(broken, backend)

    for _ in range(3):
        started = time.perf_counter()
        response = client.get("/t/broken-db/")
        assert response.status_code == 503
        assert b"cannot be reached" in response.data
        assert time.perf_counter() - started < 1.5
    assert client.get("/t/broken-db/", headers={"Accept": "application/json"}).status_code == 503

    client.post("/t/healthy-db/login", data={"email": "owner@healthy-db.example.com",
                                             "password": "correct horse battery"})
    assert client.get("/t/healthy-db/").status_code == 200
    make_staff()
    staff_sign_in(client)
    assert client.get("/admin/").status_code == 200


def test_health_reports_the_unreachable_tenant(runner, app, backend):
    broken = make_tenant("broken-db", isolation="database")
    make_tenant("fine-shop", isolation="shared")
    _break_storage(broken, backend)
    result = runner.invoke(args=["tenants", "health"])
    assert result.exit_code == 1
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert "UNREACHABLE" in lines["broken-db"] and " ok " in lines["fine-shop"]
    db.session.expire_all()
    assert db.session.get(Tenant, broken.id).health_ok is False
