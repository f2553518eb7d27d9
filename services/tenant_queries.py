"""Reading tenants for the vendor console: the searchable, filtered, sorted, keyset-paged list,
and the dashboard's counts. Usage figures are the control-plane mirror (`Tenant.usage_*`), so a
page of tenants is one statement whatever the fleet size."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Mapping

from sqlalchemy import or_, select

from extensions import db
from models.control import Isolation, Plan, Tenant, TenantStatus
from services.errors import ValidationFailed
from services.paging import Page, keyset_page
from services.text import search_term

PAGE_SIZE = 50

# sort name → (label, keyset columns, descending)
SORTS: dict[str, tuple[str, tuple[Any, ...], bool]] = {
    "newest": ("Newest first", (Tenant.created_at, Tenant.id), True),
    "name": ("Name A–Z", (Tenant.name, Tenant.id), False),
    "active": ("Last active", (Tenant.active_sort, Tenant.id), True),
}
HEALTH = {"ok": "Healthy", "unhealthy": "Unhealthy", "unknown": "Not checked"}
STATUSES = tuple(s.value for s in TenantStatus)
ISOLATIONS = tuple(m.value for m in Isolation)


@dataclass(frozen=True)
class TenantQuery:
    q: str = ""
    status: str = ""
    plan: str = ""
    isolation: str = ""
    health: str = ""
    sort: str = "newest"

    def args(self) -> dict[str, str]:
        """The non-default values, for URLs that keep the current view."""
        return {k: v for k, v in asdict(self).items() if v and not (k == "sort" and v == "newest")}


def parse_tenant_query(args: Mapping[str, str]) -> TenantQuery:
    """Validate the list's query string; bad values are a clear 422, never a crash."""
    q = search_term(args.get("q"))
    choices = {"status": STATUSES, "isolation": ISOLATIONS, "health": tuple(HEALTH),
               "sort": tuple(SORTS)}
    values: dict[str, str] = {}
    for name, allowed in choices.items():
        value = (args.get(name, "") or "").strip()
        if value and value not in allowed:
            raise ValidationFailed(f"Unknown {name} '{value[:30]}'. Choose one of: "
                                   f"{', '.join(allowed)}.", name)
        values[name] = value
    plan = (args.get("plan", "") or "").strip()
    if len(plan) > 40:
        raise ValidationFailed("Unknown plan.", "plan")
    return TenantQuery(q=q, plan=plan, status=values["status"], isolation=values["isolation"],
                       health=values["health"], sort=values["sort"] or "newest")


def list_tenants(query: TenantQuery, *, after: str | None = None, before: str | None = None,
                 limit: int = PAGE_SIZE) -> Page[Tenant]:
    stmt = select(Tenant)
    if query.q:
        stmt = stmt.where(or_(Tenant.slug.icontains(query.q, autoescape=True),
                              Tenant.name.icontains(query.q, autoescape=True),
                              Tenant.owner_email.icontains(query.q, autoescape=True)))
    if query.status:
        stmt = stmt.where(Tenant.status == query.status)
    if query.isolation:
        stmt = stmt.where(Tenant.isolation == query.isolation)
    if query.plan:
        stmt = stmt.where(Tenant.plan_id.in_(select(Plan.id).where(Plan.slug == query.plan)))
    if query.health == "ok":
        stmt = stmt.where(Tenant.health_ok.is_(True))
    elif query.health == "unhealthy":
        stmt = stmt.where(Tenant.health_ok.is_(False))
    elif query.health == "unknown":
        stmt = stmt.where(Tenant.health_ok.is_(None))
    _, keys, descending = SORTS[query.sort]
    return keyset_page(db.session, stmt, keys, descending=descending, limit=limit, after=after,
                       before=before)


def plan_choices() -> list[tuple[str, str]]:
    """(slug, name) of every plan, archived ones last — for filters."""
    rows = db.session.execute(select(Plan.slug, Plan.name, Plan.archived)
                              .order_by(Plan.archived, Plan.name)).all()
    return [(slug, f"{name} (archived)" if archived else name) for slug, name, archived in rows]


def newest_tenants(limit: int = 10) -> list[Tenant]:
    return list(db.session.execute(select(Tenant).order_by(Tenant.created_at.desc(), Tenant.id.desc())
                                   .limit(limit)).scalars())
