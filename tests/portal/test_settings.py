"""The account's settings page: owners change the business name, language and number format and
time zone; staff and other tenants cannot; bad values are refused with a message and change nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from extensions import db
from models.control import AuditEvent, Tenant
from tests.portal.helpers import HX, add_order


def _settings(tenant: Tenant) -> tuple[str, str, str]:
    db.session.expire_all()
    fresh = db.session.get(Tenant, tenant.id)
    return fresh.name, fresh.locale, fresh.timezone


def _audits() -> int:
    return db.session.execute(select(func.count(AuditEvent.id))
                              .where(AuditEvent.action == "tenant.settings")).scalar_one()


def test_alice_changes_the_settings_and_every_page_follows(client, people, backend, isolation):
    add_order(people.a, total=125_000)  # $1,250.00
    people.alice.sign_in(client)
    url = f"/t/{people.a.slug}/settings"
    page = client.get(url)
    assert page.status_code == 200 and b'aria-current="page">Settings</a>' in page.data
    assert b"$1,250.00" in client.get(f"/t/{people.a.slug}/orders").data

    response = client.post(url, data={"name": "Alpha Kopi", "locale": "id_ID", "timezone": "Asia/Jakarta"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings")
    assert _settings(people.a) == ("Alpha Kopi", "id_ID", "Asia/Jakarta")
    shown = client.get(url)
    assert b"Settings saved." in shown.data and b"Alpha Kopi" in shown.data
    assert "1.250,00" in client.get(f"/t/{people.a.slug}/orders").data.decode()  # Indonesian grouping

    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "tenant.settings")).scalar_one()
    assert event.actor_label == "alice@example.com" and event.tenant_id == people.a.id
    assert event.before["locale"] == "en_US" and event.after == {
        "locale": "id_ID", "name": "Alpha Kopi", "timezone": "Asia/Jakarta"}


def test_saving_the_same_values_records_nothing(client, people, backend, isolation):
    people.alice.sign_in(client)
    name, locale, timezone = _settings(people.a)
    response = client.post(f"/t/{people.a.slug}/settings",
                           data={"name": name, "locale": locale, "timezone": timezone}, follow_redirects=True)
    assert b"Nothing to save" in response.data and _audits() == 0


def test_bob_cannot_see_or_change_the_settings(client, people, backend, isolation):
    before = _settings(people.a)
    people.bob.sign_in(client)
    assert b">Settings</a>" not in client.get(f"/t/{people.a.slug}/").data
    for method in ("GET", "POST"):
        response = client.open(f"/t/{people.a.slug}/settings", method=method,
                               data={"name": "Bob's shop", "locale": "en_GB", "timezone": "UTC"})
        assert response.status_code == 403, method
        assert b"Only the account&#39;s owners can change its settings." in response.data
    assert _settings(people.a) == before and _audits() == 0


def test_charlie_cannot_change_another_tenants_settings(client, people, backend, isolation):
    before = _settings(people.a)
    people.charlie.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/settings",
                           data={"name": "Taken over", "locale": "en_GB", "timezone": "UTC"})
    assert response.status_code == 401  # not signed in at A: a form post is refused, not redirected
    assert "/login" in client.get(f"/t/{people.a.slug}/settings").headers["Location"]
    assert _settings(people.a) == before
    assert client.get(f"/t/{people.b.slug}/settings").status_code == 200  # his own


@pytest.mark.modes("shared")
@pytest.mark.parametrize("field, value, message", [
    ("name", "", "Give the business a name."),
    ("name", "   ", "Give the business a name"),
    ("name", "x" * 121, "Field cannot be longer than 120 characters."),
    ("name", "Shop\x00\x1b[31m", "invisible control characters"),
    ("locale", "xx_YY", "Choose a language and format from the list."),
    ("locale", "../../etc/passwd", "Choose a language and format from the list."),
    ("locale", "de_DE", "Choose a language and format from the list."),
    ("timezone", "Mars/Olympus_Mons", "Choose a time zone from the list."),
    ("timezone", "Etc/GMT+7", "Choose a time zone from the list."),
    ("timezone", "<script>alert(1)</script>", "Choose a time zone from the list."),
])
def test_bad_values_are_refused_next_to_the_field(client, people, backend, isolation, field, value, message):
    before = _settings(people.a)
    people.alice.sign_in(client)
    data = {"name": "Alpha", "locale": "en_GB", "timezone": "Europe/London", field: value}
    for headers in ({}, HX):
        response = client.post(f"/t/{people.a.slug}/settings", data=data, headers=headers)
        assert response.status_code == 422, (value, response.status_code)
        html = response.data.decode()
        assert message in html and 'class="field-error"' in html, html[:2000]
        assert "<script>alert(1)" not in html
    assert headers and html.lstrip().startswith('<form id="settings-form"')  # htmx: the form alone
    assert _settings(people.a) == before and _audits() == 0


def test_a_new_time_zone_moves_every_order_to_its_day_there(client, people, backend, isolation):
    """An order placed at 20:00 UTC on 1 March is on 1 March in New York and on 2 March in
    Jakarta: after the change the stats (and the monthly limit) count it on 2 March; tenant B's
    rollup is untouched."""
    import datetime as dt

    from models.tenant import Customer, Order
    from services import orders
    from tenancy.context import tenant_context
    from tests.portal.helpers import add_customer, fresh_rollup, stored_rollup

    late = dt.datetime(2026, 3, 1, 20, 0, tzinfo=dt.timezone.utc)
    ann = add_customer(people.a, "Ann Lee", "ann@example.com")
    placed = [add_order(people.a, total=1_000 * (n + 1), customer_id=ann.id, status=status,
                        created_at=late + dt.timedelta(hours=n))
              for n, status in enumerate(["paid", "paid", None, "cancelled"])]
    with tenant_context(people.a) as ctx:
        orders.change_status(ctx.session, people.a, orders.get_order(ctx.session, placed[1].id), "refunded", "test")
        ctx.session.commit()
    add_order(people.b, total=777, status="paid", created_at=late)

    def rollups() -> tuple[dict, dict]:
        result = []
        for tenant in (people.a, people.b):
            with tenant_context(tenant) as ctx:
                rows = ctx.session.execute(select(Order)).scalars().all(), \
                    ctx.session.execute(select(Customer)).scalars().all()
                result.append((stored_rollup(ctx.session), rows))
        return result[0], result[1]

    (a_before, _), (b_before, _) = rollups()
    assert dt.date(2026, 3, 2) not in {day for day, _dim, _key in a_before}
    people.alice.sign_in(client)
    response = client.post(f"/t/{people.a.slug}/settings",
                           data={"name": people.a.name, "locale": "en_US", "timezone": "Asia/Jakarta"})
    assert response.status_code == 303
    (a_after, (a_orders, a_customers)), (b_after, _) = rollups()
    assert a_after == fresh_rollup("Asia/Jakarta", a_orders, a_customers) != a_before
    assert a_after[(dt.date(2026, 3, 2), "all", "")]["orders"] == 4
    assert a_after[(dt.date(2026, 3, 2), "all", "")]["revenue"] == 1_000
    assert b_after == b_before
    stats = client.get(f"/t/{people.a.slug}/stats?date_from=2026-03-02&date_to=2026-03-02")
    assert stats.status_code == 200 and b"$10.00" in stats.data  # 1,000 cents, paid, on 2 March
