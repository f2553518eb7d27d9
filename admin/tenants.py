"""Tenants in the vendor console: the list (the console's home for now)."""
from __future__ import annotations

from flask import Response, request
from sqlalchemy import select

from admin import bp
from extensions import db
from models.control import Tenant
from services.paging import keyset_page
from web.rendering import render

PAGE_SIZE = 50


@bp.get("/")
def index() -> Response:
    page = keyset_page(db.session, select(Tenant), [Tenant.created_at, Tenant.id], descending=True,
                       limit=PAGE_SIZE, after=request.args.get("after"),
                       before=request.args.get("before"))
    return render("admin/tenants/index.html", "results", page=page)
