"""Suspension takes effect on the very next request; resume restores access."""
from __future__ import annotations

from extensions import db
from models.control import AuditEvent, Tenant
from sqlalchemy import select


def test_suspend_shows_the_reason_on_the_next_request_and_resume_restores(client, runner, people, backend, isolation):
    people.alice.sign_in(client)
    assert client.get(f"/t/{people.a.slug}/").status_code == 200

    result = runner.invoke(args=["tenants", "suspend", people.a.slug, "--reason", "Invoice 1042 unpaid"])
    assert result.exit_code == 0, result.output
    page = client.get(f"/t/{people.a.slug}/")
    assert page.status_code == 403
    assert b"suspended" in page.data and b"Invoice 1042 unpaid" in page.data
    api = client.get(f"/t/{people.a.slug}/", headers={"Accept": "application/json"})
    assert api.status_code == 403 and api.get_json()["error"] == "tenant_suspended"
    # Tenant B is untouched.
    people.charlie.sign_in(client)
    assert client.get(f"/t/{people.b.slug}/").status_code == 200

    result = runner.invoke(args=["tenants", "resume", people.a.slug])
    assert result.exit_code == 0, result.output
    # Suspension ended alice's session (DESIGN §7): she signs in again; charlie at B stayed in.
    page = client.get(f"/t/{people.a.slug}/")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert client.get(f"/t/{people.b.slug}/").status_code == 200
    people.alice.sign_in(client)
    assert client.get(f"/t/{people.a.slug}/").status_code == 200
    actions = db.session.execute(select(AuditEvent.action).where(
        AuditEvent.tenant_id == people.a.id)).scalars().all()
    assert "tenant.suspend" in actions and "tenant.resume" in actions


def test_suspend_needs_a_reason_and_writes_nothing_without_one(runner, people, backend, isolation):
    result = runner.invoke(args=["tenants", "suspend", people.a.slug, "--reason", "   "])
    assert result.exit_code != 0 and "Say why" in result.output
    db.session.expire_all()
    assert db.session.get(Tenant, people.a.id).status == "active"


def test_unknown_and_not_ready_tenants(client, app, backend):
    from tests.factories import make_plan
    from services import audit
    from services.tenants import create_tenant
    assert client.get("/t/no-such-shop/").status_code == 404
    assert client.get("/t/NO_SUCH/").status_code == 404
    tenant, _ = create_tenant(slug="halfway", name="Halfway", plan=make_plan(), isolation="shared",
                              owner_email="o@halfway.example.com", actor=audit.SYSTEM,
                              backend=db.engine.dialect.name, main_url=str(db.engine.url))
    db.session.commit()
    page = client.get("/t/halfway/login")
    assert page.status_code == 503 and b"being set up" in page.data
