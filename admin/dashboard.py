"""The console's front page: revenue, what needs attention, tenants by status, sign-ups and the
newest tenants. Every tile opens the tenant list filtered to exactly the tenants it counts; the
tiles refresh themselves (htmx polls the "tiles" block every 30 s), the page is whole without JS."""
from __future__ import annotations

from flask import Response

from admin import bp
from services.dashboard import SIGNUP_DAYS, TRIAL_WINDOW_DAYS, dashboard_numbers
from services.tenant_queries import STATUSES, newest_tenants
from web.rendering import render


@bp.get("/")
def index() -> Response:
    numbers = dashboard_numbers()
    statuses = [(status, numbers.by_status.get(status, 0)) for status in STATUSES if status != "deleted"]
    return render("admin/dashboard/index.html", "tiles", d=numbers, statuses=statuses,
                  trial_days=TRIAL_WINDOW_DAYS, signup_days=SIGNUP_DAYS, newest=newest_tenants(10))
