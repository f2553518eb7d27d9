"""The audit trail: who did what to which target, before/after, when, from where.

`record` adds the event to the caller's unit of work (no commit here): the event lands with the
change it describes, or not at all.
"""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from extensions import db
from models.control import AuditEvent


@dataclass(frozen=True)
class Actor:
    type: str           # staff | tenant_user | system
    id: str | None
    label: str          # email, or "system" / "cli"
    ip: str | None = None


SYSTEM = Actor("system", None, "system")
CLI = Actor("system", None, "cli")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (uuid.UUID, dt.datetime, dt.date)):
        return str(value)
    return value


def record(action: str, actor: Actor, *, tenant_id: uuid.UUID | None = None,
           target_type: str | None = None, target_id: Any = None, target_label: str | None = None,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(action=action, actor_type=actor.type, actor_id=actor.id,
                       actor_label=actor.label[:254], ip=actor.ip, tenant_id=tenant_id,
                       target_type=target_type, target_id=str(target_id) if target_id else None,
                       target_label=target_label, before=_plain(before), after=_plain(after))
    db.session.add(event)
    return event
