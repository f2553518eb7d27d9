"""The root of the vendor host: where to go next."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, url_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index() -> Response:
    return redirect(url_for("admin.index"))  # type: ignore[return-value]


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness for load balancers: the process answers. (Per-tenant health: the console.)"""
    return {"status": "ok"}, 200
