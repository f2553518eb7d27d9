"""Tenantry: the vendor console (/admin) and every tenant's back-office, in one Flask app.

create_app() reads as its steps: config → extensions → tenancy → blueprints → errors → CLI.
It does no database work: the first request (or `flask setup`) is the first to connect.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import load_config
from extensions import csrf, db, htmx, login_manager
from tenancy.resolver import TenantAddressMiddleware, Tenantry


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    instance_path = Path(os.environ.get("TENANTRY_INSTANCE_PATH") or Path(__file__).parent / "instance")
    app = Tenantry(__name__, instance_path=str(instance_path.resolve()))
    configure(app, test_config)
    register_extensions(app)
    register_tenancy(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_mapping(load_config(Path(app.instance_path)))
    if test_config:
        app.config.from_mapping(test_config)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are bound per audience in web.auth
    from web.auth import load_request_user
    login_manager.request_loader(load_request_user)
    from web.security import register_security_headers
    register_security_headers(app)


def register_tenancy(app: Flask) -> None:
    import models  # noqa: F401  (mappers, and the fail-closed session guards with them)
    import tenancy.context  # noqa: F401
    from tenancy.checks import guard_engine
    from tenancy.storage import configure_engine
    with app.app_context():  # engines exist after init_app; nothing connects here
        configure_engine(db.engine)
        guard_engine(db.engine)
    app.wsgi_app = TenantAddressMiddleware(app.wsgi_app, app.config["TENANTRY_BASE_DOMAIN"])  # type: ignore[method-assign]
    if app.config["TENANTRY_ENV"] == "production":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from admin import bp as admin_bp
    from tenant_portal import bp as portal_bp
    from web.home import bp as home_bp
    app.register_blueprint(home_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(portal_bp, url_prefix="/t/<tenant_slug>")


def register_errorhandlers(app: Flask) -> None:
    from web.errors import register_error_pages
    register_error_pages(app)


def register_template_helpers(app: Flask) -> None:
    from web.features import register_features
    from web.templating import register_filters
    register_filters(app)
    register_features(app)


def register_commands(app: Flask) -> None:
    from tenancy.cli import clean_cli_errors, register_cli
    register_cli(app)
    clean_cli_errors(app.cli)
