"""Journey 1 with the keyboard only: Tab to move, type to fill, Enter to act — and a focus ring on
every stop, so a person who cannot use a mouse always sees where they are."""
from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import OWNER_EMAIL, STAFF_EMAIL, bistro_with_orders, member_signs_in, starter_plan
from tests.factories import PASSWORD, make_plan, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]

FOCUS_SHOWN = """() => {
    const el = document.activeElement, style = getComputedStyle(el);
    const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
    return {outline, ring: style.boxShadow !== "none", tag: el.tagName, label: el.labels?.[0]?.innerText
            || el.getAttribute("aria-label") || el.innerText?.trim().slice(0, 40) || el.name};
}"""


def tab_to(page: Any, target: Any, limit: int = 40) -> None:
    """Press Tab until `target` has the focus (it may have it already: autofocus); every element
    passed on the way shows that it has the focus."""
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
        shown = page.evaluate(FOCUS_SHOWN)
        assert shown["outline"] or shown["ring"], f"no visible focus on {shown}"
    raise AssertionError(f"{target} was not reached with Tab")


def test_journey_1_with_the_keyboard_only(backend, new_page):
    starter_plan()
    make_plan("growth", name="Growth")
    make_staff(STAFF_EMAIL)
    page = new_page()

    page.goto("/admin/login")
    expect(page.get_by_label("Email")).to_be_focused()  # the sign-in page starts where one types
    page.keyboard.type(STAFF_EMAIL)
    tab_to(page, page.get_by_label("Password"))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/")

    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # off-screen until focused, then shown
    tab_to(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="New tenant"))
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/tenants/new")
    tab_to(page, page.get_by_label("Address (slug)"))
    page.keyboard.type("bistro")
    expect(page.locator("#slug-check")).to_contain_text("is available")
    tab_to(page, page.get_by_label("Name", exact=True))
    page.keyboard.type("Bistro Nusantara")
    plan = page.get_by_label("Plan", exact=True)
    tab_to(page, plan)
    page.keyboard.type("Starter")  # a closed <select> picks the option typed
    expect(plan).to_have_value("starter")
    tab_to(page, page.get_by_label("Owner email"))
    page.keyboard.type(OWNER_EMAIL)
    page.keyboard.press("Enter")

    page.wait_for_url("**/admin/tenants/bistro/provisioning")
    go = page.get_by_role("link", name="Go to Bistro Nusantara")
    expect(go).to_be_visible(timeout=15_000)
    tab_to(page, go)
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/tenants/bistro")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bistro Nusantara")


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_enter_in_the_new_order_form_creates_the_order(backend, new_page, js):
    """Enter in a field submits the form's default button: "Create order", never "Remove line 1"
    or "Add line", which come first in the form."""
    bistro_with_orders()
    page = new_page(js=js)
    member_signs_in(page, "bistro")
    page.goto("/t/bistro/orders/new")
    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_label("Item")).to_have_count(2)
    page.get_by_label("Item").nth(0).fill("Kopi susu")
    page.get_by_label("Unit price").nth(0).fill("18000")
    page.get_by_label("Item").nth(1).fill("Roti bakar")
    page.get_by_label("Unit price").nth(1).fill("22000")
    page.get_by_label("Unit price").nth(1).press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Order #\d+"))
    expect(page.locator("table").first).to_contain_text("Kopi susu")
    expect(page.locator("table").first).to_contain_text("Roti bakar")
