"""The shape that keeps big lists fast (DESIGN §6), held in place at a small scale.

Benchmarks are not tests (`make bench` measures time); these assert what does not depend on the
machine: a page sends the same number of SQL statements whatever the number of rows, the orders
list never pages with OFFSET and never counts without a cap, and its "contains" search walks a
bounded number of rows before it collects matches another way. EXPLAIN checks live in
tests/bench/test_seed.py, on the bench seed's tables.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from models.control import Tenant
from models.tenant import Customer
from services import customers, order_queries, orders, paging
from tenancy.context import tenant_context
from tests.admin.helpers import reserve_tenant, sign_in_as
from tests.querycount import count_queries

NAMES = ("Ann Lee", "Bo Chan", "Cy Park", "Di Wong", "Ed Ngo")


def _customers(tenant: Tenant, n: int, start: int = 0) -> list[Customer]:
    with tenant_context(tenant) as ctx:
        made = [customers.create_customer(ctx.session, tenant, name=f"{NAMES[i % 5]} {i}",
                                          email=f"buyer{i}@shop.example.com")
                for i in range(start, start + n)]
        ctx.session.commit()
        return made


def _orders(tenant: Tenant, n: int, customer: Customer, start: int = 0, items: int = 1) -> list[Any]:
    """`n` orders in one transaction: totals under 10,000 minor units, methods and statuses mixed."""
    with tenant_context(tenant) as ctx:
        made = []
        for i in range(start, start + n):
            order = orders.create_order(
                ctx.session, tenant, channel=("web", "store")[i % 2],
                payment_method=("card", "cash", "ewallet")[i % 3], actor_label="test",
                customer_id=customer.id,
                items=[orders.LineInput(f"Widget {k}", 1, 100 + i) for k in range(items)])
            if i % 2:
                orders.change_status(ctx.session, tenant, order, "paid", "test")
            made.append(order)
        ctx.session.commit()
        return made


def _statements(client: Any, url: str) -> int:
    with count_queries() as counted:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(counted)


# --- statements per page do not grow with rows -------------------------------------------------

def _same_or_fewer(few: dict[str, int], many: dict[str, int], walked: set[str]) -> None:
    """Lists served by an index send exactly as many statements with more rows. Lists that test
    rows one by one (a search, the method, the channel) walk a bounded window: one statement when
    it fills a page at once, a second to learn whether it reached the end, a third to collect
    rare matches; more rows can only make that fewer."""
    plain = set(few) - walked
    assert {u: many[u] for u in plain} == {u: few[u] for u in plain}
    assert all(many[u] <= few[u] <= few[""] + 1 for u in walked), (few, many)
    assert max(many.values()) <= 10


ORDER_LISTS = {"": False, "?status=paid": False, "?sort=total_desc": False, "?date_from=2020-01-01": False,
               "?method=card": True, "?q=ann+lee": True, "?q=shop.example": True, "?channel=web&q=lee": True}


def test_orders_list_statements_do_not_grow_with_rows(client, people, backend, isolation):
    tenant = people.a
    ann = _customers(tenant, 1)[0]
    _orders(tenant, 5, ann)
    people.alice.sign_in(client)
    base = f"/t/{tenant.slug}/orders"
    client.get(base)  # warm caches (engines, flags)
    few = {url: _statements(client, base + url) for url in ORDER_LISTS}
    _orders(tenant, 55, ann, start=5)
    many = {url: _statements(client, base + url) for url in ORDER_LISTS}
    _same_or_fewer(few, many, {u for u, walked in ORDER_LISTS.items() if walked})


def test_customers_list_statements_do_not_grow_with_rows(client, people, backend, isolation):
    tenant = people.a
    _customers(tenant, 5)
    people.bob.sign_in(client)
    base = f"/t/{tenant.slug}/customers"
    lists = ["", "?sort=orders", "?sort=spent", "?q=lee", "?q=shop.example"]
    client.get(base)
    few = {url: _statements(client, base + url) for url in lists}
    _customers(tenant, 55, start=5)
    many = {url: _statements(client, base + url) for url in lists}
    _same_or_fewer(few, many, {"?q=lee", "?q=shop.example"})


def test_order_detail_statements_do_not_grow_with_items_and_notes(client, people, backend, isolation):
    tenant = people.a
    ann = _customers(tenant, 1)[0]
    small = _orders(tenant, 1, ann, items=5)[0]
    large = _orders(tenant, 1, ann, start=1, items=60)[0]
    with tenant_context(tenant) as ctx:
        for order, notes in ((small, 5), (large, 60)):
            loaded = orders.get_order(ctx.session, order.id)
            for n in range(notes):
                orders.add_note(ctx.session, tenant, loaded, f"Note {n}", "test")
        ctx.session.commit()
    people.alice.sign_in(client)
    client.get(f"/t/{tenant.slug}/orders/{small.id}")
    few = _statements(client, f"/t/{tenant.slug}/orders/{small.id}")
    many = _statements(client, f"/t/{tenant.slug}/orders/{large.id}")
    page = client.get(f"/t/{tenant.slug}/orders/{large.id}").data.decode()
    assert "Widget 59" in page and "Note 59" in page  # the rows are really there
    assert many == few


def test_vendor_tenant_list_statements_do_not_grow_with_tenants(client, backend):
    for n in range(5):
        reserve_tenant(f"few-{n}")
    sign_in_as(client, "viewer")
    lists = ["/admin/tenants", "/admin/tenants?q=few", "/admin/tenants?status=active"]
    client.get(lists[0])
    few = {url: _statements(client, url) for url in lists}
    for n in range(55):
        reserve_tenant(f"more-{n}")
    many = {url: _statements(client, url) for url in lists}
    assert many == few


# --- the orders list's SQL: keyset pages, capped counts ---------------------------------------

@contextmanager
def _captured() -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent on any engine (the control plane's and the tenants') with its parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", capture)


def _ints(parameters: Any) -> list[int]:
    values = parameters.values() if isinstance(parameters, dict) else (parameters or ())
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _offsets(statement: str, parameters: Any) -> list[Any]:
    """The values of every OFFSET in `statement` (SQLAlchemy's SQLite dialect writes `LIMIT ?
    OFFSET ?` with 0 for any LIMIT; PostgreSQL's leaves OFFSET out unless one is asked for)."""
    values = []
    for match in re.finditer(r"\bOFFSET\s+(\?|%\((\w+)\)s|\d+)", statement, re.I):
        if match.group(1) == "?":
            values.append(parameters[statement[:match.start(1)].count("?")])
        elif match.group(2):
            values.append(parameters[match.group(2)])
        else:
            values.append(int(match.group(1)))
    return values


def _link(html: bytes, rel: str) -> str | None:
    match = re.search(rb'rel="' + rel.encode() + rb'" href="([^"]+)"', html)
    return match.group(1).decode().replace("&amp;", "&") if match else None


@pytest.mark.parametrize("query", ["", "?status=paid", "?q=lee", "?channel=web", "?sort=total_asc"])
def test_orders_list_pages_without_offset_and_counts_with_a_cap(client, people, backend, isolation, query):
    tenant = people.a
    ann = _customers(tenant, 1)[0]
    _orders(tenant, 60, ann)
    people.alice.sign_in(client)
    url: str | None = f"/t/{tenant.slug}/orders{query}"
    shown: list[str] = []
    with _captured() as statements:
        while url:
            page = client.get(url)
            assert page.status_code == 200
            shown += re.findall(r'>#(\d+)</a>', page.data.decode())
            url = _link(page.data, "next")
        back = _link(page.data, "prev")  # and one step back, with a `before` cursor
        assert back and client.get(back).status_code == 200
    assert len(shown) == len(set(shown)) > 0  # every order once, however many pages
    order_sql = [(s, p) for s, p in statements if re.search(r"\borders\b", s)]
    assert [v for s, p in order_sql for v in _offsets(s, p) if v] == []  # never skip rows by OFFSET
    counts = [(s, p) for s, p in order_sql if re.search(r"\bcount\(", s, re.I)]
    assert counts, "the list shows how many orders match"
    for statement, parameters in counts:
        assert re.search(r"\bLIMIT\b", statement, re.I), statement  # a count never runs unbounded
        assert max(_ints(parameters), default=0) <= order_queries.COUNT_CAP + 1, (statement, parameters)
    offsets = [v for s, p in statements for v in _offsets(s, p)]
    assert backend == "postgres" or offsets  # the check above did see SQLite's OFFSET 0


@pytest.mark.modes("shared", "database")
def test_a_rare_search_walks_a_bounded_window_then_collects_matches(client, people, backend, isolation,
                                                                   monkeypatch):
    """With more rows than the walk's window and fewer matches than a page, the search stops walking
    at the window and collects every match instead; the page and the count are still exact."""
    monkeypatch.setattr(paging, "SEARCH_WINDOW", 20)
    tenant = people.a
    ann = _customers(tenant, 1)[0]
    with tenant_context(tenant) as ctx:
        zed = customers.create_customer(ctx.session, tenant, name="Zed Quinn", email="zed@rare.example.com")
        ctx.session.commit()
    oldest = _orders(tenant, 3, zed)
    _orders(tenant, 40, ann, start=3)
    people.alice.sign_in(client)
    with _captured() as statements:
        page = client.get(f"/t/{tenant.slug}/orders?q=quinn")
    numbers = sorted(int(n) for n in re.findall(r'>#(\d+)</a>', page.data.decode()))
    assert numbers == sorted(o.number for o in oldest)
    assert b"3 orders<" in page.data  # exact: every match was collected
    walks = [p for s, p in statements if "walked" in s]
    assert walks and 20 in _ints(walks[0])  # the walk stops after the window
    assert [s for s, _ in statements if "matches" in s]  # then every match, collected once


@pytest.mark.modes("shared")
def test_a_common_search_counts_a_lower_bound(client, people, backend, isolation, monkeypatch):
    monkeypatch.setattr(paging, "SEARCH_COUNT_CAP", 30)
    tenant = people.a
    ann = _customers(tenant, 1)[0]
    _orders(tenant, 40, ann)
    people.alice.sign_in(client)
    page = client.get(f"/t/{tenant.slug}/orders?q=ann")
    assert len(re.findall(r'>#(\d+)</a>', page.data.decode())) == order_queries.PAGE_SIZE
    assert b"30+ orders" in page.data  # counted while walking, up to the cap
    small = client.get(f"/t/{tenant.slug}/orders?q=ann&status=paid")
    assert b"20 orders<" in small.data  # under the cap: exact


@pytest.mark.modes("shared")
@pytest.mark.parametrize("path, q", [("orders", "ab"), ("orders", "%"), ("customers", "z"),
                                     ("orders/new/customers", "an")])
def test_contains_search_needs_three_characters(client, people, backend, isolation, path, q):
    people.alice.sign_in(client)
    param = "customer_search" if path.endswith("/customers") and path != "customers" else "q"
    response = client.get(f"/t/{people.a.slug}/{path}", query_string={param: q})
    assert response.status_code == 422
    assert "at least 3 characters" in response.data.decode()


@pytest.mark.modes("shared")
def test_short_order_numbers_are_still_found(client, people, backend, isolation):
    tenant = people.a
    first = _orders(tenant, 1, _customers(tenant, 1)[0])[0]
    people.alice.sign_in(client)
    for q in (f"#{first.number}", str(first.number)):
        page = client.get(f"/t/{tenant.slug}/orders", query_string={"q": q})
        assert page.status_code == 200 and f">#{first.number}</a>" in page.data.decode()
    assert client.get(f"/t/{tenant.slug}/orders", query_string={"q": "7"}).status_code == 200


# --- the fleet: schemas at head are checked in one read ----------------------------------------

@pytest.mark.postgres_only
def test_checking_schemas_at_head_does_not_grow_with_the_fleet(app, backend):
    from tenancy.context import get_storage
    from tenancy.fleet import migrate_fleet, schema_revisions
    from tenancy.migrations import TENANT, downgrade, head
    from tenancy.storage import target_for
    from tests.factories import make_tenant

    def check() -> tuple[int, list[Any]]:
        with count_queries() as counted:
            results = migrate_fleet(get_storage(), None, parallel=1, dry_run=True)
        return len(counted), results

    fleet = [make_tenant(f"sch-{n}", isolation="schema") for n in range(2)]
    few, results = check()
    assert {r.status for r in results} == {"at_head"}
    fleet += [make_tenant(f"sch-{n}", isolation="schema") for n in range(2, 8)]
    many, results = check()
    assert len(results) == 9 and {r.status for r in results} == {"at_head"}  # 8 schemas + shared
    assert many == few

    behind = target_for(fleet[3])
    with get_storage().engine_for(behind).begin() as conn:
        downgrade(TENANT, conn, schema=behind.schema)
    revisions = schema_revisions(get_storage().main_engine, [target_for(t).schema for t in fleet])
    assert behind.schema not in revisions  # an empty version table: visited, not assumed
    assert set(revisions.values()) == {head(TENANT)} and len(revisions) == 7
    _count, results = check()
    assert [r.label for r in results if r.status == "would_upgrade"] == [fleet[3].slug]
