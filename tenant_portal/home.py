"""The tenant's home: who they are, their plan, their latest orders."""
from __future__ import annotations

from flask import Response, g

from services.orders import latest_orders
from tenant_portal import bp
from tenancy.context import tenant_db
from web.rendering import render


@bp.get("/")
def home() -> Response:
    return render("tenant_portal/home.html", orders=latest_orders(tenant_db(), 10), plan=g.tenant.plan)
