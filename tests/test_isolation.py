"""Tenants cannot see, fetch or change each other's rows: via the ORM, via URLs, via headers."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import select

from models.tenant import Customer, Order
from services.errors import NotFound
from services.orders import get_order
from tenancy.context import tenant_context
from tenancy.errors import CrossTenantWrite
from tests.factories import make_order


def test_orm_queries_see_only_the_current_tenant(people, backend, isolation):
    a_order = make_order(people.a, customer="Alice Customer")
    b_order = make_order(people.b, customer="Charlie Customer")
    with tenant_context(people.a) as ctx:
        numbers = ctx.session.execute(select(Order.id)).scalars().all()
        names = ctx.session.execute(select(Customer.name)).scalars().all()
    assert numbers == [a_order.id]
    assert names == ["Alice Customer"]
    with tenant_context(people.b) as ctx:
        assert ctx.session.execute(select(Order.id)).scalars().all() == [b_order.id]


def test_fetching_another_tenants_order_by_id_is_not_found(people, backend, isolation):
    b_order = make_order(people.b)
    with tenant_context(people.a) as ctx:
        with pytest.raises(NotFound):
            get_order(ctx.session, b_order.id)
        assert ctx.session.get(Order, (people.a.id, b_order.id)) is None


def test_writing_another_tenants_row_is_refused(people, backend, isolation):
    make_order(people.b)
    with tenant_context(people.b) as ctx:
        b_customer = ctx.session.execute(select(Customer)).scalars().one()
    with tenant_context(people.a) as ctx:
        b_customer_in_a = ctx.session.merge(b_customer, load=False)
        b_customer_in_a.name = "Hijacked"
        with pytest.raises(CrossTenantWrite):
            ctx.session.flush()
        ctx.session.rollback()
    with tenant_context(people.b) as ctx:
        assert ctx.session.execute(select(Customer.name)).scalars().one() == "Dana Buyer"


def test_another_tenants_home_does_not_show_our_orders(client, people, backend, isolation):
    make_order(people.b, customer="Secret Client of B")
    people.alice.sign_in(client)
    page = client.get(f"/t/{people.a.slug}/")
    assert page.status_code == 200
    assert b"Secret Client of B" not in page.data


def test_session_from_tenant_a_is_not_signed_in_at_tenant_b(client, people, backend, isolation):
    people.alice.sign_in(client)
    assert client.get(f"/t/{people.a.slug}/").status_code == 200
    by_path = client.get(f"/t/{people.b.slug}/")
    assert by_path.status_code == 302 and "/login" in by_path.headers["Location"]
    by_header = client.get("/", headers={"X-Tenant-Slug": people.b.slug})
    assert by_header.status_code == 302 and "/login" in by_header.headers["Location"]
    by_host = client.get("/", base_url=f"http://{people.b.slug}.tenantry.test")
    assert by_host.status_code == 302 and by_host.headers["Location"].startswith("/login")


def test_spoofed_header_does_not_reveal_other_tenant_data(client, people, backend, isolation):
    make_order(people.b, customer="Secret Client of B")
    people.alice.sign_in(client)
    response = client.get("/", headers={"X-Tenant-Slug": people.b.slug})
    assert b"Secret Client of B" not in response.data


@pytest.mark.postgres_only
def test_raw_sql_without_a_tenant_setting_returns_no_rows(app, backend, pg_server):
    from tests.factories import make_tenant
    tenant = make_tenant(isolation="shared")
    make_order(tenant)
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        for table in ("orders", "customers", "order_items", "order_events", "daily_stats", "tenant_users"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(tenant.id),))
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 1


@pytest.mark.postgres_only
def test_raw_sql_cannot_insert_rows_for_another_tenant(app, backend, pg_server):
    from tests.factories import make_tenant
    a, b = make_tenant(isolation="shared"), make_tenant(isolation="shared")
    url = app.config["SQLALCHEMY_DATABASE_URI"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        conn.execute("SELECT set_config('app.tenant_id', %s, false)", (str(a.id),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO customers (tenant_id, id, name, created_at, orders_count, total_spent) "
                         "VALUES (%s, gen_random_uuid(), 'x', now(), 0, 0)", (str(b.id),))
