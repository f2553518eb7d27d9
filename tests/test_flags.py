"""Feature flag evaluation: every branch of the precedence, with its reason."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import event, select

from extensions import db
from models.control import AuditEvent, FeatureFlag, utcnow
from services import audit
from services.errors import ValidationFailed
from services.flags import bucket, clear_override, evaluate_all, is_enabled, set_override
from tests.factories import make_plan, make_tenant

ANA = audit.Actor("staff", None, "ana@vendor.example.com")


@pytest.fixture
def tenant(app, backend):
    plan = make_plan("basic", features={"csv_export": True, "advanced_stats": False})
    return make_tenant("flaggy", plan=plan)


def _flag(key: str, **values) -> FeatureFlag:
    flag = db.session.get(FeatureFlag, key) or FeatureFlag(key=key, description="")
    for name, value in values.items():
        setattr(flag, name, value)
    db.session.add(flag)
    db.session.commit()
    return flag


def test_seeded_flags_exist(tenant):
    keys = set(db.session.execute(select(FeatureFlag.key)).scalars())
    assert {"csv_export", "advanced_stats", "team_members"} <= keys


def test_plan_value_with_its_reason(tenant):
    assert is_enabled("csv_export", tenant) == (True, "on: plan Basic")
    assert is_enabled("advanced_stats", tenant) == (False, "off: plan Basic")


def test_default_when_the_plan_says_nothing(tenant):
    _flag("beta_reports", default=True)
    assert is_enabled("beta_reports", tenant) == (True, "on: default")
    assert is_enabled("no_such_flag", tenant) == (False, "off: no such flag")


def test_override_beats_plan_and_expired_override_is_ignored(tenant):
    set_override(tenant, "csv_export", False, "abuse report #77", None, ANA)
    db.session.commit()
    assert is_enabled("csv_export", tenant) == (False, "off: override by ana@vendor.example.com")
    later = utcnow() + dt.timedelta(days=3)
    set_override(tenant, "advanced_stats", True, "pilot", later, ANA)
    db.session.commit()
    value = is_enabled("advanced_stats", tenant)
    assert value.value is True and value.reason.startswith("on: override by ana@vendor.example.com, expires ")
    assert evaluate_all(tenant, now=later + dt.timedelta(seconds=1))["advanced_stats"] == (False, "off: plan Basic")
    actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("flag.override") == 2
    clear_override(tenant, "csv_export", ANA)
    db.session.commit()
    assert is_enabled("csv_export", tenant).value is True


def test_archived_is_a_kill_switch_over_everything(tenant):
    set_override(tenant, "csv_export", True, "vip", None, ANA)
    _flag("csv_export", archived=True)
    assert is_enabled("csv_export", tenant) == (False, "off: archived (kill switch)")


def test_rollout_buckets_are_stable_and_roughly_proportional(tenant):
    _flag("gradual", rollout_percent=30, default=False)
    first = is_enabled("gradual", tenant)
    assert all(is_enabled("gradual", tenant) == first for _ in range(5))
    expected_on = bucket("gradual", tenant.id) < 30
    assert first == ((True, "on: rollout 30%") if expected_on else (False, "off: default"))
    import uuid
    share = sum(bucket("gradual", uuid.UUID(int=n)) < 30 for n in range(2000)) / 2000
    assert 0.25 < share < 0.35
    assert bucket("gradual", tenant.id) == bucket("gradual", str(tenant.id))


def test_override_needs_a_reason_and_a_future_expiry(tenant):
    with pytest.raises(ValidationFailed, match="Say why"):
        set_override(tenant, "csv_export", True, "  ", None, ANA)
    with pytest.raises(ValidationFailed, match="future"):
        set_override(tenant, "csv_export", True, "x", utcnow() - dt.timedelta(hours=1), ANA)


def test_one_evaluation_per_request_and_a_change_is_seen_on_the_next(app, backend):
    from flask import g

    from web.features import feature
    tenant = make_tenant("flagreq", plan=make_plan("basic"))
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.app_context(), app.test_request_context("/t/flagreq/"):  # a new g, as per request
            g.tenant = db.session.get(type(tenant), tenant.id)
            assert [feature("csv_export").value for _ in range(3)] == [True] * 3
            assert feature("team_members").value is True
            flag_queries = [s for s in statements if "feature_flags" in s or "flag_overrides" in s]
            assert len(flag_queries) == 2  # all flags, this tenant's overrides: once per request
        set_override(tenant, "csv_export", False, "paused", None, ANA)
        db.session.commit()
        with app.app_context(), app.test_request_context("/t/flagreq/"):  # a new g, as per request
            g.tenant = db.session.get(type(tenant), tenant.id)
            assert feature("csv_export") == (False, "off: override by ana@vendor.example.com")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
