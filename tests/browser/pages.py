"""The pages the issue names — checked with axe, at phone width, and photographed by
`make screenshots`: one list, so the three never drift apart."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STAFF, MEMBER = "staff", "member"


@dataclass(frozen=True)
class Showcase:
    name: str      # screenshot file stem, e.g. console-dashboard
    audience: str  # who must be signed in to see it: STAFF (console) or MEMBER (the tenant's owner)
    path: str
    title: str     # what the page is, for messages and the README


def showcase(slug: str, order_id: Any) -> list[Showcase]:
    return [
        Showcase("console-dashboard", STAFF, "/admin/", "Vendor dashboard"),
        Showcase("console-tenants", STAFF, "/admin/tenants", "Tenant list"),
        Showcase("console-tenant", STAFF, f"/admin/tenants/{slug}", "Tenant detail"),
        Showcase("portal-orders", MEMBER, f"/t/{slug}/orders", "Orders list"),
        Showcase("portal-order", MEMBER, f"/t/{slug}/orders/{order_id}", "Order detail"),
        Showcase("portal-stats", MEMBER, f"/t/{slug}/stats", "Stats"),
    ]
