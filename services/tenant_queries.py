"""Reading tenants for the vendor console: the searchable, filtered, sorted, keyset-paged list,
and the conditions the dashboard counts with (each dashboard tile opens this list filtered by the
very condition it counted). Usage figures are the control-plane mirror (`Tenant.usage_*`), so a
page of tenants is one statement whatever the fleet size."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from sqlalchemy import ColumnElement, and_, exists, or_, select

from extensions import db
from models.control import Isolation, Plan, SubscriptionStatus, Tenant, TenantStatus, utcnow
from services.errors import ValidationFailed
from services.paging import Page, keyset_page
from services.plans import CURRENCIES
from services.text import search_term
from tenancy.migrations import TENANT, head

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
SUBSCRIPTIONS = tuple(s.value for s in SubscriptionStatus)
LIMITS = {"reached": "At or over a limit", "over": "Over a limit"}
REVISIONS = {"behind": "Behind head", "head": "At head"}
# Day counts offered in the list's filters; the URL takes any count within the maximum.
TRIAL_ENDING_DAYS, TRIAL_ENDING_MAX = (7, 14, 30), 90
CREATED_DAYS, CREATED_MAX = (7, 30, 90, 365), 365
# Tenants whose storage is not (or no longer) kept at the head revision: being set up, failed
# before it was ready, or erased. Their revision is not "behind"; their status says more.
NO_REVISION = (TenantStatus.PROVISIONING.value, TenantStatus.PROVISIONING_FAILED.value,
               TenantStatus.DELETED.value)


def trial_ending_within(days: int, now: dt.datetime) -> ColumnElement[bool]:
    """On a trial that ends after `now` and at most `days` days later."""
    return and_(Tenant.status == TenantStatus.TRIAL.value, Tenant.trial_ends_at > now,
                Tenant.trial_ends_at <= now + dt.timedelta(days=days))


def at_plan_limit(strictly_over: bool = False) -> ColumnElement[bool]:
    """Usage (the control-plane mirror) at or over one of the plan's limits; a NULL limit is
    unlimited (plans refuse 0). "At" counts, as the usage meters flag it: the next write is refused."""
    usage = ((Tenant.usage_orders_month, Plan.max_orders_per_month),
             (Tenant.usage_customers, Plan.max_customers), (Tenant.usage_users, Plan.max_users))
    return exists().where(Plan.id == Tenant.plan_id, or_(*(
        and_(limit.is_not(None), used > limit if strictly_over else used >= limit)
        for used, limit in usage)))


def revision_behind(head_revision: str) -> ColumnElement[bool]:
    """A tenant with storage whose recorded revision is not the tenant track's head. Shared-mode
    tenants carry the revision of the shared tables (recorded for all of them by `flask setup` and
    `flask tenants migrate`), so they fall behind, and come back, together."""
    return and_(Tenant.status.not_in(NO_REVISION),
                or_(Tenant.schema_revision.is_(None), Tenant.schema_revision != head_revision))


def created_since(days: int, now: dt.datetime) -> dt.datetime:
    """The start of the window "the last `days` days": midnight UTC `days - 1` days ago, so the
    window is `days` whole UTC days, today included (the sign-up chart's bars)."""
    midnight = now.astimezone(dt.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - dt.timedelta(days=days - 1)


@dataclass(frozen=True)
class TenantQuery:
    q: str = ""
    status: str = ""
    plan: str = ""
    isolation: str = ""
    health: str = ""
    subscription: str = ""
    billed_in: str = ""      # the plan's currency
    trial_ending: int = 0    # days; 0 = no filter
    limit: str = ""
    revision: str = ""
    created: int = 0         # days; 0 = no filter
    sort: str = "newest"

    def args(self) -> dict[str, str | int]:
        """The non-default values, for URLs that keep the current view."""
        return {k: v for k, v in asdict(self).items() if v and not (k == "sort" and v == "newest")}


def _days(args: Mapping[str, str], name: str, maximum: int, what: str) -> int:
    raw = (args.get(name, "") or "").strip()
    if not raw:
        return 0
    if not re.fullmatch(r"[0-9]{1,4}", raw) or not 1 <= int(raw) <= maximum:
        raise ValidationFailed(f"{what} takes a number of days from 1 to {maximum}.", name)
    return int(raw)


def parse_tenant_query(args: Mapping[str, str]) -> TenantQuery:
    """Validate the list's query string; bad values are a clear 422, never a crash."""
    q = search_term(args.get("q"))
    choices = {"status": STATUSES, "isolation": ISOLATIONS, "health": tuple(HEALTH),
               "subscription": SUBSCRIPTIONS, "billed_in": CURRENCIES, "limit": tuple(LIMITS),
               "revision": tuple(REVISIONS), "sort": tuple(SORTS)}
    values: dict[str, str] = {}
    for name, allowed in choices.items():
        value = (args.get(name, "") or "").strip()
        if value and value not in allowed:
            raise ValidationFailed(f"Unknown {name.replace('_', ' ')} '{value[:30]}'. Choose one of: "
                                   f"{', '.join(allowed)}.", name)
        values[name] = value
    plan = (args.get("plan", "") or "").strip()
    if len(plan) > 40:
        raise ValidationFailed("Unknown plan.", "plan")
    return TenantQuery(q=q, plan=plan, status=values["status"], isolation=values["isolation"],
                       health=values["health"], subscription=values["subscription"],
                       billed_in=values["billed_in"], limit=values["limit"],
                       revision=values["revision"],
                       trial_ending=_days(args, "trial_ending", TRIAL_ENDING_MAX, "Trial ending"),
                       created=_days(args, "created", CREATED_MAX, "Created"),
                       sort=values["sort"] or "newest")


def list_tenants(query: TenantQuery, *, after: str | None = None, before: str | None = None,
                 limit: int = PAGE_SIZE, now: dt.datetime | None = None) -> Page[Tenant]:
    now = now or utcnow()
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
    if query.subscription:
        stmt = stmt.where(Tenant.subscription_status == query.subscription)
    if query.billed_in:
        stmt = stmt.where(Tenant.plan_id.in_(select(Plan.id).where(Plan.currency == query.billed_in)))
    if query.trial_ending:
        stmt = stmt.where(trial_ending_within(query.trial_ending, now))
    if query.limit:
        stmt = stmt.where(at_plan_limit(strictly_over=query.limit == "over"))
    if query.revision == "behind":
        stmt = stmt.where(revision_behind(head(TENANT)))
    elif query.revision == "head":
        stmt = stmt.where(Tenant.schema_revision == head(TENANT))
    if query.created:
        stmt = stmt.where(Tenant.created_at >= created_since(query.created, now))
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
