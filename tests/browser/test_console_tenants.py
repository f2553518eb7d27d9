"""Vendor staff in Chromium: live slug check, create a tenant and watch it provision; search the
list and see the URL follow."""
from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, make_plan, make_staff, make_tenant


def sign_in(page, live_server: str) -> None:
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("Email").fill("ana@vendor.example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/admin/")


@pytest.mark.browser
@pytest.mark.postgres_only
def test_create_a_tenant_and_watch_it_provision(live_server, page, backend):
    make_plan("basic")
    make_tenant("taken")
    make_staff()
    sign_in(page, live_server)
    page.get_by_role("link", name="New tenant").first.click()
    slug = page.get_by_label("Address (slug)")
    slug.fill("taken")
    page.locator("#slug-check", has_text="is taken").wait_for()
    slug.fill("fresh-co")
    page.locator("#slug-check", has_text="is available").wait_for()
    page.get_by_label("Name").fill("Fresh Co")
    page.get_by_label("Owner email").fill("owner@fresh.example.com")
    page.get_by_role("button", name="Create and provision").click()

    page.wait_for_url(f"{live_server}/admin/tenants/fresh-co/provisioning")
    assert "/t/fresh-co/set-password/" in page.locator("#owner-link").inner_text()
    page.get_by_role("link", name="Go to Fresh Co").wait_for(timeout=15_000)  # polling saw the end
    assert page.locator("#provisioning [hx-trigger]").count() == 0
    page.get_by_role("link", name="Go to Fresh Co").click()
    page.wait_for_url(f"{live_server}/admin/tenants/fresh-co")
    assert page.get_by_role("heading", level=1).inner_text() == "Fresh Co"


@pytest.mark.browser
@pytest.mark.postgres_only
def test_search_updates_the_results_and_the_url(live_server, page, backend):
    make_tenant("acme")
    make_tenant("globex")
    make_staff()
    sign_in(page, live_server)
    page.goto(f"{live_server}/admin/tenants")
    page.get_by_label("Search").fill("glob")
    page.wait_for_url(re.compile(r".*/admin/tenants\?q=glob.*"))
    rows = page.locator("#results tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1 and "globex" in rows.first.inner_text()
    page.reload()
    assert page.locator("#results tbody tr").count() == 1
