"""Walk every route: the vendor console refuses anonymous people and tenant users; every tenant
page refuses anonymous people and users of other tenants. New endpoints are covered by default."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

PUBLIC = {"static", "home.index", "home.healthz", "admin.login", "portal.login", "portal.set_password",
          "admin.staff_set_password"}


def _routes(app: Any, prefix: str) -> Iterator[tuple[str, str, str]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or not rule.endpoint.startswith(prefix):
            continue
        values: dict[str, Any] = {}
        for arg in rule.arguments:
            if arg == "tenant_slug":
                continue
            converter = rule._converters[arg].__class__.__name__
            values[arg] = uuid.uuid4() if converter == "UUIDConverter" else "x1"
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, values  # type: ignore[misc]


def _refused(response: Any, login_path: str) -> bool:
    if response.status_code in (302, 303):
        return login_path in response.headers["Location"]
    return response.status_code in (401, 403)


def _call(client: Any, app: Any, endpoint: str, method: str, values: dict[str, Any], **url_values: Any) -> Any:
    with app.test_request_context():
        from flask import url_for
        url = url_for(endpoint, **values, **url_values)
    return client.open(url, method=method, data={})


@pytest.mark.modes("shared")
def test_every_admin_endpoint_refuses_anonymous_and_tenant_users(app, client, people, backend, isolation):
    routes = list(_routes(app, "admin."))
    assert routes, "no admin routes found"
    for endpoint, method, values in routes:
        response = _call(client, app, endpoint, method, values)
        assert _refused(response, "/admin/login"), (endpoint, method, response.status_code)
    people.alice.sign_in(client)
    for endpoint, method, values in routes:
        response = _call(client, app, endpoint, method, values)
        assert _refused(response, "/admin/login"), ("tenant user got in", endpoint, method)


def test_every_tenant_endpoint_refuses_anonymous_and_other_tenants(app, client, people, backend, isolation):
    routes = list(_routes(app, "portal."))
    assert routes, "no portal routes found"
    login = f"/t/{people.a.slug}/login"
    for endpoint, method, values in routes:
        response = _call(client, app, endpoint, method, values, tenant_slug=people.a.slug)
        assert _refused(response, login), (endpoint, method, response.status_code)
    people.charlie.sign_in(client)
    for endpoint, method, values in routes:
        response = _call(client, app, endpoint, method, values, tenant_slug=people.a.slug)
        assert _refused(response, login), ("charlie got into A", endpoint, method, response.status_code)
