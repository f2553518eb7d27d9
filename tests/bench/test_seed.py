"""`flask bench seed` at a tiny scale: the bulk-loaded rows must be what the services would have
written (rollups, customer totals, counters), row-level security must still hold, and the orders
list query must be served by an index on a seeded table."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import event, or_, select, text
from sqlalchemy.engine import Engine

from extensions import db
from models.control import Tenant
from models.tenant import Counter, Customer, DailyStat, Order
from services import order_queries, rollup
from services.paging import encode_cursor
from tenancy.context import tenant_context
from tests.portal.helpers import fresh_rollup

SCALE = "0.001"  # 3 tenants (shared whale, one schema, one database), 2,000 orders


def _seed(runner: Any) -> Any:
    result = runner.invoke(args=["bench", "seed", "--scale", SCALE])
    assert result.exit_code == 0, result.output
    return result


def _bench_tenants() -> list[Tenant]:
    return list(db.session.execute(select(Tenant).where(
        (Tenant.slug == "whale") | Tenant.slug.like("bench-%")).order_by(Tenant.slug)).scalars())


@pytest.mark.postgres_only
def test_seed_is_consistent_with_the_services(app: Any, runner: Any, backend: str) -> None:
    first = _seed(runner)
    tenants = _bench_tenants()
    assert {t.isolation for t in tenants} == {"shared", "schema", "database"}
    assert "3 tenants created, 3 loaded" in first.output
    for tenant in tenants:
        with tenant_context(tenant) as ctx:
            s = ctx.session
            orders = list(s.execute(select(Order)).scalars())
            customers = list(s.execute(select(Customer)).scalars())
            stats = {(r.day, r.dim, r.key): {m: getattr(r, m) for m in rollup.MEASURES}
                     for r in s.execute(select(DailyStat)).scalars()}
            counter = s.get(Counter, (tenant.id, "order"))
        assert orders, tenant.slug
        assert stats == fresh_rollup(tenant.timezone, orders, customers), tenant.slug
        assert counter is not None and counter.value == max(o.number for o in orders)
        assert sorted(o.number for o in orders) == list(range(1001, 1001 + len(orders)))
        by_customer: dict[Any, list[Order]] = defaultdict(list)
        for o in orders:
            by_customer[o.customer_id].append(o)
        for c in customers:
            mine = by_customer.get(c.id, [])
            assert c.orders_count == len(mine)
            assert c.total_spent == sum(o.total for o in mine if o.payment_status == "paid")
            assert c.last_order_at == max((o.created_at for o in mine), default=None)
            assert all(o.customer_name == c.name and o.created_at >= c.created_at for o in mine)
        assert tenant.usage_customers == len(customers) and tenant.usage_users == 1

    whale = next(t for t in tenants if t.slug == "whale")
    assert whale.usage_orders_month > 0

    again = _seed(runner)  # idempotent: everything is reused, nothing is added
    assert "0 tenants created, 0 loaded (0 orders), 3 already loaded" in again.output
    with tenant_context(whale) as ctx:
        assert len(ctx.session.execute(select(Order.id)).all()) == len(
            [o for o in _orders_of(whale)])


def _orders_of(tenant: Tenant) -> list[Any]:
    with tenant_context(tenant) as ctx:
        return list(ctx.session.execute(select(Order.id)).scalars())


@pytest.mark.postgres_only
def test_seeded_rows_stay_behind_row_level_security(app: Any, runner: Any, backend: str) -> None:
    _seed(runner)
    whale = next(t for t in _bench_tenants() if t.slug == "whale")
    whale_orders = len(_orders_of(whale))
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == 0  # no tenant set
        conn.rollback()
        with conn.begin():
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(whale.id)})
            rows = conn.execute(text("SELECT DISTINCT tenant_id FROM orders")).scalars().all()
            assert rows == [whale.id]
            assert conn.execute(text("SELECT count(*) FROM orders")).scalar() == whale_orders
            assert conn.execute(text("SELECT count(*) FROM customers WHERE tenant_id <> :t"),
                                {"t": str(whale.id)}).scalar() == 0


def _statements_of(fn: Any) -> list[tuple[str, Any]]:
    """The SQL statements (with parameters) `fn()` sends, in order."""
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        fn()
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    return statements


def _explain(session: Any, statement: str, parameters: Any) -> str:
    return "\n".join(r[0] for r in session.connection().exec_driver_sql("EXPLAIN " + statement, parameters))


def _assert_indexed(plan: str, what: Any) -> None:
    assert "Seq Scan on orders" not in plan and "Seq Scan on customers" not in plan, (what, plan)
    assert "Index" in plan, (what, plan)


@pytest.mark.postgres_only
def test_whale_list_queries_use_an_index(app: Any, runner: Any, backend: str, monkeypatch: Any) -> None:
    """EXPLAIN of the statements that fetch a page of the main lists — orders (first page, deep
    page, status filter, a search, the method filter, by total) and customers — on the seeded
    tables with fresh statistics and sequential scans allowed: each is served by an index, never a
    Seq Scan on orders or customers. (The capped counts are left to the planner: with the whale
    holding half of these small tables, reading the table is the right way to count half of it.
    The customers search walks the same way as the orders search, but the whale has only 100
    customers here: any plan for them is a table scan.)"""
    from services import customer_queries, paging
    # The walk of a search reads a window that is a sliver of a big tenant (5,000 of 1,000,000
    # orders); the seed's whale has 1,000, so the window here is the same sliver of it.
    monkeypatch.setattr(paging, "SEARCH_WINDOW", 200)
    _seed(runner)
    whale = next(t for t in _bench_tenants() if t.slug == "whale")
    with tenant_context(whale) as ctx:
        s = ctx.session
        deep = s.execute(select(Order.created_at, Order.id).order_by(
            Order.created_at.desc(), Order.id.desc()).offset(500).limit(1)).one()
        cursor = encode_cursor([deep.created_at, deep.id])
        cases: list[tuple[Any, Any]] = [
            (args, lambda args=args, after=after: order_queries.list_orders(
                s, order_queries.parse_order_query(args), whale.timezone, after=after))
            for args, after in [({}, None), ({}, cursor), ({"status": "paid"}, None),
                                ({"status": "paid"}, cursor), ({"q": "example.com"}, None),
                                ({"q": "example.com"}, cursor), ({"method": "cash"}, None),
                                ({"sort": "total_desc"}, None)]]
        cases += [(args, lambda args=args: customer_queries.list_customers(
            s, customer_queries.parse_customer_query(args))) for args in ({}, {"sort": "spent"}, {"sort": "orders"})]
        for what, run in cases:
            statements = [(st, p) for st, p in _statements_of(run)
                          if ("FROM orders" in st or "FROM customers" in st) and "ORDER BY" in st]
            assert statements, what
            for statement, parameters in statements:
                assert "OFFSET" not in statement.upper(), (what, statement)
                _assert_indexed(_explain(s, statement, parameters), what)


@pytest.mark.postgres_only
def test_a_rare_search_collects_every_match_in_one_statement(app: Any, runner: Any, backend: str,
                                                             monkeypatch: Any) -> None:
    """A term with less than a page of matches in the walk's window is looked up once, every match
    collected and sorted in one statement, the page and the count exact. That statement is where a
    trigram index serves the ILIKE — if PostgreSQL may use it: row-level security lets an index test
    only LEAKPROOF operators, and ILIKE is not marked so by default (README, Performance: the
    one-line fix, and what `make bench` measured with and without it)."""
    import psycopg
    from services import customer_queries, paging
    from tests.conftest import PG_DB, PG_ROLE, _pg_conninfo
    monkeypatch.setattr(paging, "SEARCH_WINDOW", 100)  # the same sliver of the seed's small whale
    _seed(runner)
    whale = next(t for t in _bench_tenants() if t.slug == "whale")
    with tenant_context(whale) as ctx:
        s = ctx.session
        email = s.execute(select(Customer.email).order_by(Customer.orders_count.asc(), Customer.id)
                          .where(Customer.orders_count > 0).limit(1)).scalar_one()
        query = order_queries.parse_order_query({"q": email})
        result: list[Any] = []
        statements = _statements_of(lambda: result.append(order_queries.list_orders(s, query, whale.timezone)))
        pattern = customer_queries.contains_pattern(email)
        wanted = set(s.execute(select(Order.number).where(or_(
            Order.customer_email.ilike(pattern, escape="\\"),
            Order.customer_name.ilike(pattern, escape="\\")))).scalars())
    assert 0 < len(wanted) <= order_queries.PAGE_SIZE
    assert {o.number for o in result[0].page.items} == wanted
    assert (result[0].count, result[0].capped) == (len(wanted), False)
    collect = [(st, p) for st, p in statements if "matches" in st]
    assert len(collect) == 1, [st for st, _ in statements]

    # As the app (RLS applies), even with sequential scans off, the ILIKE is no index condition.
    with psycopg.connect(_pg_conninfo(PG_DB)) as conn:
        conn.execute(f'SET LOCAL ROLE "{PG_ROLE}"')
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", (str(whale.id),))
        plan = [r[0] for r in conn.execute("EXPLAIN " + collect[0][0], collect[0][1])]
        conn.rollback()
    assert not [line for line in plan if "Index Cond" in line and "~~*" in line], plan


@pytest.mark.sqlite_only  # the refusal is about SQLite
def test_seed_refuses_sqlite(app: Any, runner: Any, backend: str) -> None:
    result = runner.invoke(args=["bench", "seed", "--scale", SCALE])
    assert result.exit_code != 0
    assert "needs PostgreSQL" in result.output
    assert _bench_tenants() == []
