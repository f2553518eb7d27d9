"""The audit log: every recorded action, newest first, filtered; one event with its difference."""
from __future__ import annotations

import uuid

from flask import Response, request

from admin import bp, requires
from services import staff as perms
from services.audit_queries import changes, get_event, list_events, parse_audit_query, slug_of
from web.rendering import render


@bp.get("/audit")
@requires(perms.READ)
def audit() -> Response:
    query = parse_audit_query(request.args)
    page = list_events(query, after=request.args.get("after"), before=request.args.get("before"))
    return render("admin/audit/index.html", "results", page=page, query=query)


@bp.get("/audit/<uuid:event_id>")
@requires(perms.READ)
def audit_event(event_id: uuid.UUID) -> Response:
    event = get_event(event_id)
    return render("admin/audit/detail.html", event=event, tenant_slug=slug_of(event.tenant_id),
                  changes=changes(event.before, event.after))
