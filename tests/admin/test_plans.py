"""Plans in the console: money in the currency's format, roles, and no lost edits (409)."""
from __future__ import annotations

from sqlalchemy import select

from extensions import db
from models.control import AuditEvent, Plan
from tests.factories import make_plan, make_staff, staff_sign_in

FORM = {"name": "Warung", "currency": "IDR", "price_monthly": "Rp 1.250.000", "price_yearly": "12.500.000",
        "max_orders_per_month": "1000", "max_customers": "", "max_users": "5", "trial_days": "14"}


def _sign_in(client, role: str) -> None:
    make_staff(f"{role}@vendor.example.com", role)
    staff_sign_in(client, f"{role}@vendor.example.com")


def test_create_a_plan_with_prices_in_the_currency_format(client, app, backend):
    _sign_in(client, "admin")
    response = client.post("/admin/plans/new", data={**FORM, "slug": "warung", "feature_csv_export": "on"})
    assert response.status_code == 303, response.data[:300]
    plan = db.session.execute(select(Plan).where(Plan.slug == "warung")).scalar_one()
    assert (plan.price_monthly, plan.price_yearly, plan.currency) == (1_250_000, 12_500_000, "IDR")
    assert plan.max_customers is None and plan.max_orders_per_month == 1000
    assert plan.features == {"csv_export": True}
    listing = client.get("/admin/plans").data.decode()
    assert "Rp\u00a01.250.000" in listing and "Unlimited" in listing


def test_bad_plan_input_is_refused_and_nothing_written(client, app, backend):
    _sign_in(client, "admin")
    for bad in ({"price_monthly": "lots"}, {"max_users": "-5"}, {"trial_days": "9999"},
                {"slug": "Bad Slug!"}, {"name": ""}, {"price_monthly": "1" * 40}):
        response = client.post("/admin/plans/new", data={**FORM, "slug": "warung", **bad})
        assert response.status_code == 422, bad
    assert db.session.execute(select(Plan)).first() is None


def test_roles_viewer_and_support_cannot_change_plans(client, app, backend):
    plan = make_plan("basic")
    for role in ("viewer", "support"):
        _sign_in(client, role)
        assert client.get("/admin/plans").status_code == 200
        assert client.post("/admin/plans/new", data={**FORM, "slug": "sneaky"}).status_code == 403
        assert client.post(f"/admin/plans/{plan.slug}/archive").status_code == 403
    db.session.expire_all()
    assert db.session.get(Plan, plan.id).archived is False


def test_second_concurrent_save_gets_a_conflict_showing_what_changed(client, app, backend):
    plan = make_plan("basic")
    _sign_in(client, "admin")
    version = plan.version
    first = client.post(f"/admin/plans/{plan.slug}/edit", data={**FORM, "currency": "USD", "price_monthly": "$15.00",
                                                                 "price_yearly": "$150.00", "version": version})
    assert first.status_code == 303
    second = client.post(f"/admin/plans/{plan.slug}/edit", data={**FORM, "currency": "USD", "name": "Other name",
                                                                  "price_monthly": "$20.00", "price_yearly": "$150.00",
                                                                  "version": version})
    assert second.status_code == 409
    page = second.data.decode()
    assert "changed by admin@vendor.example.com" in page and "price monthly" in page
    db.session.expire_all()
    saved = db.session.get(Plan, plan.id)
    assert (saved.name, saved.price_monthly) == ("Warung", 1500)  # the first save stands
    assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "plan.update")).scalars().all()
