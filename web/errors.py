"""Every error is a clear page (or JSON for API clients); no request input produces a bare 500."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, jsonify, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from services.errors import ServiceError
from tenancy.errors import TenantStorageUnavailable

log = logging.getLogger("tenantry")

TITLES = {
    400: "That request could not be understood",
    402: "Plan limit reached",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    409: "Conflict",
    413: "Too large",
    422: "Please check the form",
    429: "Too many attempts",
    500: "Something went wrong on our side",
    503: "Temporarily unavailable",
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def error_response(code: int, message: str, title: str | None = None, *,
                   error: str | None = None, home_url: str | None = None) -> Response:
    title = title or TITLES.get(code, "Error")
    if wants_json():
        response = jsonify({"error": error or title.lower().replace(" ", "_"), "message": message})
        response.status_code = code
        return response
    if home_url is None:
        home_url = request.script_root + "/"
    template = "errors/_error.html" if getattr(request, "htmx", False) else "errors/error.html"
    response = make_response(render_template(template, code=code, title=title, message=message,
                                             home_url=home_url), code)
    response.vary.add("HX-Request")
    return response


def _settle_as_anonymous() -> None:
    """Flask-Login loads the user for every template; when the database is what failed, that load
    would fail again inside the error page. Settle the request as anonymous if nobody was loaded."""
    if "_login_user" not in g:
        from extensions import login_manager
        g._login_user = login_manager.anonymous_user()


def register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        code = exc.code or 500
        message = {404: "There is nothing at this address. Check the link, or go back.",
                   405: "This address does not accept that kind of request."}.get(
            code, exc.description or TITLES.get(code, "Error"))
        response = error_response(code, message)
        if code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response:
        return error_response(400, "The form expired or came from another site. Reload the page "
                                   "and try again.", "Form expired", error="csrf")

    @app.errorhandler(ServiceError)
    def _refused(exc: ServiceError) -> Response:
        # Views map expected refusals onto their forms; one that escapes still gets a clear page.
        return error_response(exc.status, exc.message)

    @app.errorhandler(TenantStorageUnavailable)
    def _tenant_down(exc: TenantStorageUnavailable) -> Response:
        _settle_as_anonymous()
        return error_response(503, "This account's data cannot be reached right now. Please try "
                                   "again in a minute.", error="tenant_unavailable")

    @app.errorhandler(OperationalError)
    def _db_down(exc: OperationalError) -> Response:
        _settle_as_anonymous()
        ctx = g.get("tenant_ctx")
        if ctx is not None and ctx.target.isolation == "database":
            # Only this tenant's database is down: remember it, so the next requests fail fast.
            from tenancy.context import get_storage
            get_storage().engines.mark_down(ctx.target)
        log.error("database unavailable: %s", exc)
        return error_response(503, "The database cannot be reached right now. Please try again "
                                   "in a minute.", error="database_unavailable")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Last resort: log with the traceback, show a calm page, leak nothing.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "The error has been logged. Please try again; if it keeps "
                                   "happening, contact support.")
