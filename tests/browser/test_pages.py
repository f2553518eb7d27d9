"""The main pages, as a person meets them: no serious accessibility problem (axe-core), and usable
on a phone (no sideways page scroll; wide tables scroll inside their own box)."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from tests.browser.axe import assert_accessible
from tests.browser.conftest import PHONE
from tests.browser.helpers import bistro_with_orders, member_signs_in, staff_signs_in
from tests.browser.pages import MEMBER, STAFF, showcase
from tests.factories import make_plan

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]


def _bistro_on_growth() -> list[Any]:
    """bistro on a plan with limits (usage meters) and every feature (export button, all stats)."""
    growth = make_plan("growth", name="Growth", max_orders_per_month=5000, max_customers=5000, max_users=10)
    return bistro_with_orders(growth)[1]


def _signed_in_tabs(new_page: Callable[..., Any], **options: Any) -> dict[str, Any]:
    staff, member = new_page(**options), new_page(**options)
    staff_signs_in(staff)
    member_signs_in(member, "bistro")
    return {STAFF: staff, MEMBER: member}


def test_the_main_pages_have_no_serious_accessibility_problems(backend, new_page):
    orders = _bistro_on_growth()
    tabs = _signed_in_tabs(new_page, bypass_csp=True)  # axe is injected as an inline script
    pages = showcase("bistro", orders[0].id)
    for shown in pages:
        tab = tabs[shown.audience]
        response = tab.goto(shown.path)
        assert response.status == 200, (shown.path, response.status)
        assert_accessible(tab, shown.title)


def test_the_main_pages_fit_a_phone_and_tables_scroll_in_their_box(backend, new_page):
    orders = _bistro_on_growth()
    tabs = _signed_in_tabs(new_page, viewport=PHONE)
    for shown in showcase("bistro", orders[0].id):
        tab = tabs[shown.audience]
        tab.goto(shown.path)
        widths = tab.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], f"{shown.title} scrolls sideways at 375 px: {widths}"
        boxes = tab.evaluate("""() => [...document.querySelectorAll('.table-wrap')].map(w => ({
            overflow: getComputedStyle(w).overflowX, wider: w.scrollWidth > w.clientWidth}))""")
        assert all(b["overflow"] in ("auto", "scroll") for b in boxes), (shown.title, boxes)
        if shown.name == "portal-orders":  # seven columns cannot fit 375 px: they scroll in the box
            assert any(b["wider"] for b in boxes)
