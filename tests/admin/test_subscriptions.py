"""Subscriptions: status, billing interval and period end kept right by the tenant lifecycle,
shown on the tenant page, and given to existing tenants by the 0003 migration."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import inspect

from extensions import db
from models.control import add_billing_intervals, utcnow
from services import audit
from services.tenants import create_tenant
from tenancy.migrations import CONTROL, downgrade, upgrade
from tests.admin.helpers import last_event, reserve_tenant, sign_in_as, tenant_row
from tests.factories import make_plan


def _create(slug: str, trial_days: int) -> None:
    create_tenant(slug=slug, name=slug.title(), plan=make_plan(), isolation="shared",
                  owner_email=f"owner@{slug}.example.com", actor=audit.SYSTEM,
                  backend=db.engine.dialect.name, main_url=str(db.engine.url), trial_days=trial_days)
    db.session.commit()


def _close(a: dt.datetime | None, b: dt.datetime) -> bool:
    return a is not None and abs((a - b).total_seconds()) < 60


def test_a_new_tenant_is_trialing_until_its_trial_ends_or_active_without_one(client, backend) -> None:
    _create("trying", trial_days=14)
    _create("paying", trial_days=0)
    trying, paying = tenant_row("trying"), tenant_row("paying")
    assert trying.subscription_status == "trialing" and trying.billing_interval == "month"
    assert trying.current_period_end == trying.trial_ends_at
    assert paying.subscription_status == "active" and paying.trial_ends_at is None
    assert _close(paying.current_period_end, add_billing_intervals(utcnow(), "month"))

    sign_in_as(client, "viewer")
    card = client.get("/admin/tenants/trying").data.decode()
    card = card[card.index("<h2>Subscription</h2>"):card.index("<h2>Usage</h2>")]
    assert "Trialing" in card and "Basic" in card and "Monthly, $10.00 a month" in card
    assert "Trial ends" in card and "Period ends" in card
    card = client.get("/admin/tenants/paying").data.decode()
    card = card[card.index("<h2>Subscription</h2>"):card.index("<h2>Usage</h2>")]
    assert "Active" in card and "Renews" in card


def test_the_card_shows_a_yearly_subscription_and_its_yearly_price(client, backend) -> None:
    reserve_tenant("annual", billing_interval="year")
    sign_in_as(client, "viewer")
    page = client.get("/admin/tenants/annual").data.decode()
    assert "Yearly, $100.00 a year" in page


def test_resuming_after_the_trial_ended_converts_the_trial_to_an_active_subscription(client, backend) -> None:
    now = utcnow()
    reserve_tenant("ended", status="suspended", status_reason="trial ended", subscription_status="trialing",
                   trial_ends_at=now - dt.timedelta(days=2), current_period_end=now - dt.timedelta(days=2))
    reserve_tenant("still", status="suspended", status_reason="unpaid", subscription_status="trialing",
                   trial_ends_at=now + dt.timedelta(days=5), current_period_end=now + dt.timedelta(days=5))
    sign_in_as(client, "support")
    assert client.post("/admin/tenants/ended/resume").status_code == 303
    ended = tenant_row("ended")
    assert (ended.status, ended.subscription_status) == ("active", "active")
    assert _close(ended.current_period_end, add_billing_intervals(utcnow(), "month"))
    event = last_event("tenant.resume")
    assert event.before["subscription"] == "trialing" and event.after["subscription"] == "active"

    assert client.post("/admin/tenants/still/resume").status_code == 303
    still = tenant_row("still")
    assert (still.status, still.subscription_status) == ("trial", "trialing")


def test_extending_a_trial_moves_the_period_end_with_it(client, backend) -> None:
    now = utcnow()
    reserve_tenant("trying", status="trial", subscription_status="trialing",
                   trial_ends_at=now + dt.timedelta(days=3), current_period_end=now + dt.timedelta(days=3))
    sign_in_as(client, "support")
    assert client.post("/admin/tenants/trying/extend-trial", data={"days": "5"}).status_code == 303
    trying = tenant_row("trying")
    assert _close(trying.trial_ends_at, now + dt.timedelta(days=8))
    assert trying.current_period_end == trying.trial_ends_at


def test_churning_cancels_the_subscription_and_takes_it_out_of_mrr(client, backend) -> None:
    reserve_tenant("leaving")
    sign_in_as(client, "owner")
    assert "$10.00" in client.get("/admin/").data.decode()
    assert client.post("/admin/tenants/leaving/churn").status_code == 303
    leaving = tenant_row("leaving")
    assert leaving.subscription_status == "cancelled" and _close(leaving.current_period_end, utcnow())
    assert last_event("tenant.churn").after["subscription"] == "cancelled"
    page = client.get("/admin/tenants/leaving").data.decode()
    assert "Cancelled" in page and "Ended" in page
    assert "No active subscriptions yet" in client.get("/admin/").data.decode()


def test_an_active_subscription_renews_each_period_and_month_ends_stay_in_their_month(app, backend) -> None:
    now = utcnow()
    monthly = reserve_tenant("monthly", current_period_end=now - dt.timedelta(days=65))
    assert now < monthly.period_end <= add_billing_intervals(now, "month")
    yearly = reserve_tenant("yearly", billing_interval="year", current_period_end=now - dt.timedelta(days=400))
    assert now < yearly.period_end <= add_billing_intervals(now, "year")
    past_due = reserve_tenant("late", subscription_status="past_due", current_period_end=now - dt.timedelta(days=3))
    assert past_due.period_end == past_due.current_period_end  # no renewal while unpaid

    jan31 = dt.datetime(2027, 1, 31, 12, tzinfo=dt.timezone.utc)
    assert add_billing_intervals(jan31, "month") == dt.datetime(2027, 2, 28, 12, tzinfo=dt.timezone.utc)
    assert add_billing_intervals(jan31, "month", 2) == dt.datetime(2027, 3, 31, 12, tzinfo=dt.timezone.utc)
    leap = dt.datetime(2028, 2, 29, tzinfo=dt.timezone.utc)
    assert add_billing_intervals(leap, "year") == dt.datetime(2029, 2, 28, tzinfo=dt.timezone.utc)


def test_the_migration_gives_existing_tenants_a_subscription_from_their_status(app, backend) -> None:
    now = utcnow()
    in_trial = now + dt.timedelta(days=10)
    reserve_tenant("on-trial", status="trial", trial_ends_at=in_trial)
    reserve_tenant("trial-expired", status="trial", trial_ends_at=now - dt.timedelta(days=1))
    reserve_tenant("suspended-in-trial", status="suspended", trial_ends_at=in_trial)
    reserve_tenant("suspended-paying", status="suspended")
    reserve_tenant("paying", status="active")
    reserve_tenant("gone", status="churned")
    reserve_tenant("erased", status="deleted")
    reserve_tenant("being-made", status="provisioning", trial_ends_at=in_trial)
    created = tenant_row("paying").created_at
    db.session.close()
    try:
        with db.engine.begin() as conn:
            downgrade(CONTROL, conn, revision="0002_flags")
        with db.engine.begin() as conn:
            assert "subscription_status" not in {c["name"] for c in inspect(conn).get_columns("tenants")}
            upgrade(CONTROL, conn)
    finally:
        with db.engine.begin() as conn:
            upgrade(CONTROL, conn)  # back at head whatever happened (a no-op when it is)

    expected = {"on-trial": ("trialing", in_trial), "trial-expired": ("trialing", now - dt.timedelta(days=1)),
                "suspended-in-trial": ("trialing", in_trial), "being-made": ("trialing", in_trial),
                "suspended-paying": ("active", add_billing_intervals(created, "month")),
                "paying": ("active", add_billing_intervals(created, "month")),
                "gone": ("cancelled", None), "erased": ("cancelled", None)}
    for slug, (status, period_end) in expected.items():
        tenant = tenant_row(slug)
        assert (tenant.subscription_status, tenant.billing_interval) == (status, "month"), slug
        if period_end is None:
            assert tenant.current_period_end is None, slug
        else:
            assert _close(tenant.current_period_end, period_end), (slug, tenant.current_period_end)
