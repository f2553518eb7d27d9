"""Feature flags (DESIGN §3): the value for a tenant and, always, why.

Precedence, first match wins:
  archived (kill switch) → tenant override (unless expired) → the plan's value →
  rollout percent (stable hash of "key:tenant_id") → the flag's default.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from typing import Any, NamedTuple

from sqlalchemy import select

from extensions import db
from models.control import FeatureFlag, FlagOverride, Tenant, utcnow
from services import audit
from services.errors import NotFound, ValidationFailed

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class Evaluation(NamedTuple):
    """A flag's value for a tenant and why; truthy exactly when the value is on."""

    value: bool
    reason: str

    def __bool__(self) -> bool:
        return self.value


def bucket(key: str, tenant_id: Any) -> int:
    """0–99, stable for a flag and tenant across processes, machines and releases."""
    digest = hashlib.sha256(f"{key}:{tenant_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def _word(value: bool) -> str:
    return "on" if value else "off"


def evaluate(flag: FeatureFlag | None, override: FlagOverride | None, tenant: Tenant,
             now: dt.datetime | None = None) -> Evaluation:
    if flag is None:
        return Evaluation(False, "off: no such flag")
    if flag.archived:
        return Evaluation(False, "off: archived (kill switch)")
    now = now or utcnow()
    if override is not None and (override.expires_at is None or override.expires_at > now):
        reason = f"{_word(override.value)}: override by {override.created_by}"
        if override.expires_at is not None:
            reason += f", expires {override.expires_at:%-d %b %Y}"
        return Evaluation(override.value, reason)
    plan_value = (tenant.plan.features or {}).get(flag.key)
    if isinstance(plan_value, bool):
        return Evaluation(plan_value, f"{_word(plan_value)}: plan {tenant.plan.name}")
    if flag.rollout_percent > 0 and bucket(flag.key, tenant.id) < flag.rollout_percent:
        return Evaluation(True, f"on: rollout {flag.rollout_percent}%")
    return Evaluation(flag.default, f"{_word(flag.default)}: default")


def evaluate_all(tenant: Tenant, now: dt.datetime | None = None) -> dict[str, Evaluation]:
    """Every flag for one tenant, in two queries (flags, this tenant's overrides)."""
    flags = db.session.execute(select(FeatureFlag)).scalars().all()
    overrides = {o.flag_key: o for o in db.session.execute(
        select(FlagOverride).where(FlagOverride.tenant_id == tenant.id)).scalars()}
    return {f.key: evaluate(f, overrides.get(f.key), tenant, now) for f in flags}


def is_enabled(key: str, tenant: Tenant) -> Evaluation:
    flag = db.session.get(FeatureFlag, key)
    override = db.session.get(FlagOverride, (tenant.id, key)) if flag else None
    return evaluate(flag, override, tenant)


def get_flag(key: str) -> FeatureFlag:
    flag = db.session.get(FeatureFlag, key) if KEY_RE.match(key or "") else None
    if flag is None:
        raise NotFound(f"No flag '{(key or '')[:64]}'.")
    return flag


def set_override(tenant: Tenant, key: str, value: bool, reason: str, expires_at: dt.datetime | None,
                 actor: audit.Actor) -> FlagOverride:
    flag = get_flag(key)
    reason = re.sub(r"\s+", " ", reason or "").strip()
    if not reason:
        raise ValidationFailed("Say why this tenant gets a different value.", "reason")
    if len(reason) > 500:
        raise ValidationFailed("Keep the reason under 500 characters.", "reason")
    if expires_at is not None and expires_at <= utcnow():
        raise ValidationFailed("The expiry must be in the future.", "expires_at")
    override = db.session.get(FlagOverride, (tenant.id, flag.key))
    before = None if override is None else {"value": override.value, "reason": override.reason,
                                            "expires_at": override.expires_at}
    if override is None:
        override = FlagOverride(tenant_id=tenant.id, flag_key=flag.key)
        db.session.add(override)
    override.value, override.reason, override.expires_at = value, reason, expires_at
    override.created_by, override.created_at = actor.label, utcnow()
    audit.record("flag.override", actor, tenant_id=tenant.id, target_type="flag", target_id=flag.key,
                 target_label=flag.key, before=before,
                 after={"value": value, "reason": reason, "expires_at": expires_at})
    return override


def clear_override(tenant: Tenant, key: str, actor: audit.Actor) -> None:
    override = db.session.get(FlagOverride, (tenant.id, key))
    if override is None:
        return
    audit.record("flag.override_cleared", actor, tenant_id=tenant.id, target_type="flag",
                 target_id=key, target_label=key,
                 before={"value": override.value, "reason": override.reason})
    db.session.delete(override)
