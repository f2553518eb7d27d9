"""Create a tenant from the console: form → provisioning shown live → owner's link shown once."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models.control import ProvisioningStep, Tenant
from tests.admin.helpers import HX, actions_for, last_event, sign_in_as, tenant_row, wait_for_provisioning
from tests.factories import make_plan, make_tenant

FORM = {"slug": "newco", "name": "NewCo Trading", "plan": "basic", "isolation": "shared",
        "owner_email": "Owner@NewCo.example.com", "currency": "IDR", "trial_days": "14"}


def tenant_count() -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count(Tenant.id))).scalar_one()


def test_create_provisions_and_shows_the_owner_link_once(client, app, backend) -> None:
    make_plan("basic")
    email = sign_in_as(client, "admin")
    form_page = client.get("/admin/tenants/new")
    assert form_page.status_code == 200 and b"Owner email" in form_page.data
    assert (b'value="schema"' in form_page.data) == (backend == "postgres")  # schema needs PostgreSQL

    created = client.post("/admin/tenants/new", data=FORM)
    assert created.status_code == 303
    assert created.headers["Location"].endswith("/admin/tenants/newco/provisioning")
    first = client.get("/admin/tenants/newco/provisioning")
    assert first.status_code == 200
    assert b"/t/newco/set-password/" in first.data and b"shown once" in first.data
    final = wait_for_provisioning(client, "newco")
    assert b"Ready" in final.data and b"hx-trigger" not in final.data  # polling stops

    again = client.get("/admin/tenants/newco/provisioning")
    assert b"set-password" not in again.data  # shown once, never again
    tenant = tenant_row("newco")
    assert tenant.status == "trial" and tenant.currency == "IDR" and tenant.owner_email == "owner@newco.example.com"
    steps = db.session.execute(select(ProvisioningStep).where(ProvisioningStep.tenant_id == tenant.id)).scalars().all()
    assert len(steps) == 6 and all(s.status == "done" and s.finished_at for s in steps)
    assert actions_for(tenant.id)[:2] == ["tenant.create", "tenant.activate"]
    assert last_event("tenant.create").actor_label == email


def test_the_owner_link_from_the_provisioning_page_sets_a_password(client, app, backend) -> None:
    make_plan("basic")
    sign_in_as(client, "owner")
    client.post("/admin/tenants/new", data=FORM)
    page = client.get("/admin/tenants/newco/provisioning").data.decode()
    wait_for_provisioning(client, "newco")
    link = page.split('id="owner-link">')[1].split("<")[0]
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200


def test_htmx_create_answers_with_hx_location_and_errors_with_422_fragment(client, backend) -> None:
    make_plan("basic")
    sign_in_as(client, "owner")
    bad = client.post("/admin/tenants/new", data={**FORM, "slug": "admin"}, headers=HX)
    assert bad.status_code == 422 and bad.data.lstrip().startswith(b'<form id="tenant-form"')
    assert b"reserved" in bad.data
    good = client.post("/admin/tenants/new", data=FORM, headers=HX)
    assert good.status_code == 204 and good.headers["HX-Redirect"].endswith("/admin/tenants/newco/provisioning")
    wait_for_provisioning(client, "newco")


@pytest.mark.parametrize(("slug", "message"), [
    ("café-shop", b"lowercase letters"), ("../etc", b"lowercase letters"), ("x" * 300, b"At most 30"),
    ("admin", b"reserved"), ("taken", b"is taken"), ("ab", b"At least 3"), ("a--b", b"doubled"),
    ("", b"Choose an address"), ("<script>", b"lowercase letters"),
])
def test_hostile_slugs_get_a_field_error_and_nothing_is_written(client, backend, slug, message) -> None:
    make_tenant("taken")
    sign_in_as(client, "owner")
    before = tenant_count()
    response = client.post("/admin/tenants/new", data={**FORM, "slug": slug})
    assert response.status_code == 422
    assert message in response.data and b"field-error" in response.data
    assert b"<script>" not in response.data
    assert tenant_count() == before


def test_other_bad_input_is_a_form_error(client, backend) -> None:
    make_plan("basic")
    make_plan("old", archived=True)
    sign_in_as(client, "owner")
    for field, value in (("owner_email", "not-an-email"), ("plan", "old"), ("plan", "nope"),
                         ("trial_days", "400"), ("currency", "EUR"), ("name", "")):
        response = client.post("/admin/tenants/new", data={**FORM, field: value})
        assert response.status_code == 422, (field, value)
    if backend == "sqlite":
        assert client.post("/admin/tenants/new", data={**FORM, "isolation": "schema"}).status_code == 422
    assert tenant_count() == 0


def test_live_slug_check(client, backend) -> None:
    make_tenant("taken")
    sign_in_as(client, "owner")
    free = client.get("/admin/tenants/slug-check?slug=fresh-co", headers=HX)
    assert free.status_code == 200 and b'id="slug-check"' in free.data and b"available" in free.data
    assert b"is taken" in client.get("/admin/tenants/slug-check?slug=taken", headers=HX).data
    assert b"reserved" in client.get("/admin/tenants/slug-check?slug=admin", headers=HX).data
    long = client.get("/admin/tenants/slug-check", query_string={"slug": "é" * 5000}, headers=HX)
    assert long.status_code == 200 and b"At most 30" in long.data


@pytest.mark.sqlite_only  # the failure is made by blocking the SQLite tenant directory
def test_failed_provisioning_shows_the_step_and_retry_resumes(client, app, backend, tmp_path) -> None:
    make_plan("basic")
    sign_in_as(client, "owner")
    blocker = tmp_path / "tenants"
    blocker.write_text("a file where the tenant databases' directory should be")
    client.post("/admin/tenants/new", data={**FORM, "isolation": "database"})
    failed = wait_for_provisioning(client, "newco")
    assert b"create_storage failed" in failed.data and b"Retry" in failed.data
    assert tenant_row("newco").status == "provisioning_failed"

    blocker.unlink()
    retried = client.post("/admin/tenants/newco/retry")
    assert retried.status_code == 303 and retried.headers["Location"].endswith("/provisioning")
    wait_for_provisioning(client, "newco")
    tenant = tenant_row("newco")
    assert tenant.status == "trial"
    assert "tenant.retry_provisioning" in actions_for(tenant.id)
