"""Who is signed in, for both audiences, in one signed-cookie session.

`session["auth"]` holds one entry per audience: "staff" for vendor staff, "tenant:<id>" for a user
of that tenant. A tenant user's entry is read only while that very tenant is the request's tenant,
so a session from tenant A is not signed in at tenant B, whatever host, path or header is used.
Each entry records the user's `auth_version`; bumping it (disable, password change) ends every
session at the next request. Idle and absolute timeouts apply per entry.
"""
from __future__ import annotations

import time
from typing import Any, Callable

from flask import current_app, g, request, session

STAFF = "staff"


def tenant_key(tenant_id: Any) -> str:
    return f"tenant:{tenant_id}"


def sign_in(key: str, user: Any, scope_version: int = 1) -> None:
    """Start a new session for `user` under `key`; other audiences' sign-ins are kept.
    `scope_version` is the tenant's session version: bumping it ends every session under it."""
    others = {k: v for k, v in (session.get("auth") or {}).items() if k != key}
    session.clear()  # new session: a fresh CSRF token, nothing carried over from before sign-in
    now = int(time.time())
    others[key] = {"id": str(user.id), "v": user.auth_version, "tv": scope_version, "at": now,
                   "seen": now}
    session["auth"] = others
    session.permanent = True


def sign_out(key: str) -> None:
    entries = dict(session.get("auth") or {})
    entries.pop(key, None)
    session.clear()
    if entries:
        session["auth"] = entries


def signed_in_user(key: str, load: Callable[[str], Any], scope_version: int = 1) -> Any:
    """The user under `key` if the session entry is still valid, else None (and the entry goes)."""
    entry = (session.get("auth") or {}).get(key)
    if not entry:
        return None
    if entry.get("tv", 1) != scope_version:  # the tenant was suspended or closed since sign-in
        _drop(key)
        return None
    now = int(time.time())
    cfg = current_app.config
    expired = (now - entry.get("seen", 0) > cfg["SESSION_IDLE_SECONDS"]
               or now - entry.get("at", 0) > cfg["SESSION_MAX_SECONDS"])
    user = None if expired else load(entry.get("id", ""))
    if user is None or not user.is_active or user.auth_version != entry.get("v"):
        _drop(key)
        return None
    if now - entry["seen"] >= 60:  # refresh the idle clock at most once a minute
        entries = dict(session["auth"])
        entries[key] = {**entry, "seen": now}
        session["auth"] = entries
    return user


def _drop(key: str) -> None:
    entries = dict(session.get("auth") or {})
    if entries.pop(key, None) is not None:
        session["auth"] = entries


def client_address() -> str:
    # ProxyFix (configured in production) rewrites remote_addr from X-Forwarded-For.
    return request.remote_addr or "unknown"


def _uuid(raw: str) -> Any:
    import uuid
    try:
        return uuid.UUID(raw)
    except (ValueError, TypeError):
        return None


def load_request_user(_request: Any) -> Any:
    """Flask-Login's request loader: the signed-in user for this request's audience, or None."""
    from extensions import db
    from models.control import VendorStaff
    from models.tenant import TenantUser
    from tenancy.context import current_context, has_context

    if request.blueprint == "admin":
        def load_staff(raw: str) -> Any:
            uid = _uuid(raw)
            return db.session.get(VendorStaff, uid) if uid else None
        return signed_in_user(STAFF, load_staff)
    if has_context():
        ctx = current_context()

        def load_member(raw: str) -> Any:
            uid = _uuid(raw)
            return ctx.session.get(TenantUser, (ctx.tenant_id, uid)) if uid else None
        tenant = g.get("tenant")
        version = tenant.session_version if tenant is not None and tenant.id == ctx.tenant_id else 0
        return signed_in_user(tenant_key(ctx.tenant_id), load_member, version)
    return None


def sign_in_required(login_url: str) -> Any:
    """The response for a request that needs a signed-in user: a redirect to sign in (HX-Redirect
    for htmx), or 401 JSON for API clients."""
    from flask import Response, redirect

    from web.errors import error_response, wants_json
    if request.headers.get("HX-Request"):
        response = Response(status=401)
        response.headers["HX-Redirect"] = login_url
        return response
    if request.method == "GET" and not wants_json():
        return redirect(login_url)
    return error_response(401, "Sign in first.", "Sign in required", error="unauthenticated",
                          home_url=login_url)


def login_url_for(endpoint: str) -> str:
    from flask import url_for

    from tenancy.resolver import public_url
    next_path = public_url(request.full_path.rstrip("?")) if request.method == "GET" else None
    return url_for(endpoint, next=next_path)
