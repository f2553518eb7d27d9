"""The tenant page and its actions: each one audited, refusals explained, nothing over GET."""
from __future__ import annotations

import re

from extensions import db
from tests.admin.helpers import actions_for, last_event, sign_in_as, tenant_row
from tests.factories import make_plan, make_tenant, make_user
from tests.querycount import count_queries


def test_detail_shows_every_section_in_a_bounded_number_of_queries(client, backend) -> None:
    make_tenant("acme")
    sign_in_as(client, "owner")
    with count_queries() as queries:
        page = client.get("/admin/tenants/acme")
    assert page.status_code == 200
    for text in (b"Overview", b"Subscription", b"Usage", b"Health", b"Provisioning", b"Audit timeline",
                 b"owner@acme.example.com", b"Create storage", b"tenant.create", b"/t/acme/",
                 b"Re-issue owner", b"Mark churned", b"Change plan", b"Extend trial"):
        assert text in page.data, text
    assert len(queries) <= 12, queries.statements
    assert client.get("/admin/tenants/nope").status_code == 404
    assert client.get("/admin/tenants/..%2Fetc").status_code == 404


def test_suspend_shows_the_suspended_page_with_the_reason_on_the_tenants_next_request(client, backend) -> None:
    tenant = make_tenant("acme", owner_email="alice@example.com")
    make_user(tenant, "alice@example.com", "owner")
    tenant_client = client.application.test_client()
    tenant_client.post("/t/acme/login", data={"email": "alice@example.com", "password": "correct horse battery"})
    assert tenant_client.get("/t/acme/").status_code == 200

    sign_in_as(client, "support")
    response = client.post("/admin/tenants/acme/suspend", data={"reason": "Invoice 1042 unpaid"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/tenants/acme")
    assert b"is suspended" in client.get("/admin/tenants/acme").data
    page = tenant_client.get("/t/acme/")
    assert page.status_code == 403 and b"Invoice 1042 unpaid" in page.data
    event = last_event("tenant.suspend")
    assert event.tenant_id == tenant.id and event.actor_label == "support@vendor.example.com"
    assert event.before["status"] == "active" and event.after == {"status": "suspended", "reason": "Invoice 1042 unpaid"}

    assert client.post("/admin/tenants/acme/resume").status_code == 303
    # The suspension ended alice's session; after the resume she signs in again and is back.
    assert tenant_client.get("/t/acme/").status_code == 302
    tenant_client.post("/t/acme/login", data={"email": "alice@example.com", "password": "correct horse battery"})
    assert tenant_client.get("/t/acme/").status_code == 200
    assert actions_for(tenant.id)[-3:] == ["tenant.suspend", "tenant.resume", "tenant_user.sign_in"]


def test_suspend_without_a_reason_is_refused_and_writes_nothing(client, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "owner")
    response = client.post("/admin/tenants/acme/suspend", data={"reason": "   "})
    assert response.status_code == 422 and b"Say why" in response.data
    assert tenant_row("acme").status == "active"
    assert "tenant.suspend" not in actions_for(tenant.id)
    assert client.get("/admin/tenants/acme/suspend").status_code == 405  # no state change over GET


def test_change_plan_is_refused_with_the_reason_when_usage_exceeds_the_new_limits(client, backend) -> None:
    make_plan("tiny", max_customers=10, max_users=5)
    tenant = make_tenant("acme")
    tenant.usage_customers = 25
    db.session.commit()
    sign_in_as(client, "admin")
    refused = client.post("/admin/tenants/acme/plan", data={"plan": "tiny"})
    assert refused.status_code == 422
    assert b"25 customers (the plan allows 10)" in refused.data
    assert tenant_row("acme").plan.slug == "basic"
    assert "tenant.change_plan" not in actions_for(tenant.id)

    tenant = tenant_row("acme")
    tenant.usage_customers = 10  # at the limit is allowed; over it is not
    db.session.commit()
    assert client.post("/admin/tenants/acme/plan", data={"plan": "tiny"}).status_code == 303
    assert tenant_row("acme").plan.slug == "tiny"
    event = last_event("tenant.change_plan")
    assert event.before == {"plan": "basic"} and event.after == {"plan": "tiny"}
    assert client.post("/admin/tenants/acme/plan", data={"plan": "no-such"}).status_code == 422


def test_extend_trial_accepts_1_to_90_days(client, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "support")
    for bad in ("0", "91", "-3", "abc", ""):
        assert client.post("/admin/tenants/acme/extend-trial", data={"days": bad}).status_code == 422, bad
    assert tenant_row("acme").trial_ends_at is None
    assert client.post("/admin/tenants/acme/extend-trial", data={"days": "30"}).status_code == 303
    first_end = tenant_row("acme").trial_ends_at
    assert client.post("/admin/tenants/acme/extend-trial", data={"days": "1"}).status_code == 303
    assert (tenant_row("acme").trial_ends_at - first_end).days == 1
    assert actions_for(tenant.id).count("tenant.extend_trial") == 2


def test_mark_churned_and_check_health(client, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "owner")
    assert client.post("/admin/tenants/acme/check-health").status_code == 303
    row = tenant_row("acme")
    assert row.health_ok is True and row.health_checked_at is not None
    assert client.post("/admin/tenants/acme/churn").status_code == 303
    assert tenant_row("acme").status == "churned"
    again = client.post("/admin/tenants/acme/churn")
    assert again.status_code == 400 and b"can churn" in again.data
    assert "tenant.churn" in actions_for(tenant.id)


def test_reissued_owner_link_is_shown_once_and_works(client, backend) -> None:
    tenant = make_tenant("acme")
    sign_in_as(client, "owner")
    response = client.post("/admin/tenants/acme/owner-link")
    assert response.status_code == 303
    page = client.get("/admin/tenants/acme").data.decode()
    assert "/t/acme/set-password/" in page
    assert 'id="owner-link-card"' in page  # in a copyable box, not a fading flash
    link = re.split(r'[<" ]', page.split("/t/acme/set-password/")[1])[0]
    assert "/t/acme/set-password/" not in client.get("/admin/tenants/acme").data.decode()
    assert client.get(f"/t/acme/set-password/{link}").status_code == 200
    event = last_event("tenant.reissue_owner_link")
    assert event.tenant_id == tenant.id and link not in str(event.after or "")


def test_retry_is_refused_unless_provisioning_failed(client, backend) -> None:
    make_tenant("acme")
    sign_in_as(client, "owner")
    response = client.post("/admin/tenants/acme/retry")
    assert response.status_code == 400 and b"Only a tenant whose provisioning failed" in response.data
    assert tenant_row("acme").status == "active"

