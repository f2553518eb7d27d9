"""One resolver from a request to a tenant (DESIGN §2.1), in this order:

1. a verified custom domain            shop.example.com/orders
2. `<slug>.<TENANTRY_BASE_DOMAIN>`     acme.tenantry.app/orders
3. the path prefix `/t/<slug>/`        localhost:5000/t/acme/orders
4. the `X-Tenant-Slug` header          (API clients, reverse proxies) /orders

The portal's routes all live under `/t/<tenant_slug>`. `TenantAddressMiddleware` maps forms 1, 2
and 4 onto that prefix before routing and records how the tenant was addressed; `Tenantry.url_for`
strips the prefix again, so links generated inside a tenant stay on the form the request came in on.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, request
from sqlalchemy import select

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28})[a-z0-9]$")
RESERVED_SLUGS = frozenset({
    "admin", "www", "api", "app", "static", "status", "t", "login", "logout", "auth", "mail",
    "help", "support", "billing", "docs", "blog", "assets", "cdn", "console", "dashboard",
    "system", "root", "tenantry", "internal", "health", "metrics", "vendor", "new",
})
ENVIRON_KEY = "tenantry.address"
DOMAIN_PLACEHOLDER = "~"  # stands in the slug position for custom domains; never a valid slug


@dataclass(frozen=True)
class Address:
    form: str   # "domain" | "subdomain" | "path" | "header"
    value: str  # the host for "domain", otherwise the slug

    @property
    def placeholder(self) -> str:
        return DOMAIN_PLACEHOLDER if self.form == "domain" else self.value


def _host(environ: dict[str, Any]) -> str:
    raw = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").strip().lower()
    if raw.startswith("["):  # [::1]:5000
        return raw[1:raw.find("]")] if "]" in raw else raw
    return raw.rsplit(":", 1)[0] if raw.count(":") == 1 else raw


def _is_vendor_host(host: str, base_domain: str) -> bool:
    if host in ("", "localhost", base_domain, f"www.{base_domain}", f"admin.{base_domain}"):
        return True
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def address_from_environ(environ: dict[str, Any], base_domain: str) -> Address | None:
    """How the request names its tenant, from the host, path and headers alone (no database)."""
    host = _host(environ)
    path = environ.get("PATH_INFO") or "/"
    if not _is_vendor_host(host, base_domain):
        suffix = "." + base_domain
        if host.endswith(suffix) and "." not in host[: -len(suffix)]:
            return Address("subdomain", host[: -len(suffix)])
        return Address("domain", host)
    if path.startswith("/t/"):
        return Address("path", path[3:].split("/", 1)[0])
    header = environ.get("HTTP_X_TENANT_SLUG")
    if header is not None and not path.startswith(("/admin", "/static")) and path != "/favicon.ico":
        return Address("header", header.strip().lower()[:64])
    return None


class TenantAddressMiddleware:
    """Rewrites host- and header-addressed requests onto `/t/<slug>/...` before Flask routes them."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], base_domain: str) -> None:
        self.wsgi_app = wsgi_app
        self.base_domain = base_domain

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        address = address_from_environ(environ, self.base_domain)
        if address is not None and address.form != "path":
            path = environ.get("PATH_INFO") or "/"
            if not path.startswith("/static/"):
                environ["PATH_INFO"] = f"/t/{address.placeholder}{path}"
        environ[ENVIRON_KEY] = address
        return self.wsgi_app(environ, start_response)


def request_address() -> Address | None:
    return request.environ.get(ENVIRON_KEY)


def load_tenant(address: Address) -> Any:
    """The tenant an address names, or None. One indexed lookup, never cached across requests
    (so a suspension is seen by every worker on the very next request)."""
    from extensions import db
    from models.control import CustomDomain, Tenant

    if address.form == "domain":
        stmt = (select(Tenant).join(CustomDomain, CustomDomain.tenant_id == Tenant.id)
                .where(CustomDomain.domain == address.value, CustomDomain.verified_at.is_not(None)))
    else:
        if not SLUG_RE.match(address.value):
            return None
        stmt = select(Tenant).where(Tenant.slug == address.value)
    return db.session.execute(stmt).scalar_one_or_none()


class Tenantry(Flask):
    """Flask, with tenant links that keep the address form the request came in on."""

    def url_for(self, endpoint: str, /, **values: Any) -> str:
        return public_url(super().url_for(endpoint, **values))


def public_url(url: str) -> str:
    """`url` as the client addressed it: without the internal `/t/<slug>` prefix when the tenant
    came by host or header."""
    address = request_address() if request else None
    if address is None or address.form == "path":
        return url
    prefix = f"/t/{address.placeholder}"
    parts = urlsplit(url)
    if parts.path == prefix or parts.path.startswith(prefix + "/"):
        return urlunsplit(parts._replace(path=parts.path[len(prefix):] or "/"))
    return url
