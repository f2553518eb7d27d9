"""The tenant's home: usage meters against the plan, the trial banner, the sidebar."""
from __future__ import annotations

import datetime as dt

from extensions import db
from models.control import utcnow
from tests.portal.helpers import add_customer, add_order


def test_usage_meters_and_navigation(client, people, backend, isolation):
    people.a.plan.max_orders_per_month, people.a.plan.max_customers, people.a.plan.max_users = 50, 2, None
    db.session.commit()
    add_order(people.a, customer_id=add_customer(people.a, "Ann").id)
    add_customer(people.a, "Bo")
    add_order(people.b)
    people.bob.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/").data.decode()
    assert "Orders this month" in page and "1 / 50" in page
    assert "2 / 2" in page and "over limit" in page  # customers at the limit
    assert "2 / ∞" in page  # alice and bob, unlimited
    assert f'href="/t/{people.a.slug}/orders"' in page and f'href="/t/{people.a.slug}/customers"' in page
    assert "trial ends" not in page


def test_trial_banner_counts_days_left(client, people, backend, isolation):
    people.a.status = "trial"
    people.a.trial_ends_at = utcnow() + dt.timedelta(days=2, hours=3)
    db.session.commit()
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/").data.decode()
    assert "Your trial ends in 3 days." in page
