"""The console's front page: tenants by status (each tile opens the filtered list) and the
newest tenants."""
from __future__ import annotations

from flask import Response

from admin import bp
from services.tenant_queries import STATUSES, newest_tenants
from services.tenants import tenant_counts_by_status
from web.rendering import render


@bp.get("/")
def index() -> Response:
    counts = tenant_counts_by_status()
    tiles = [(status, counts.get(status, 0)) for status in STATUSES if status != "deleted"]
    return render("admin/dashboard/index.html", tiles=tiles, total=sum(counts.values()),
                  newest=newest_tenants(10))
