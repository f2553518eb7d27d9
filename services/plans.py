"""Plans: prices, limits, trial, feature values; optimistic locking so no edit is lost."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from extensions import db
from models.control import FeatureFlag, Plan, Tenant
from services import audit
from services.errors import Conflict, NotFound, ValidationFailed

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
CURRENCIES = ("USD", "IDR", "MYR")
EDITABLE = ("name", "currency", "price_monthly", "price_yearly", "max_orders_per_month",
            "max_customers", "max_users", "trial_days", "features", "is_default")
MAX_LIMIT = 1_000_000_000


@dataclass(frozen=True)
class PlanInput:
    name: str
    currency: str
    price_monthly: int
    price_yearly: int
    max_orders_per_month: int | None
    max_customers: int | None
    max_users: int | None
    trial_days: int
    features: dict[str, bool]
    is_default: bool


class PlanConflict(Conflict):
    """Someone saved the plan after this edit began. `changes` says what they changed."""

    def __init__(self, plan: Plan, changes: dict[str, tuple[Any, Any]], by: str | None) -> None:
        who = f" by {by}" if by else ""
        super().__init__(f"This plan was changed{who} while you were editing. Review the current "
                         "values below and apply your change again.")
        self.plan = plan
        self.changes = changes  # field → (your value, current value)


def get_plan(slug: str) -> Plan:
    plan = db.session.execute(select(Plan).where(Plan.slug == slug)).scalar_one_or_none() \
        if SLUG_RE.match(slug or "") else None
    if plan is None:
        raise NotFound(f"No plan '{(slug or '')[:40]}'.")
    return plan


def plans_with_counts() -> list[tuple[Plan, int]]:
    counts = dict(db.session.execute(select(Tenant.plan_id, func.count(Tenant.id))
                                     .where(Tenant.status != "deleted").group_by(Tenant.plan_id)).all())
    plans = db.session.execute(select(Plan).order_by(Plan.archived, Plan.price_monthly, Plan.slug)).scalars()
    return [(p, counts.get(p.id, 0)) for p in plans]


def _validate(values: PlanInput) -> PlanInput:
    name = re.sub(r"\s+", " ", values.name or "").strip()
    if not name or len(name) > 80:
        raise ValidationFailed("Give the plan a name of 1 to 80 characters.", "name")
    if values.currency not in CURRENCIES:
        raise ValidationFailed(f"Currency must be one of {', '.join(CURRENCIES)}.", "currency")
    for field in ("max_orders_per_month", "max_customers", "max_users"):
        limit = getattr(values, field)
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            raise ValidationFailed("Use a number from 1 to 1,000,000,000, or leave it empty for unlimited.", field)
    if not 0 <= values.trial_days <= 365:
        raise ValidationFailed("Trial days must be between 0 and 365.", "trial_days")
    known = set(db.session.execute(select(FeatureFlag.key)).scalars())
    unknown = set(values.features) - known
    if unknown:
        raise ValidationFailed(f"Unknown flags: {', '.join(sorted(unknown))}.", "features")
    return PlanInput(**{**values.__dict__, "name": name})


def _snapshot(plan: Plan) -> dict[str, Any]:
    return {field: getattr(plan, field) for field in EDITABLE}


def _make_only_default(plan: Plan) -> None:
    db.session.execute(update(Plan).where(Plan.id != plan.id, Plan.is_default.is_(True))
                       .values(is_default=False, version=Plan.version + 1))


def create_plan(slug: str, values: PlanInput, actor: audit.Actor) -> Plan:
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug):
        raise ValidationFailed("Use 1–40 lowercase letters, digits and hyphens.", "slug")
    if db.session.execute(select(Plan.id).where(Plan.slug == slug)).first():
        raise ValidationFailed(f"'{slug}' is taken.", "slug")
    values = _validate(values)
    plan = Plan(slug=slug, **values.__dict__)
    db.session.add(plan)
    db.session.flush()
    if plan.is_default:
        _make_only_default(plan)
    audit.record("plan.create", actor, target_type="plan", target_id=plan.id, target_label=slug,
                 after=_snapshot(plan))
    return plan


def update_plan(plan: Plan, values: PlanInput, edited_version: int, actor: audit.Actor) -> Plan:
    """Save an edit that began at `edited_version`; refuse with PlanConflict if the plan moved on."""
    values = _validate(values)
    if plan.version != edited_version:
        raise PlanConflict(plan, _differences(values, plan), _last_editor(plan))
    before = _snapshot(plan)
    for field, value in values.__dict__.items():
        setattr(plan, field, value)
    try:
        db.session.flush()  # UPDATE … WHERE version = edited_version: a concurrent save loses here
    except StaleDataError:
        db.session.rollback()
        fresh = db.session.get(Plan, plan.id)
        raise PlanConflict(fresh, _differences(values, fresh), _last_editor(fresh)) from None
    if plan.is_default:
        _make_only_default(plan)
    after = _snapshot(plan)
    changed = {k for k in EDITABLE if before[k] != after[k]}
    audit.record("plan.update", actor, target_type="plan", target_id=plan.id, target_label=plan.slug,
                 before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    return plan


def _differences(values: PlanInput, current: Plan) -> dict[str, tuple[Any, Any]]:
    return {field: (getattr(values, field), getattr(current, field)) for field in EDITABLE
            if getattr(values, field) != getattr(current, field)}


def _last_editor(plan: Plan) -> str | None:
    from models.control import AuditEvent
    return db.session.execute(select(AuditEvent.actor_label).where(
        AuditEvent.target_type == "plan", AuditEvent.target_id == str(plan.id))
        .order_by(AuditEvent.at.desc()).limit(1)).scalar()


def set_archived(plan: Plan, archived: bool, actor: audit.Actor) -> None:
    if archived and plan.is_default:
        raise ValidationFailed("Make another plan the default for sign-up before archiving this one.")
    if plan.archived == archived:
        return
    plan.archived = archived
    audit.record("plan.archive" if archived else "plan.unarchive", actor, target_type="plan",
                 target_id=plan.id, target_label=plan.slug,
                 before={"archived": not archived}, after={"archived": archived})
