"""The tenant's home: who they are, their plan and its usage, their latest orders."""
from __future__ import annotations

from flask import Response, g

from services.orders import latest_orders
from services.usage import current_usage, trial_days_left
from tenant_portal import bp
from tenancy.context import tenant_db
from web.rendering import render


@bp.get("/")
def home() -> Response:
    return render("tenant_portal/home.html", orders=latest_orders(tenant_db(), 10), plan=g.tenant.plan,
                  usage=current_usage(g.tenant, tenant_db()), trial_days=trial_days_left(g.tenant))
