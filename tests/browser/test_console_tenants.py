"""Vendor staff search the tenant list in Chromium: the table narrows, the URL follows (without the
empty filters), and that URL shows the same result on its own. (Creating a tenant and watching it
provision is journey 1, in test_journeys.py.)"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import staff_signs_in
from tests.factories import make_staff, make_tenant


@pytest.mark.browser
@pytest.mark.postgres_only
def test_search_updates_the_results_and_the_url(backend, page):
    make_tenant("acme")
    make_tenant("globex")
    make_staff()
    staff_signs_in(page)
    page.goto("/admin/tenants")
    page.get_by_label("Search").fill("glob")
    page.wait_for_url(re.compile(r".*/admin/tenants\?q=glob(&sort=[a-z_]+)?$"))
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("globex")
    page.reload()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value("glob")
