"""The audit log: newest first, filters, keyset pages, and an event's before/after difference."""
from __future__ import annotations

import datetime as dt
import re

import psycopg
import pytest

from extensions import db
from models.control import AuditEvent
from services import audit
from services.audit_queries import changes
from tests.admin.helpers import HX, last_event, sign_in_as
from tests.factories import make_tenant


def actions_in(html: bytes) -> list[str]:
    return re.findall(r'<td class="mono">([a-z_.]+)</td>', html.decode())


def test_log_lists_newest_first_and_filters_by_actor_tenant_action_and_date(client, backend) -> None:
    acme = make_tenant("acme")
    make_tenant("globex")
    sign_in_as(client, "support")
    client.post("/admin/tenants/acme/suspend", data={"reason": "unpaid"})
    client.post("/admin/tenants/globex/extend-trial", data={"days": "3"})
    client.post("/admin/tenants/acme/resume")

    page = client.get("/admin/audit")
    assert page.status_code == 200
    listed = actions_in(page.data)
    assert listed[:3] == ["tenant.resume", "tenant.extend_trial", "tenant.suspend"]

    assert actions_in(client.get("/admin/audit?actor=SUPPORT@vendor").data)[:3] == listed[:3]
    assert "tenant.create" not in actions_in(client.get("/admin/audit?actor=support@").data)
    by_tenant = actions_in(client.get("/admin/audit?tenant=acme").data)
    assert "tenant.extend_trial" not in by_tenant and "tenant.suspend" in by_tenant
    assert actions_in(client.get("/admin/audit?action=tenant.suspend").data) == ["tenant.suspend"]
    assert set(actions_in(client.get("/admin/audit?action=tenant.&actor=support").data)) == {
        "tenant.resume", "tenant.extend_trial", "tenant.suspend"}
    today = dt.datetime.now(dt.timezone.utc).date()
    assert len(actions_in(client.get(f"/admin/audit?date_from={today}&date_to={today}").data)) >= 3
    past = today - dt.timedelta(days=30)
    assert actions_in(client.get(f"/admin/audit?date_to={past}").data) == []
    assert b"No events match" in client.get("/admin/audit?tenant=nobody").data
    for bad in ("date_from=yesterday", f"date_from={today}&date_to={past}", "actor=" + "x" * 200, "after=%%%"):
        assert client.get(f"/admin/audit?{bad}").status_code in (400, 422), bad
    fragment = client.get("/admin/audit?tenant=acme", headers=HX)
    assert fragment.data.lstrip().startswith(b'<div id="results">')
    assert acme.id  # the tenant filter resolved the slug


def test_log_pages_with_keyset_cursors(client, backend) -> None:
    for n in range(55):
        audit.record("test.event", audit.SYSTEM, target_label=f"n{n}")
    db.session.commit()
    sign_in_as(client, "viewer")
    first = client.get("/admin/audit?action=test.event").data.decode()
    assert first.count("test.event</td>") == 50
    next_url = re.search(r'href="(/admin/audit\?[^"]*after=[^"]+)" hx-get', first).group(1).replace("&amp;", "&")
    assert "action=test.event" in next_url
    assert client.get(next_url).data.decode().count("test.event</td>") == 5


def test_event_detail_shows_the_before_after_difference(client, backend) -> None:
    make_tenant("acme")
    sign_in_as(client, "owner")
    client.post("/admin/tenants/acme/suspend", data={"reason": "Invoice 7 unpaid"})
    event = last_event("tenant.suspend")
    page = client.get(f"/admin/audit/{event.id}")
    assert page.status_code == 200
    html = page.data.decode()
    assert "What changed" in html and "owner@vendor.example.com" in html and "acme" in html
    assert re.search(r"status</td><td class=\"mono\">active</td><td class=\"mono\">suspended", html)
    assert "Invoice 7 unpaid" in html
    assert client.get("/admin/audit/00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get("/admin/audit/not-a-uuid").status_code == 404


def test_changes_lists_only_keys_that_differ() -> None:
    diff = changes({"status": "active", "reason": None, "same": 1}, {"status": "suspended", "reason": "x",
                                                                    "same": 1, "new": True})
    assert [(c.key, c.before, c.after) for c in diff] == [
        ("status", "active", "suspended"), ("reason", None, "x"), ("new", "—", True)]
    assert changes(None, None) == []


def test_every_console_action_writes_one_audit_row(client, backend) -> None:
    from tests.factories import make_plan
    make_plan("pro")
    make_tenant("acme")
    sign_in_as(client, "owner")
    before = db.session.query(AuditEvent).count()
    for path, data in (("suspend", {"reason": "r"}), ("resume", {}), ("plan", {"plan": "pro"}),
                       ("extend-trial", {"days": "5"}), ("owner-link", {}), ("churn", {})):
        assert client.post(f"/admin/tenants/acme/{path}", data=data).status_code == 303, path
    db.session.expire_all()
    actions = [a for (a,) in db.session.query(AuditEvent.action).order_by(AuditEvent.at).all()]
    assert actions[before:] == ["tenant.suspend", "tenant.resume", "tenant.change_plan",
                                "tenant.extend_trial", "tenant.reissue_owner_link", "tenant.churn"]


@pytest.mark.postgres_only
def test_the_database_refuses_to_change_or_empty_the_audit_trail(app, backend, pg_server) -> None:
    """On PostgreSQL the application role cannot UPDATE, DELETE or TRUNCATE audit rows."""
    audit.record("tenant.suspend", audit.Actor("system", None, "test"), target_label="acme",
                 after={"reason": "x"})
    db.session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    for statement in ("UPDATE audit_events SET action = 'forged'", "DELETE FROM audit_events",
                      "TRUNCATE audit_events"):
        with psycopg.connect(url) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
    assert db.session.query(AuditEvent).filter_by(action="tenant.suspend").count() == 1
