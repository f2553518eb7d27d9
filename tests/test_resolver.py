"""The four ways to address a tenant, and links that stay on the form the request came in on."""
from __future__ import annotations

import re

import pytest

from extensions import db
from models.control import CustomDomain, utcnow
from tenancy.resolver import Address, address_from_environ


@pytest.mark.parametrize("host, path, header, expected", [
    ("shop.example.com", "/orders", None, Address("domain", "shop.example.com")),
    ("acme.tenantry.test", "/orders", None, Address("subdomain", "acme")),
    ("tenantry.test", "/t/acme/orders", None, Address("path", "acme")),
    ("localhost:5000", "/t/acme/", "globex", Address("path", "acme")),
    ("127.0.0.1:5000", "/orders", "acme", Address("header", "acme")),
    ("localhost", "/admin/", "acme", None),
    ("a.b.tenantry.test", "/", None, Address("domain", "a.b.tenantry.test")),
    ("www.tenantry.test", "/admin/", None, None),
])
def test_address_forms_in_order(host, path, header, expected):
    environ = {"HTTP_HOST": host, "PATH_INFO": path}
    if header:
        environ["HTTP_X_TENANT_SLUG"] = header
    assert address_from_environ(environ, "tenantry.test") == expected


@pytest.mark.modes("shared")
def test_verified_custom_domain_serves_the_tenant_and_links_stay_on_it(client, people, backend, isolation):
    db.session.add(CustomDomain(tenant_id=people.a.id, domain="shop.alice.example", verification_token="t",
                                verified_at=utcnow()))
    db.session.add(CustomDomain(tenant_id=people.b.id, domain="unverified.example", verification_token="t"))
    db.session.commit()
    base = "http://shop.alice.example"
    response = client.get("/", base_url=base)
    assert response.status_code == 302 and response.headers["Location"] == "/login?next=/"
    signed = client.post("/login", base_url=base, data={"email": people.alice.email, "password": people.alice.password})
    assert signed.headers["Location"] == "/"
    home = client.get("/", base_url=base)
    assert home.status_code == 200
    links = set(re.findall(r'(?:href|action)="(/[^"]*)"', home.data.decode()))
    assert links and not any(link.startswith("/t/") for link in links)
    assert client.get("/", base_url="http://unverified.example").status_code == 404
    assert client.get("/admin/", base_url=base).status_code == 404  # no console on a tenant's domain


@pytest.mark.modes("shared")
def test_links_keep_the_path_form(client, people, backend, isolation):
    people.alice.sign_in(client)
    home = client.get(f"/t/{people.a.slug}/").data.decode()
    assert f'action="/t/{people.a.slug}/logout"' in home
