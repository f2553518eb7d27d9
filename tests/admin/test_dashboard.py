"""The console's front page: each tile's number is right for a crafted fleet, and each tile opens
the tenant list filtered to exactly the tenants it counted."""
from __future__ import annotations

import datetime as dt
import html as htmlmod
import re
from typing import Any

from extensions import db
from models.control import utcnow
from tenancy.migrations import TENANT, head
from tests.admin.helpers import HX, reserve_tenant, sign_in_as, tenant_row
from tests.factories import make_plan, make_tenant
from tests.querycount import count_queries

TILE = re.compile(r'<a class="tile" href="([^"]+)">\s*<span class="tile-label">([^<]+)</span>\s*'
                  r'<span class="tile-value">([^<]+)</span>')


def tiles(page_html: str) -> dict[str, tuple[str, str]]:
    """label → (href, value) of every tile on the page."""
    return {label.strip(): (htmlmod.unescape(href), htmlmod.unescape(value).strip())
            for href, label, value in TILE.findall(page_html)}


def slugs_listed(client: Any, url: str) -> set[str]:
    page = client.get(url)
    assert page.status_code == 200, (url, page.data[:300])
    return set(re.findall(r'<span class="muted mono">([a-z0-9-]+)</span>', page.data.decode()))


def test_tiles_count_tenants_by_status_and_link_to_the_filtered_list(client, backend) -> None:
    make_tenant("alpha")
    make_tenant("beta")
    beta = tenant_row("beta")
    beta.status = "suspended"
    db.session.commit()
    sign_in_as(client, "viewer")
    with count_queries() as queries:
        page = client.get("/admin/")
    html = page.data.decode()
    assert page.status_code == 200 and "2 tenants in all" in html
    assert tiles(html)["Active"] == ("/admin/tenants?status=active", "1")
    assert tiles(html)["Suspended"] == ("/admin/tenants?status=suspended", "1")
    assert "Newest tenants" in html and html.index("beta") < html.index("alpha")
    assert "New tenant" not in html  # a viewer cannot create
    # staff, status counts, MRR, attention counts, sign-ups, newest tenants
    assert len(queries) <= 7, queries.statements


def test_attention_tiles_count_a_crafted_fleet_and_open_exactly_those_tenants(client, backend) -> None:
    now = utcnow()
    small = make_plan("small", max_orders_per_month=10, max_customers=5, max_users=2)
    make_plan("basic")  # no limits: unlimited
    reserve_tenant("trial-soon", status="trial", subscription_status="trialing",
            trial_ends_at=now + dt.timedelta(days=3))
    reserve_tenant("trial-later", status="trial", subscription_status="trialing",
            trial_ends_at=now + dt.timedelta(days=20))
    reserve_tenant("trial-over", status="trial", subscription_status="trialing",
            trial_ends_at=now - dt.timedelta(days=1))
    reserve_tenant("paid-with-trial-date", trial_ends_at=now + dt.timedelta(days=2))  # active: not a trial
    reserve_tenant("sick", health_ok=False)
    reserve_tenant("well", health_ok=True)
    reserve_tenant("at-limit", small, usage_customers=5)
    reserve_tenant("over-limit", small, usage_users=3, usage_orders_month=11)
    reserve_tenant("under-limit", small, usage_customers=4, usage_users=1, usage_orders_month=9)
    reserve_tenant("unlimited", usage_customers=10**6, usage_orders_month=10**6, usage_users=500)
    reserve_tenant("behind", schema_revision="0000_old")
    reserve_tenant("never-migrated", schema_revision=None, status="suspended")
    reserve_tenant("being-made", status="provisioning", schema_revision=None)
    reserve_tenant("broken", status="provisioning_failed", schema_revision=None)
    reserve_tenant("erased", status="deleted", schema_revision="0000_old")

    sign_in_as(client, "viewer")
    found = tiles(client.get("/admin/").data.decode())
    expected = {
        "Trials ending": ("/admin/tenants?trial_ending=7", {"trial-soon"}),
        "Unhealthy": ("/admin/tenants?health=unhealthy", {"sick"}),
        "At or over a plan limit": ("/admin/tenants?limit=reached", {"at-limit", "over-limit"}),
        "Schema behind head": ("/admin/tenants?revision=behind", {"behind", "never-migrated"}),
    }
    for label, (href, slugs) in expected.items():
        assert found[label] == (href, str(len(slugs))), label
        assert slugs_listed(client, href) == slugs, label
    assert slugs_listed(client, "/admin/tenants?limit=over") == {"over-limit"}
    assert slugs_listed(client, "/admin/tenants?trial_ending=30") == {"trial-soon", "trial-later"}


def test_mrr_is_per_plan_currency_over_active_subscriptions_with_yearly_prices_over_twelve(client, backend) -> None:
    usd = make_plan("usd", currency="USD", price_monthly=1000, price_yearly=10000)
    idr = make_plan("idr", currency="IDR", price_monthly=150000, price_yearly=1500000)
    reserve_tenant("usd-monthly", usd)
    reserve_tenant("usd-yearly-1", usd, billing_interval="year")
    reserve_tenant("usd-yearly-2", usd, billing_interval="year")
    reserve_tenant("usd-trialing", usd, status="trial", subscription_status="trialing",
            trial_ends_at=utcnow() + dt.timedelta(days=9))
    reserve_tenant("usd-past-due", usd, subscription_status="past_due")
    reserve_tenant("usd-cancelled", usd, status="churned", subscription_status="cancelled")
    reserve_tenant("idr-yearly", idr, billing_interval="year")
    reserve_tenant("idr-monthly-usd-shop", idr, currency="USD")  # billed in the plan's currency, not the shop's
    sign_in_as(client, "viewer")
    found = tiles(client.get("/admin/").data.decode())

    # USD: 10.00 + (100.00 + 100.00) / 12 = 10.00 + 16.67 (summed, then divided once)
    assert found["MRR · USD"] == ("/admin/tenants?subscription=active&billed_in=USD", "$26.67")
    # IDR: 1.500.000 / 12 + 150.000
    assert found["MRR · IDR"] == ("/admin/tenants?subscription=active&billed_in=IDR", "Rp\u00a0275.000")
    assert slugs_listed(client, found["MRR · USD"][0]) == {"usd-monthly", "usd-yearly-1", "usd-yearly-2"}
    assert slugs_listed(client, found["MRR · IDR"][0]) == {"idr-yearly", "idr-monthly-usd-shop"}
    assert "3 active subscriptions" in client.get("/admin/").data.decode()


def test_mrr_without_active_subscriptions_says_so(client, backend) -> None:
    reserve_tenant("trying", status="trial", subscription_status="trialing",
            trial_ends_at=utcnow() + dt.timedelta(days=9))
    sign_in_as(client, "viewer")
    html = client.get("/admin/").data.decode()
    assert tiles(html)["MRR"] == ("/admin/tenants?subscription=active", "—")
    assert "No active subscriptions yet" in html


def test_signups_chart_draws_the_last_90_days_and_links_to_those_tenants(client, backend) -> None:
    now = utcnow()
    reserve_tenant("today")
    reserve_tenant("ten-days-a", created_at=now - dt.timedelta(days=10))
    reserve_tenant("ten-days-b", created_at=now - dt.timedelta(days=10))
    reserve_tenant("long-ago", created_at=now - dt.timedelta(days=120))
    sign_in_as(client, "viewer")
    html = client.get("/admin/").data.decode()
    chart = html[html.index("<svg"):html.index("</svg>")]
    assert 'role="img"' in chart and 'aria-labelledby="signups-title signups-desc"' in chart
    assert "<title id=\"signups-title\">Sign-ups per day, last 90 days (UTC)</title>" in chart
    assert chart.count('<rect class="bar"') == 2 and chart.count("<rect ") == 90  # a bar a day
    assert re.search(r'<rect class="bar"[^>]*><title>[^<]+: 2</title>', chart)
    summary = "3 sign-ups in the last 90 days, 1 in the last 7 days."
    assert summary in chart and f'<p class="muted">{summary}' in html  # readable without the picture
    assert "Show the numbers" in html  # and as a table of the 90 days
    assert 'href="/admin/tenants?created=90">Show these 3 tenants' in html
    assert slugs_listed(client, "/admin/tenants?created=90") == {"today", "ten-days-a", "ten-days-b"}


def test_the_polling_request_gets_the_tiles_fragment_alone(client, backend) -> None:
    reserve_tenant("acme")
    sign_in_as(client, "viewer")
    full = client.get("/admin/").data.decode()
    root = re.search(r'<div id="dashboard-tiles"[^>]*>', full).group(0)
    assert 'hx-get="/admin/"' in root and 'hx-trigger="every 30s"' in root and 'hx-swap="outerHTML"' in root

    fragment = client.get("/admin/", headers=HX)
    body = fragment.data.decode()
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert body.lstrip().startswith('<div id="dashboard-tiles"') and body.rstrip().endswith("</div>")
    assert "<html" not in body and "Newest tenants" not in body and "<nav" not in body
    assert tiles(body)["Active"] == ("/admin/tenants?status=active", "1")
    restore = client.get("/admin/", headers={**HX, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.data.decode()


def test_the_dashboard_runs_the_same_queries_whatever_the_fleet_size(client, backend) -> None:
    usd, idr = make_plan("usd"), make_plan("idr", currency="IDR", max_users=1)
    sign_in_as(client, "viewer")

    def queries_for_page() -> int:
        with count_queries() as queries:
            assert client.get("/admin/").status_code == 200
        return len(queries)

    reserve_tenant("first", usd)
    small = queries_for_page()
    now = utcnow()
    for i in range(12):
        reserve_tenant(f"more-{i}", idr if i % 2 else usd, billing_interval="year" if i % 3 else "month",
                usage_users=i, health_ok=i % 4 != 0, schema_revision="0000_old" if i % 5 == 0 else head(TENANT),
                created_at=now - dt.timedelta(days=7 * i))
    assert queries_for_page() == small


def test_the_dashboard_needs_a_signed_in_staff_member(client, backend) -> None:
    response = client.get("/admin/")
    assert response.status_code in (302, 303) and "/admin/login" in response.headers["Location"]
    fragment = client.get("/admin/", headers=HX)
    assert "dashboard-tiles" not in fragment.data.decode()
