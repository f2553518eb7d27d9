"""Playwright + Debian's Chromium against the app served for real on 127.0.0.1, on PostgreSQL.

Every browser test is marked `postgres_only` (the journeys must hold on PostgreSQL, with row-level
security on); the tenants they create are in shared mode unless a test says otherwise. The served
app checks CSRF tokens, as in production: the browser carries them like a person's would.

Without Chromium these tests are skipped — or fail, with REQUIRE_BROWSER=1 (CI).
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}

# What the browser prints for an error status the test provoked on purpose (a 404 after a flag is
# turned off, the 403 of a suspended tenant, a 422 form): expected, not a failure. Everything else
# on the console at error level — a JavaScript exception, a CSP refusal, a 500 — fails the test.
EXPECTED_CONSOLE = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d"
                              r"|^Response Status Error Code 4\d\d")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if Path(CHROMIUM).exists():
        return
    browser_items = [i for i in items if "tests/browser" in str(i.fspath)]
    if browser_items and os.environ.get("REQUIRE_BROWSER") == "1":
        raise pytest.UsageError(f"REQUIRE_BROWSER=1 but Chromium is not at {CHROMIUM} "
                                "(apt-get install -y chromium)")
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=f"Chromium not installed at {CHROMIUM}"))


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    app.config["WTF_CSRF_ENABLED"] = True  # the suite's default is off; a real browser sends tokens
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


def _watch(tab: Any, errors: list[str]) -> None:
    tab.on("pageerror", lambda exc: errors.append(f"{tab.url}: {exc}"))
    tab.on("console", lambda msg: errors.append(f"{tab.url}: {msg.text}")
           if msg.type == "error" and not EXPECTED_CONSOLE.search(msg.text) else None)


@pytest.fixture
def new_page(browser: Any, live_server: str) -> Iterator[Callable[..., Any]]:
    """new_page(js=True, viewport=DESKTOP, **context_options) → a tab in a fresh browser context
    (its own cookies: one context is one person). Closed after the test, which fails if any tab
    logged a JavaScript or CSP error."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_tab(js: bool = True, viewport: dict[str, int] | None = None, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, java_script_enabled=js,
                                      base_url=live_server, **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        tab = context.new_page()
        _watch(tab, errors)
        return tab

    yield open_tab
    for context in contexts:
        context.close()
    assert errors == [], "browser errors:\n" + "\n".join(errors)


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """One desktop tab with JavaScript on."""
    return new_page()
