"""The tenant list: search, filters, sorts, keyset pages, bookmarkable URLs, bulk actions."""
from __future__ import annotations

import datetime as dt
import re

from extensions import db
from models.control import utcnow
from services import audit
from services.tenant_queries import TenantQuery, list_tenants
from services.tenants import create_tenant
from tests.admin.helpers import HX, actions_for, reserve_tenant, sign_in_as, tenant_row
from tests.factories import make_plan, make_tenant
from tests.querycount import count_queries


def reserve(slug: str, name: str | None = None, owner: str | None = None, plan_slug: str = "basic") -> None:
    """A tenant row without provisioning it: cheap, and enough for list tests."""
    create_tenant(slug=slug, name=name or slug.title(), plan=make_plan(plan_slug), isolation="shared",
                  owner_email=owner or f"owner@{slug}.example.com", actor=audit.SYSTEM,
                  backend=db.engine.dialect.name, main_url=str(db.engine.url), trial_days=0)
    db.session.commit()


def slugs_in(html: bytes) -> list[str]:
    return re.findall(r'<span class="muted mono">([a-z0-9-]+)</span>', html.decode())


def test_search_matches_slug_name_and_owner_email_contains(client, backend) -> None:
    reserve("acme", "Acme Trading", "boss@acme.example.com")
    reserve("globex", "Globex Corp", "hank@globex.example.com")
    reserve("initech", "Initech 100%_Real", "bill@initech.example.com")
    sign_in_as(client, "viewer")
    assert slugs_in(client.get("/admin/tenants?q=cme").data) == ["acme"]
    assert slugs_in(client.get("/admin/tenants?q=GLOBEX%20corp").data) == ["globex"]
    assert slugs_in(client.get("/admin/tenants?q=hank@").data) == ["globex"]
    assert slugs_in(client.get("/admin/tenants?q=100%25_").data) == ["initech"]  # % and _ literal
    assert slugs_in(client.get("/admin/tenants?q=%25").data) == ["initech"]
    assert b"No tenants match" in client.get("/admin/tenants?q=zzz").data


def test_filters_by_status_plan_isolation_and_health(client, backend) -> None:
    make_plan("pro")
    make_tenant("alpha")
    make_tenant("beta", plan=make_plan("pro"))
    reserve("gamma")
    beta = tenant_row("beta")
    beta.health_ok = False
    db.session.commit()
    alpha = tenant_row("alpha")
    alpha.health_ok = True
    db.session.commit()
    sign_in_as(client, "viewer")
    assert sorted(slugs_in(client.get("/admin/tenants?status=active").data)) == ["alpha", "beta"]
    assert slugs_in(client.get("/admin/tenants?status=provisioning").data) == ["gamma"]
    assert slugs_in(client.get("/admin/tenants?plan=pro").data) == ["beta"]
    assert slugs_in(client.get("/admin/tenants?health=unhealthy").data) == ["beta"]
    assert slugs_in(client.get("/admin/tenants?health=ok").data) == ["alpha"]
    assert slugs_in(client.get("/admin/tenants?health=unknown").data) == ["gamma"]
    assert slugs_in(client.get("/admin/tenants?isolation=database").data) == []
    assert slugs_in(client.get("/admin/tenants?plan=pro&status=active&isolation=shared").data) == ["beta"]
    for bad in ("status=nope", "health=%00", "sort=drop", "isolation=x", "q=" + "x" * 500, "after=garbage"):
        response = client.get(f"/admin/tenants?{bad}")
        assert response.status_code in (400, 422), bad


def test_sorts(client, backend) -> None:
    for slug, name in (("ccc", "Charlie"), ("aaa", "Alpha"), ("bbb", "Bravo")):
        reserve(slug, name)
    bbb = tenant_row("bbb")
    bbb.last_active_at = utcnow() + dt.timedelta(minutes=5)
    db.session.commit()
    sign_in_as(client, "viewer")
    assert slugs_in(client.get("/admin/tenants").data) == ["bbb", "aaa", "ccc"]  # newest first
    assert slugs_in(client.get("/admin/tenants?sort=name").data) == ["aaa", "bbb", "ccc"]
    assert slugs_in(client.get("/admin/tenants?sort=active").data)[0] == "bbb"


def test_keyset_pages_cover_every_tenant_once_and_keep_the_filters(client, backend) -> None:
    for n in range(7):
        reserve(f"shop-{n}", f"Shop {n}")
    reserve("other", "Other")
    query = TenantQuery(q="shop", sort="name")
    seen, after = [], None
    while True:
        page = list_tenants(query, after=after, limit=3)
        seen += [t.slug for t in page.items]
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [f"shop-{n}" for n in range(7)]
    back = list_tenants(query, before=page.prev_cursor, limit=3)
    assert [t.slug for t in back.items] == ["shop-3", "shop-4", "shop-5"]

    for n in range(51):
        reserve(f"bulk-{n:02d}")
    sign_in_as(client, "viewer")
    first = client.get("/admin/tenants?sort=name&q=bulk")
    assert len(slugs_in(first.data)) == 50
    next_url = re.search(r'href="(/admin/tenants\?[^"]*after=[^"]+)" hx-get', first.data.decode()).group(1)
    next_url = next_url.replace("&amp;", "&")
    assert "q=bulk" in next_url and "sort=name" in next_url  # the view survives paging
    assert slugs_in(client.get(next_url).data) == ["bulk-50"]


def test_htmx_gets_the_results_fragment_and_the_same_url_renders_a_full_page(client, backend) -> None:
    reserve("acme")
    sign_in_as(client, "viewer")
    fragment = client.get("/admin/tenants?q=acme", headers=HX)
    assert fragment.data.lstrip().startswith(b'<div id="results">') and b"<html" not in fragment.data
    assert "HX-Request" in fragment.headers["Vary"]
    full = client.get("/admin/tenants?q=acme")
    assert b"<html" in full.data and b'value="acme"' in full.data and b"acme" in full.data


def test_the_list_runs_a_bounded_number_of_queries_whatever_the_tenant_count(client, backend) -> None:
    sign_in_as(client, "viewer")
    reserve("one")
    with count_queries() as few:
        client.get("/admin/tenants")
    for n in range(30):
        reserve(f"more-{n}", plan_slug=f"plan-{n % 3}")
    with count_queries() as many:
        page = client.get("/admin/tenants")
    assert page.status_code == 200 and len(many) == len(few), many.statements


def test_usage_meters_against_plan_limits(client, backend) -> None:
    make_plan("small", max_orders_per_month=100, max_customers=10, max_users=3)
    reserve("acme", plan_slug="small")
    acme = tenant_row("acme")
    acme.usage_orders_month, acme.usage_customers, acme.usage_users = 42, 12, 1
    db.session.commit()
    sign_in_as(client, "viewer")
    html = client.get("/admin/tenants").data
    assert b"42 / 100" in html and b"12 / 10" in html and b"over limit" in html and b"1 / 3" in html


def test_bulk_suspend_without_js_asks_to_confirm_then_applies(client, backend) -> None:
    alpha, beta, gamma = make_tenant("alpha"), make_tenant("beta"), make_tenant("gamma")
    sign_in_as(client, "support")
    data = {"action": "suspend", "reason": "Invoices unpaid", "slug": ["alpha", "beta"],
            "back": "/admin/tenants?status=active"}
    confirm = client.post("/admin/tenants/bulk", data=data)
    assert confirm.status_code == 200 and b"Yes, suspend them" in confirm.data
    assert tenant_row("alpha").status == "active"  # nothing yet

    done = client.post("/admin/tenants/bulk", data={**data, "confirmed": "1"})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/tenants?status=active"
    assert b"Suspended 2 tenant(s)" in client.get("/admin/tenants").data
    assert [tenant_row(s).status for s in ("alpha", "beta", "gamma")] == ["suspended", "suspended", "active"]
    assert tenant_row("alpha").status_reason == "Invoices unpaid"
    assert "tenant.suspend" in actions_for(alpha.id) and "tenant.suspend" in actions_for(beta.id)
    assert "tenant.suspend" not in actions_for(gamma.id)


def test_bulk_resume_with_htmx_and_refusals(client, backend) -> None:
    make_tenant("alpha")
    make_tenant("beta")
    sign_in_as(client, "owner")
    client.post("/admin/tenants/bulk", data={"action": "suspend", "reason": "x", "slug": "alpha",
                                             "confirmed": "1"})
    response = client.post("/admin/tenants/bulk", headers=HX, data={
        "action": "resume", "slug": ["alpha", "beta"], "confirmed": "1", "back": "https://evil.example/"})
    assert response.status_code == 204 and response.headers["HX-Redirect"] == "/admin/tenants"
    page = client.get("/admin/tenants").data
    assert b"Resumed 1 tenant(s)" in page and b"beta: Only suspended tenants" in page
    assert tenant_row("alpha").status == "active"

    no_reason = client.post("/admin/tenants/bulk", data={"action": "suspend", "slug": "beta", "confirmed": "1"})
    assert no_reason.status_code == 303 and tenant_row("beta").status == "active"
    assert b"Say why" in client.get("/admin/tenants").data
    nothing = client.post("/admin/tenants/bulk", data={"action": "resume", "confirmed": "1"})
    assert nothing.status_code == 303 and b"Tick at least one" in client.get("/admin/tenants").data


def test_the_dashboards_filters_are_controls_on_the_list_and_refuse_bad_values(client, backend) -> None:
    reserve_tenant("soon", status="trial", subscription_status="trialing",
                   trial_ends_at=utcnow() + dt.timedelta(days=2))
    reserve_tenant("later", status="trial", subscription_status="trialing",
                   trial_ends_at=utcnow() + dt.timedelta(days=40))
    sign_in_as(client, "viewer")
    plain = client.get("/admin/tenants").data.decode()
    assert "<details class=\"filters-more\">" in plain  # folded while none of its filters is set
    for name in ("subscription", "billed_in", "trial_ending", "limit", "revision", "created"):
        assert f'name="{name}"' in plain, name
    page = client.get("/admin/tenants?trial_ending=3&subscription=trialing")
    html = page.data.decode()
    assert "<details class=\"filters-more\" open>" in html
    assert '<option value="3" selected>Within 3 days</option>' in html  # a value from the URL is kept
    assert '<option value="trialing" selected>' in html
    assert slugs_in(page.data) == ["soon"]
    for bad in ("trial_ending=abc", "trial_ending=0", "trial_ending=91", "trial_ending=%C2%B2",
                "trial_ending=-1", "created=9999", "limit=all", "revision=ahead", "billed_in=EUR",
                "subscription=free"):
        response = client.get(f"/admin/tenants?{bad}")
        assert response.status_code == 422, bad
        assert b"Choose one of" in response.data or b"number of days from 1 to" in response.data, bad
