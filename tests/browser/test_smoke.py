"""A person signs in at /t/acme/ in Chromium and sees the tenant home, in the tenant's money."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import make_order, make_tenant, make_user


@pytest.mark.browser
@pytest.mark.postgres_only
def test_owner_signs_in_and_sees_the_tenant_home(backend, page):
    tenant = make_tenant("acme", isolation="shared", currency="IDR", owner_email="owner@acme.example.com")
    make_user(tenant, "owner@acme.example.com", "owner", "tenantry-demo")
    make_order(tenant, total=1_250_000, customer="Budi Santoso", status="paid")

    page.goto("/t/acme/")
    assert page.url.endswith("/t/acme/login?next=/t/acme/")
    page.get_by_label("Email").fill("owner@acme.example.com")
    page.get_by_label("Password").fill("tenantry-demo")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/t/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Ltd")
    row = page.get_by_role("row", name="Budi Santoso")
    expect(row).to_contain_text("Rp\u00a01.250.000")
    expect(row).to_contain_text("Paid")
