"""Reading the audit trail: the filtered, keyset-paged log, one event, a tenant's timeline, and
the before/after difference an event describes."""
from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Mapping

from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, Tenant
from services.errors import NotFound, ValidationFailed
from services.paging import Page, keyset_page
from services.text import parse_day

PAGE_SIZE = 50
MISSING = "—"


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    tenant: str = ""        # slug
    action: str = ""        # exact, or a prefix ending in "." (e.g. "tenant.")
    date_from: str = ""     # YYYY-MM-DD, UTC, inclusive
    date_to: str = ""

    def args(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


def parse_audit_query(args: Mapping[str, str]) -> AuditQuery:
    values = {k: re.sub(r"\s+", " ", args.get(k, "") or "").strip()
              for k in ("actor", "tenant", "action", "date_from", "date_to")}
    for key, value in values.items():
        if len(value) > 100 or "\x00" in value:
            raise ValidationFailed(f"The {key.replace('_', ' ')} filter is too long.", key)
    start, end = parse_day(values["date_from"], "date_from"), parse_day(values["date_to"], "date_to")
    if start and end and start > end:
        raise ValidationFailed("The start date is after the end date.", "date_from")
    return AuditQuery(**values)


def list_events(query: AuditQuery, *, after: str | None = None, before: str | None = None,
                limit: int = PAGE_SIZE) -> Page[AuditEvent]:
    stmt = select(AuditEvent)
    if query.actor:
        stmt = stmt.where(AuditEvent.actor_label.icontains(query.actor, autoescape=True))
    if query.tenant:
        stmt = stmt.where(AuditEvent.tenant_id.in_(
            select(Tenant.id).where(Tenant.slug == query.tenant.lower())))
    if query.action.endswith("."):
        stmt = stmt.where(AuditEvent.action.startswith(query.action, autoescape=True))
    elif query.action:
        stmt = stmt.where(AuditEvent.action == query.action)
    start, end = parse_day(query.date_from, "date_from"), parse_day(query.date_to, "date_to")
    if start:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(start, dt.time(), dt.timezone.utc))
    if end:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(end + dt.timedelta(days=1), dt.time(),
                                                              dt.timezone.utc))
    return keyset_page(db.session, stmt, [AuditEvent.at, AuditEvent.id], descending=True,
                       limit=limit, after=after, before=before)


def get_event(event_id: uuid.UUID) -> AuditEvent:
    event = db.session.get(AuditEvent, event_id)
    if event is None:
        raise NotFound("No such audit event.")
    return event


def tenant_timeline(tenant_id: uuid.UUID, limit: int = 50) -> list[AuditEvent]:
    return list(db.session.execute(select(AuditEvent).where(AuditEvent.tenant_id == tenant_id)
                                   .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                   .limit(limit)).scalars())


def slug_of(tenant_id: uuid.UUID | None) -> str | None:
    if tenant_id is None:
        return None
    return db.session.execute(select(Tenant.slug).where(Tenant.id == tenant_id)).scalar_one_or_none()


@dataclass(frozen=True)
class Change:
    key: str
    before: Any
    after: Any


def changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> list[Change]:
    """Keys whose value differs between `before` and `after`, in a stable order; a key on one
    side only shows MISSING on the other."""
    before, after = before or {}, after or {}
    keys = list(before) + [k for k in after if k not in before]
    return [Change(k, before.get(k, MISSING), after.get(k, MISSING))
            for k in keys if before.get(k, MISSING) != after.get(k, MISSING)]
