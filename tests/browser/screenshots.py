"""`make screenshots`: PNGs of the main pages, desktop (1280 px) and phone (375 px).

    .venv/bin/python -m tests.browser.screenshots [OUT_DIR]     (default docs/screenshots)

Seeds the demo (`flask seed-demo`: plans, vendor staff, acme/globex/initech with a few hundred
orders each) into a temporary SQLite instance, serves it on 127.0.0.1 on a free port, signs in as
the demo vendor owner and as acme's owner in Chromium, and saves <page>-desktop.png and
<page>-phone.png for every page in tests/browser/pages.py. Nothing outside OUT_DIR is touched.
"""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 375, "height": 812}}


@contextmanager
def demo_server() -> Iterator[tuple[str, Any, Any]]:
    """The app with the demo data, served on 127.0.0.1: (base URL, app, an order id of acme)."""
    with tempfile.TemporaryDirectory(prefix="tenantry-screenshots-") as instance:
        os.environ.update(TENANTRY_INSTANCE_PATH=instance, TENANTRY_ENV="dev", BCRYPT_ROUNDS="4")
        for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
            os.environ.pop(name, None)
        from werkzeug.serving import make_server

        from app import create_app
        from extensions import db
        app = create_app()
        with app.app_context():
            from services.demo import seed_demo
            from tenancy.cli import setup_database
            setup_database()
            seed_demo(password=app.config["DEMO_PASSWORD"], rounds=app.config["BCRYPT_ROUNDS"],
                      backend=db.engine.dialect.name,
                      main_url=db.engine.url.render_as_string(hide_password=False), say=lambda _m: None)
            order_id = _showcase_order("acme")
            db.session.remove()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}", app, order_id
        finally:
            server.shutdown()
            thread.join(timeout=5)
            with app.app_context():
                storage = app.extensions.get("tenantry_storage")
                if storage is not None:
                    storage.engines.dispose_all()
                db.engine.dispose()


def _showcase_order(slug: str) -> Any:
    """The newest pending order: its page shows the actions a person can take on it."""
    from sqlalchemy import select

    from extensions import db
    from models.control import Tenant
    from models.tenant import Order
    from tenancy.context import tenant_context
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
    with tenant_context(tenant) as ctx:
        return ctx.session.execute(select(Order.id).where(Order.payment_status == "pending")
                                   .order_by(Order.created_at.desc()).limit(1)).scalar_one()


def _sign_in(page: Any, login_path: str, email: str, password: str, landing: str) -> None:
    page.goto(login_path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**{landing}")


def capture(base_url: str, app: Any, order_id: Any, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.browser.pages import MEMBER, STAFF, showcase
    password = app.config["DEMO_PASSWORD"]
    pages = showcase("acme", order_id)
    saved: list[Path] = []
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for size, viewport in SIZES.items():
            tabs = {}
            for audience, login, email, landing in ((STAFF, "/admin/login", "admin@tenantry.test", "/admin/"),
                                                    (MEMBER, "/t/acme/login", "owner@acme.test", "/t/acme/")):
                context = browser.new_context(viewport=viewport, base_url=base_url,
                                              device_scale_factor=1, reduced_motion="reduce")
                tab = context.new_page()
                _sign_in(tab, login, email, password, landing)
                tabs[audience] = tab
            for shown in pages:
                tab = tabs[shown.audience]
                response = tab.goto(shown.path)
                if response is None or response.status != 200:
                    raise SystemExit(f"{shown.path} answered {response and response.status}")
                tab.wait_for_load_state("networkidle")
                path = out / f"{shown.name}-{size}.png"
                tab.screenshot(path=str(path), full_page=True, animations="disabled", caret="hide")
                saved.append(path)
            for tab in tabs.values():
                tab.context.close()
        browser.close()
    return saved


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "screenshots"
    started = time.monotonic()
    print("seeding the demo into a temporary instance …", flush=True)
    with demo_server() as (base_url, app, order_id):
        print(f"serving on {base_url}; photographing …", flush=True)
        saved = capture(base_url, app, order_id, out.resolve())
    for path in saved:
        print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{len(saved)} screenshots in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
