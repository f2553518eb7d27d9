"""The seven journeys of the issue, in Chromium with JavaScript on — and journeys 1, 2 and 4 again
with JavaScript off, where every page and form must work as plain HTML — against the app served on
127.0.0.1 on PostgreSQL (shared tenants, row-level security forced). Each browser context is one
person; the assertions are what that person sees (and, where it matters, what the database holds).
The few steps that only exist with JavaScript (live slug check, Copy button, live totals) are
checked when it is on; everything else is the same journey either way."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from extensions import db
from models.control import Plan, Tenant
from models.tenant import Customer
from tenancy.context import tenant_context
from tests.browser.helpers import (OWNER_EMAIL, STAFF_EMAIL, bistro_with_orders, make_bistro,
                                   member_signs_in, staff_signs_in, starter_plan)
from tests.factories import PASSWORD, make_plan, make_staff

pytestmark = [pytest.mark.browser, pytest.mark.postgres_only]
with_and_without_js = pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])


@with_and_without_js
def test_1_admin_creates_bistro_watches_it_provision_and_copies_the_owners_link(backend, live_server, new_page, js):
    starter_plan()
    make_plan("growth", name="Growth")
    make_staff(STAFF_EMAIL)
    page = new_page(js=js, permissions=["clipboard-read", "clipboard-write"])
    staff_signs_in(page)

    page.get_by_role("link", name="New tenant").first.click()
    slug = page.get_by_label("Address (slug)")
    slug.fill("admin")
    if js:  # checked as it is typed
        expect(page.locator("#slug-check")).to_contain_text("reserved")
        slug.fill("bistro")
        expect(page.locator("#slug-check")).to_contain_text("is available")
    page.get_by_label("Name", exact=True).fill("Bistro Nusantara")
    page.get_by_label("Plan", exact=True).select_option("starter")
    page.get_by_label("Isolation").select_option("shared")
    page.get_by_label("Owner email").fill(OWNER_EMAIL)
    if not js:  # checked on submit: the error sits next to the field, the rest is kept
        page.get_by_role("button", name="Create and provision").click()
        expect(page.locator("#slug-error")).to_contain_text("reserved")
        expect(page.get_by_label("Owner email")).to_have_value(OWNER_EMAIL)
        slug.fill("bistro")
    page.get_by_role("button", name="Create and provision").click()

    page.wait_for_url("**/admin/tenants/bistro/provisioning")
    link = page.locator("#owner-link").inner_text().strip()  # shown once, on this first view
    assert re.fullmatch(rf"{re.escape(live_server)}/t/bistro/set-password/[\w-]+", link), link
    go = page.get_by_role("link", name="Go to Bistro Nusantara")
    if js:
        expect(go).to_be_visible(timeout=15_000)  # the polling saw the last step finish
        expect(page.locator("#provisioning")).not_to_have_attribute("hx-trigger", re.compile("."))
        page.get_by_role("button", name="Copy").click()
        expect(page.get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == link
    else:
        expect(page.get_by_role("button", name="Copy")).to_be_hidden()  # useless without JS
        refresh = page.get_by_role("link", name="Refresh")
        for _attempt in range(30):  # a person presses Refresh until it is ready
            expect(go.or_(refresh)).to_be_visible()
            if go.count():
                break
            with page.expect_navigation():  # the next look is at the new page, not the old one
                refresh.click()
    expect(page.locator("#provisioning tbody tr")).to_have_count(6)
    expect(page.locator("#provisioning .badge", has_text="Done")).to_have_count(6)

    go.click()
    page.wait_for_url("**/admin/tenants/bistro")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bistro Nusantara")
    expect(page.locator(".page-header .badge")).to_have_text("Active")
    overview = page.locator("section", has=page.get_by_role("heading", name="Subscription"))
    expect(overview).to_contain_text("Starter")

    owner = new_page(js=js)  # the link, pasted into the owner's own browser, opens their welcome page
    owner.goto(link)
    expect(owner.get_by_role("heading", level=1)).to_have_text("Welcome to Bistro Nusantara")
    expect(owner.get_by_text(OWNER_EMAIL)).to_be_visible()


@with_and_without_js
def test_2_owner_sets_a_password_records_a_paid_order_and_sees_revenue_and_usage(backend, new_page, js):
    bistro = make_bistro()
    page = new_page(js=js)
    page.goto(bistro.set_password_path)
    page.get_by_label("New password").fill("a long bistro password")
    page.get_by_label("Repeat it").fill("a long bistro password")
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url("**/t/bistro/")
    page.get_by_role("button", name="Sign out").click()
    member_signs_in(page, "bistro", password="a long bistro password")

    page.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="New customer").first.click()
    page.get_by_label("Name").fill("Wayan Sudarta")
    page.get_by_label("Email").fill("wayan@example.com")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wayan Sudarta")

    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name="New order").first.click()
    page.get_by_label("Customer", exact=True).select_option(label="Wayan Sudarta · wayan@example.com")
    page.get_by_label("Item").fill("Nasi goreng")
    page.get_by_label("Qty").fill("2")
    page.get_by_label("Unit price").fill("45000")
    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_label("Item")).to_have_count(2)
    page.get_by_label("Item").nth(1).fill("Es teh")
    page.get_by_label("Qty").nth(1).fill("3")
    page.get_by_label("Unit price").nth(1).fill("8000")
    if js:
        expect(page.locator("#order-totals")).to_contain_text("Rp\u00a0114.000")  # live totals
    page.get_by_role("button", name="Create order").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"Order #\d+"))
    expect(page.locator("table").first).to_contain_text("Nasi goreng")
    expect(page.locator("table").first).to_contain_text("Es teh")
    page.get_by_role("button", name="Mark paid").click()
    expect(page.locator("#order-activity .badge").first).to_have_text("Paid")

    page.get_by_role("link", name="Stats").click()
    page.wait_for_url(re.compile(r"/t/bistro/stats"))
    expect(page.locator("main")).to_contain_text("Rp\u00a0114.000")
    page.get_by_role("link", name="Home").click()
    usage = page.locator(".meter", has_text="Orders this month")
    expect(usage).to_contain_text("1 / 500")
    expect(usage.locator("meter")).to_have_attribute("value", "1")


def test_3_active_search_narrows_the_orders_without_a_reload_and_back_restores_the_page(backend, new_page):
    bistro_with_orders()
    page = new_page()
    member_signs_in(page, "bistro")
    page.get_by_role("link", name="Orders", exact=True).click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(5)
    page.evaluate("window.sameDocument = true")  # a full page load would forget this
    page.evaluate(WATCH_LOADING)

    page.get_by_label("Search").fill("Budi")
    page.wait_for_url(re.compile(r"/t/bistro/orders\?q=Budi(&sort=newest)?$"))  # no empty fields
    expect(rows).to_have_count(2)
    assert page.evaluate("window.loading") == {"page": True, "table": True}  # it showed it was working
    expect(page.locator("html")).not_to_have_class(re.compile("htmx-busy"))  # and stopped
    page.get_by_label("Payment").select_option("paid")
    page.wait_for_url(re.compile(r"/t/bistro/orders\?.*status=paid"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rp\u00a01.250.000")
    assert page.evaluate("window.sameDocument") is True

    page.go_back()  # htmx history restore: the whole page again, in its earlier state
    page.wait_for_url(re.compile(r"/t/bistro/orders\?q=Budi(&sort=newest)?$"))
    expect(rows).to_have_count(2)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Orders")
    expect(page.get_by_label("Search")).to_have_value("Budi")
    expect(page.get_by_label("Payment")).to_have_value("")

    page.reload()
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value("Budi")
    page.go_back()
    page.wait_for_url(re.compile(r"/t/bistro/orders$"))
    expect(rows).to_have_count(5)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


WATCH_LOADING = """() => {
    window.loading = {page: false, table: false};
    const html = document.documentElement, table = document.getElementById("results");
    new MutationObserver(() => { if (html.classList.contains("htmx-busy")) window.loading.page = true; })
        .observe(html, {attributes: true, attributeFilter: ["class"]});
    new MutationObserver(() => { if (table.classList.contains("htmx-request")) window.loading.table = true; })
        .observe(table, {attributes: true, attributeFilter: ["class"]});
}"""


@with_and_without_js
def test_4_a_suspension_shows_the_owner_the_reason_on_their_next_click_and_resume_restores(backend, new_page, js):
    bistro_with_orders()
    admin, owner = new_page(js=js), new_page(js=js)
    staff_signs_in(admin)
    member_signs_in(owner, "bistro")

    admin.goto("/admin/tenants/bistro")
    heading_at = admin.get_by_role("heading", level=1).bounding_box()
    admin.get_by_label("Reason").fill("Invoice 1042 is 30 days overdue.")
    admin.get_by_role("button", name="Suspend", exact=True).click()
    expect(admin.get_by_role("status").filter(has_text="is suspended")).to_be_visible()
    assert admin.get_by_role("heading", level=1).bounding_box() == heading_at  # the flash floats above
    expect(admin.locator(".page-header .badge")).to_have_text("Suspended")

    owner.get_by_role("link", name="Orders", exact=True).click()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Account suspended")
    expect(owner.locator("main")).to_contain_text("Invoice 1042 is 30 days overdue.")
    expect(owner.get_by_role("navigation", name="Main")).to_have_count(0)

    admin.get_by_role("button", name="Resume").click()
    expect(admin.get_by_role("status").filter(has_text="is resumed")).to_be_visible()
    expect(admin.locator(".page-header .badge")).to_have_text("Active")

    owner.goto("/t/bistro/orders")
    if "/login" in owner.url:  # a suspension may end sessions; signing in again must work
        member_signs_in(owner, "bistro")
        owner.goto("/t/bistro/orders")
    expect(owner.get_by_role("heading", level=1)).to_have_text("Orders")
    expect(owner.locator("#results tbody tr")).to_have_count(5)


def test_5_turning_csv_export_off_hides_the_button_and_404s_the_url_and_on_brings_both_back(backend, new_page):
    growth = make_plan("growth", name="Growth", features={"csv_export": True})
    bistro_with_orders(growth)
    admin, owner = new_page(), new_page()
    staff_signs_in(admin)
    member_signs_in(owner, "bistro")
    owner.goto("/t/bistro/orders")
    export = owner.get_by_role("link", name="Export CSV")
    expect(export).to_be_visible()
    assert owner.request.get("/t/bistro/orders.csv").status == 200

    def override(value: str) -> None:
        admin.goto("/admin/tenants/bistro")
        admin.get_by_role("link", name="csv_export").click()
        admin.get_by_label("Tenant slug").fill("bistro")
        admin.get_by_label("Value", exact=True).first.select_option(value)
        admin.get_by_label("Reason").fill(f"Support ticket 77: export {value}")
        admin.get_by_role("button", name="Set override").click()
        expect(admin.get_by_role("status").filter(has_text=f"csv_export is now {value} for bistro")).to_be_visible()

    override("off")
    owner.reload()
    expect(owner.get_by_role("heading", level=1)).to_have_text("Orders")
    expect(export).to_have_count(0)
    assert owner.request.get("/t/bistro/orders.csv").status == 404

    override("on")
    owner.reload()
    expect(export).to_be_visible()
    response = owner.request.get("/t/bistro/orders.csv")
    assert response.status == 200 and response.text().lstrip("\ufeff").startswith("Order,Date,")


def test_6_two_admins_edit_the_same_plan_and_the_second_save_shows_the_conflict(backend, new_page):
    starter_plan()
    make_staff(STAFF_EMAIL)
    make_staff("ben@vendor.example.com", role="admin")
    ana, ben = new_page(), new_page()
    staff_signs_in(ana)
    staff_signs_in(ben, "ben@vendor.example.com", PASSWORD)
    for tab in (ana, ben):
        tab.goto("/admin/plans/starter/edit")
        expect(tab.get_by_label("Monthly price")).to_have_value("$10.00")

    ana.get_by_label("Monthly price").fill("35.00")
    ana.get_by_role("button", name="Save plan").click()
    expect(ana.get_by_role("status").filter(has_text="Plan Starter saved.")).to_be_visible()

    ben.get_by_label("Monthly price").fill("39.00")
    ben.get_by_role("button", name="Save plan").click()
    conflict = ben.get_by_role("alert")
    expect(conflict).to_contain_text("monthly")
    expect(conflict.get_by_role("row", name=re.compile("price monthly"))).to_contain_text("35")
    expect(ben.get_by_label("Monthly price")).to_have_value("39.00")  # ben's values are kept
    db.session.expire_all()
    assert db.session.execute(select(Plan.price_monthly).where(Plan.slug == "starter")).scalar_one() == 3500

    ben.get_by_role("button", name="Save plan").click()  # having seen the conflict, he overwrites
    expect(ben.get_by_role("status").filter(has_text="Plan Starter saved.")).to_be_visible()
    db.session.expire_all()
    assert db.session.execute(select(Plan.price_monthly).where(Plan.slug == "starter")).scalar_one() == 3900


def test_7_a_bad_email_shows_next_to_the_field_and_keeps_the_other_values(backend, new_page):
    bistro_with_orders()
    page = new_page()
    member_signs_in(page, "bistro")
    page.goto("/t/bistro/customers/new")
    page.evaluate("window.sameDocument = true")
    page.get_by_label("Name").fill("Wayan Sudarta")
    page.get_by_label("Email").fill("wayan@@example")
    page.get_by_label("Phone").fill("+62 812 555 0101")
    page.get_by_role("button", name="Add customer").click()

    email = page.get_by_label("Email")
    expect(email).to_have_attribute("aria-invalid", "true")
    error = page.locator("#email-error")
    expect(error).to_be_visible()
    expect(email).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))
    assert page.locator(".field", has=email).locator(".field-error").count() == 1  # in the field's own box
    expect(page.get_by_label("Name")).to_have_value("Wayan Sudarta")
    expect(page.get_by_label("Phone")).to_have_value("+62 812 555 0101")
    expect(email).to_have_value("wayan@@example")
    assert page.evaluate("window.sameDocument") is True  # swapped in place, no reload
    with tenant_context(db.session.execute(select(Tenant).where(Tenant.slug == "bistro")).scalar_one()) as ctx:
        assert ctx.session.execute(select(Customer).where(Customer.name == "Wayan Sudarta")).first() is None

    email.fill("wayan@example.com")
    page.get_by_role("button", name="Add customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wayan Sudarta")
