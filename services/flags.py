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


# --- the registry, plan values, fleet-wide views (vendor console) --------------------------------

def _clean_flag_fields(description: str, default: bool, rollout_percent: int) -> dict[str, Any]:
    description = re.sub(r"\s+", " ", description or "").strip()
    if len(description) > 500:
        raise ValidationFailed("Keep the description under 500 characters.", "description")
    if not isinstance(rollout_percent, int) or not 0 <= rollout_percent <= 100:
        raise ValidationFailed("Rollout is a percentage from 0 to 100.", "rollout_percent")
    return {"description": description, "default": bool(default), "rollout_percent": rollout_percent}


def create_flag(key: str, description: str, default: bool, rollout_percent: int,
                actor: audit.Actor) -> FeatureFlag:
    key = (key or "").strip().lower()
    if not KEY_RE.match(key):
        raise ValidationFailed("Keys are 2–64 characters: a letter, then letters, digits or _.", "key")
    if db.session.get(FeatureFlag, key) is not None:
        raise ValidationFailed(f"'{key}' exists already.", "key")
    flag = FeatureFlag(key=key, archived=False, **_clean_flag_fields(description, default, rollout_percent))
    db.session.add(flag)
    audit.record("flag.create", actor, target_type="flag", target_id=key, target_label=key,
                 after={"default": flag.default, "rollout_percent": flag.rollout_percent})
    return flag


def update_flag(flag: FeatureFlag, description: str, default: bool, rollout_percent: int,
                archived: bool, actor: audit.Actor) -> None:
    values = {**_clean_flag_fields(description, default, rollout_percent), "archived": bool(archived)}
    before = {k: getattr(flag, k) for k in values}
    for k, v in values.items():
        setattr(flag, k, v)
    changed = [k for k in values if before[k] != values[k]]
    if changed:
        audit.record("flag.update", actor, target_type="flag", target_id=flag.key, target_label=flag.key,
                     before={k: before[k] for k in changed}, after={k: values[k] for k in changed})


def set_plan_value(plan: Any, key: str, value: bool | None, actor: audit.Actor) -> None:
    """The plan's value for a flag: True, False, or None (not set: rollout/default decide)."""
    get_flag(key)
    features = dict(plan.features or {})
    before = features.get(key)
    if value is None:
        features.pop(key, None)
    else:
        features[key] = value
    plan.features = features  # a new dict, so the JSON column is seen as changed
    audit.record("plan.feature", actor, target_type="plan", target_id=plan.id, target_label=plan.slug,
                 before={key: before}, after={key: value})


def fleet_values(key: str | None = None) -> tuple[list[Tenant], dict[str, dict[Any, Evaluation]]]:
    """Every live tenant and, per flag, its evaluation for each tenant — three queries in all."""
    tenants = list(db.session.execute(select(Tenant).where(Tenant.status.not_in(["deleted"]))
                                      .order_by(Tenant.slug)).scalars())
    flag_stmt = select(FeatureFlag)
    override_stmt = select(FlagOverride)
    if key is not None:
        flag_stmt = flag_stmt.where(FeatureFlag.key == key)
        override_stmt = override_stmt.where(FlagOverride.flag_key == key)
    flags = db.session.execute(flag_stmt).scalars().all()
    overrides = {(o.tenant_id, o.flag_key): o for o in db.session.execute(override_stmt).scalars()}
    now = utcnow()
    return tenants, {f.key: {t.id: evaluate(f, overrides.get((t.id, f.key)), t, now) for t in tenants}
                     for f in flags}
