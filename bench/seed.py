"""The benchmark data set (`flask bench seed`): at scale 1.0, 1,000 tenants (about 900 shared, 80
schema, 20 database) and 2,000,000 orders with items, events and customers, half of them in one
shared tenant, `whale`, over two years.

Tenants are made the real way (`create_tenant` + `provision`), so their storage, migrations,
counters and owners are exactly what production has. Their rows are then bulk-loaded with COPY in
one transaction per tenant, in the shape the services would have written them:

- order numbers 1001… in creation order, `counters.order` = the highest number;
- customers' `orders_count`, `total_spent` (paid orders; a refund cancels its payment) and
  `last_order_at` computed from their orders;
- `daily_stats` for the dims all/status/channel/method per *local* day of the tenant, aggregated by
  PostgreSQL from the rows just loaded (same transaction), plus `new_customers` per day.

A tenant whose order counter is past 1000 is loaded (the load and the counter commit together), so
a second run skips it: the run is resumable and idempotent.
"""
from __future__ import annotations

import bisect
import datetime as dt
import io
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from flask import current_app
from sqlalchemy import Connection, select, text

from extensions import db
from models.control import Tenant, TenantStatus, utcnow
from services import audit
from services.errors import ServiceError
from services.rollup import NEW_CUSTOMERS_SQL, ROLLUP_SQL
from services.usage import refresh_usage
from tenancy.context import get_storage, tenant_context
from tenancy.provisioning import provision
from tenancy.storage import target_for

FULL_TENANTS = 1_000
FULL_ORDERS = 2_000_000
FULL_SCHEMA = 80
FULL_DATABASE = 20
WHALE = "whale"
WHALE_SHARE = 0.5           # of all orders
ORDERS_PER_CUSTOMER = 10    # a customer orders about ten times in two years
DAYS = 730                  # two years of history
FIRST_NUMBER = 1001         # provisioning seeds the counter at 1000
CHUNK = 20_000              # orders per COPY round: bounded memory, steady progress
STAFF_EMAIL = "bench@tenantry.test"
ACTOR = "bench seed"

CHANNELS = ("web", "store", "phone", "marketplace", "social")
METHODS = ("card", "bank_transfer", "ewallet", "cash", "cod")
# Final payment status → weight; most orders get paid, some are refunded after payment.
STATUSES = (("paid", 70), ("pending", 8), ("failed", 5), ("expired", 5), ("cancelled", 6),
            ("refunded", 6))
FIRST_NAMES = ("Budi", "Siti", "Agus", "Dewi", "Ahmad", "Nurul", "Tan", "Lim", "Ravi", "Farah",
               "Peter", "Nina", "Laura", "Drew", "Maya", "Joko", "Rina", "Hafiz", "Priya", "Wong")
LAST_NAMES = ("Santoso", "Rahayu", "Wijaya", "Lestari", "Hartono", "Gunawan", "Saputra", "Kusuma",
              "Rahman", "Shah", "Chen", "Patel", "Carter", "Smith", "Gibbons", "Nugroho",
              "Prasetyo", "Wahyuni", "Devi", "Ming", "Ling", "Kumar", "Nabila", "Aminah", "Huda")
PRODUCTS = (("Arabica Gayo 250 g", 9_500), ("Robusta Lampung 1 kg", 18_000), ("V60 Dripper", 12_500),
            ("Cold Brew 1 L", 6_500), ("Bath towel set", 8_900), ("Linen duvet cover", 15_900),
            ("Red stapler", 1_999), ("Printer toner", 7_450), ("Ergonomic chair", 34_900),
            ("Standing desk", 59_900))
CURRENCIES = ("USD", "IDR", "MYR")
PLANS = ("starter", "growth", "pro")

ORDER_COLUMNS = ("tenant_id", "id", "number", "customer_id", "customer_name", "customer_email",
                 "channel", "currency", "subtotal", "discount", "tax", "total", "payment_method",
                 "payment_status", "created_at", "updated_at")
ITEM_COLUMNS = ("tenant_id", "id", "order_id", "position", "name", "quantity", "unit_price",
                "line_total")
EVENT_COLUMNS = ("tenant_id", "id", "order_id", "at", "kind", "from_status", "to_status", "note",
                 "actor_label")
CUSTOMER_COLUMNS = ("tenant_id", "id", "name", "email", "phone", "created_at", "orders_count",
                    "total_spent", "last_order_at")


class SeedRefused(ServiceError):
    """The seed cannot run here (e.g. on SQLite)."""


@dataclass(frozen=True)
class TenantSpec:
    slug: str
    name: str
    isolation: str
    plan: str
    currency: str
    orders: int
    trial: bool = False

    @property
    def customers(self) -> int:
        return max(1, self.orders // ORDERS_PER_CUSTOMER)


def fleet_plan(scale: float) -> list[TenantSpec]:
    """The tenants of the data set at `scale` (1.0 = 1,000 tenants, 2,000,000 orders); at least 3
    tenants so every isolation mode is present, and at least one order per tenant."""
    total = max(3, round(FULL_TENANTS * scale))
    schema = max(1, round(FULL_SCHEMA * scale))
    database = max(1, round(FULL_DATABASE * scale))
    shared = total - schema - database  # includes the whale
    orders = max(total * 2, round(FULL_ORDERS * scale))
    whale_orders = round(orders * WHALE_SHARE)
    others = total - 1
    per, extra = divmod(orders - whale_orders, others)
    specs = [TenantSpec(WHALE, "Whale Wholesale", "shared", "pro", "USD", whale_orders)]
    modes = [("shared", "s", shared - 1), ("schema", "c", schema), ("database", "d", database)]
    n = 0
    for isolation, letter, count in modes:
        for i in range(1, count + 1):
            specs.append(TenantSpec(
                slug=f"bench-{letter}-{i:04d}", name=f"Bench {isolation.title()} {i:04d}",
                isolation=isolation, plan=PLANS[n % len(PLANS)],
                currency=CURRENCIES[n % len(CURRENCIES)], orders=per + (1 if n < extra else 0),
                trial=n % 7 == 0))
            n += 1
    return specs


# --- row generation ------------------------------------------------------------------------------

def uuid7_hex(ms: int, rng: random.Random) -> str:
    """A UUIDv7 (the layout of models.ids.new_id) for the moment `ms`, not for now: historical rows
    get ids of their own time, so id order agrees with created_at as it does in production. PostgreSQL
    reads 32 hex digits without hyphens as a uuid."""
    rand = rng.getrandbits(74)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return f"{value:032x}"


def _ts(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat()


@dataclass
class PlannedOrder:
    ms: int
    customer: int            # index into the tenant's customers, -1 = no customer
    channel: str
    method: str
    status: str
    items: tuple[tuple[int, int], ...]  # (product index, quantity)
    subtotal: int
    discount: int


@dataclass
class TenantRows:
    """Everything one tenant's load needs, planned before any row is written: the customers'
    totals must be known when they are copied, and orders reference customers."""

    tenant_id: str
    currency: str
    customer_ids: list[str]
    customer_names: list[tuple[str, str]]  # (name, email), denormalised onto their orders
    customer_rows: list[str]
    orders: list[PlannedOrder] = field(default_factory=list)


def plan_rows(tenant_id: str, spec: TenantSpec, now_ms: int, rng: random.Random) -> TenantRows:
    start_ms = now_ms - DAYS * 86_400_000
    end_ms = now_ms - 3_600_000  # the last order an hour ago: its events stay in the past
    # Customers join over the period; an order picks one who already existed at its time.
    joined = sorted(rng.randrange(start_ms, end_ms) for _ in range(spec.customers))
    joined[0] = start_ms  # someone exists from the start, so every order can have a customer
    order_ms = sorted(rng.randrange(start_ms, end_ms) for _ in range(spec.orders))
    statuses, weights = zip(*STATUSES)
    status_draws = rng.choices(statuses, weights=weights, k=spec.orders)
    count = [0] * spec.customers
    spent = [0] * spec.customers
    last = [0] * spec.customers
    orders = []
    for ms, status in zip(order_ms, status_draws):
        customer = rng.randrange(bisect.bisect_right(joined, ms)) if rng.random() < 0.95 else -1
        items = tuple((rng.randrange(len(PRODUCTS)), rng.randint(1, 3))
                      for _ in range(rng.randint(1, 3)))
        subtotal = sum(PRODUCTS[p][1] * q for p, q in items)
        discount = subtotal // 10 if rng.random() < 0.2 else 0
        orders.append(PlannedOrder(ms, customer, rng.choice(CHANNELS), rng.choice(METHODS), status,
                                   items, subtotal, discount))
        if customer >= 0:
            count[customer] += 1
            last[customer] = ms
            if status == "paid":  # refunded: paid then refunded, nets to zero as in change_status
                spent[customer] += subtotal - discount
    ids, names, rows = [], [], []
    for i, ms in enumerate(joined):
        cid = uuid7_hex(ms, rng)
        first, surname = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // 7) % len(LAST_NAMES)]
        name = f"{first} {surname}"
        email = f"{first}.{surname}.{i}@example.com".lower()
        phone = f"+62812{i:07d}" if i % 3 == 0 else "\\N"
        last_order = _ts(last[i]) if count[i] else "\\N"
        ids.append(cid)
        names.append((name, email))
        rows.append(f"{tenant_id}\t{cid}\t{name}\t{email}\t{phone}\t{_ts(ms)}\t{count[i]}\t"
                    f"{spent[i]}\t{last_order}\n")
    return TenantRows(tenant_id, spec.currency, ids, names, rows, orders)


@dataclass
class Chunk:
    orders: str
    items: str
    events: str
    count: int


def render_chunk(rows: TenantRows, start: int, stop: int, rng: random.Random) -> Chunk:
    """COPY text for orders[start:stop] with their items and events."""
    tid, currency = rows.tenant_id, rows.currency
    out_o, out_i, out_e = io.StringIO(), io.StringIO(), io.StringIO()
    for offset, o in enumerate(rows.orders[start:stop]):
        number = FIRST_NUMBER + start + offset
        oid = uuid7_hex(o.ms, rng)
        if o.customer >= 0:
            cid = rows.customer_ids[o.customer]
            cname, cemail = rows.customer_names[o.customer]
        else:
            cid, cname, cemail = "\\N", "", ""
        total = o.subtotal - o.discount
        created = _ts(o.ms)
        events = [(o.ms, "created", "\\N", "pending")]
        if o.status == "refunded":
            events += [(o.ms + 300_000, "status", "pending", "paid"),
                       (o.ms + 600_000, "status", "paid", "refunded")]
        elif o.status != "pending":
            events.append((o.ms + 300_000, "status", "pending", o.status))
        updated = _ts(events[-1][0]) if len(events) > 1 else created
        out_o.write(f"{tid}\t{oid}\t{number}\t{cid}\t{cname}\t{cemail}\t{o.channel}\t{currency}\t"
                    f"{o.subtotal}\t{o.discount}\t0\t{total}\t{o.method}\t{o.status}\t{created}\t"
                    f"{updated}\n")
        for position, (product, quantity) in enumerate(o.items, start=1):
            pname, price = PRODUCTS[product]
            out_i.write(f"{tid}\t{uuid7_hex(o.ms, rng)}\t{oid}\t{position}\t{pname}\t{quantity}\t"
                        f"{price}\t{price * quantity}\n")
        for at, kind, before, after in events:
            out_e.write(f"{tid}\t{uuid7_hex(at, rng)}\t{oid}\t{_ts(at)}\t{kind}\t{before}\t{after}\t"
                        f"\\N\t{ACTOR}\n")
    return Chunk(out_o.getvalue(), out_i.getvalue(), out_e.getvalue(), stop - start)


# --- loading -------------------------------------------------------------------------------------

def _copy(conn: Connection, table: str, columns: tuple[str, ...], data: str) -> None:
    """COPY `data` into `table` through a staging table: PostgreSQL refuses COPY FROM into a table
    with row-level security ("Use INSERT statements instead"), so the rows are copied into a
    temporary twin (no RLS) and moved with one INSERT … SELECT, which the tenant policy checks."""
    if not data:
        return
    staging = f"bench_stage_{table}"
    cols = ", ".join(columns)
    conn.execute(text(f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table}) ON COMMIT DROP"))
    cursor = conn.connection.driver_connection.cursor()  # psycopg 3: the text goes as is
    with cursor.copy(f"COPY {staging} ({cols}) FROM STDIN") as copy:
        copy.write(data)
    conn.execute(text(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {staging}"))
    conn.execute(text(f"TRUNCATE {staging}"))


def _begin_tenant_transaction(conn: Connection, tenant: Tenant) -> None:
    # The same per-transaction settings a TenantSession makes: FORCE RLS admits the rows only
    # with app.tenant_id set to their tenant; schema tenants resolve table names in their schema.
    target = target_for(tenant)
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), set_config('search_path', :s, true)"),
                 {"t": str(tenant.id), "s": target.schema or "public"})


def order_counter(tenant: Tenant) -> int:
    engine = get_storage().engine_for(target_for(tenant))
    with engine.begin() as conn:
        _begin_tenant_transaction(conn, tenant)
        value = conn.execute(text("SELECT value FROM counters WHERE tenant_id = :t AND name = 'order'"),
                             {"t": str(tenant.id)}).scalar()
    return int(value or 0)


def load_tenant(tenant: Tenant, spec: TenantSpec, rng: random.Random,
                on_chunk: Callable[[int], None]) -> None:
    """Bulk-load one provisioned, empty tenant in one transaction (all or nothing)."""
    now_ms = int(time.time() * 1000)
    rows = plan_rows(str(tenant.id).replace("-", ""), spec, now_ms, rng)
    engine = get_storage().engine_for(target_for(tenant))
    params = {"tenant_id": str(tenant.id), "tz": tenant.timezone}
    with engine.begin() as conn, ThreadPoolExecutor(max_workers=1) as renderer:
        _begin_tenant_transaction(conn, tenant)
        _copy(conn, "customers", CUSTOMER_COLUMNS, "".join(rows.customer_rows))
        bounds = [(s, min(s + CHUNK, len(rows.orders))) for s in range(0, len(rows.orders), CHUNK)]
        # Render the next chunk in a thread while this one is copied: psycopg releases the GIL
        # while PostgreSQL ingests, so Python and the server work at the same time on two cores.
        pending = renderer.submit(render_chunk, rows, *bounds[0], random.Random(rng.random()))
        for i in range(len(bounds)):
            chunk = pending.result()
            if i + 1 < len(bounds):
                pending = renderer.submit(render_chunk, rows, *bounds[i + 1], random.Random(rng.random()))
            _copy(conn, "orders", ORDER_COLUMNS, chunk.orders)
            _copy(conn, "order_items", ITEM_COLUMNS, chunk.items)
            _copy(conn, "order_events", EVENT_COLUMNS, chunk.events)
            on_chunk(chunk.count)
        conn.execute(text(ROLLUP_SQL), params)
        conn.execute(text(NEW_CUSTOMERS_SQL), params)
        conn.execute(text("UPDATE counters SET value = :v WHERE tenant_id = :tenant_id AND name = 'order'"),
                     {**params, "v": FIRST_NUMBER - 1 + len(rows.orders)})


# --- the command ---------------------------------------------------------------------------------

@dataclass
class SeedReport:
    tenants_created: int = 0
    tenants_loaded: int = 0
    tenants_skipped: int = 0
    orders_loaded: int = 0
    seconds: float = 0.0


def _ensure_staff() -> None:
    from services.staff import create_staff, find_staff
    if find_staff(STAFF_EMAIL) is None:
        cfg = current_app.config
        create_staff(STAFF_EMAIL, "owner", cfg["DEMO_PASSWORD"], cfg["BCRYPT_ROUNDS"], audit.CLI,
                     name="Bench")
        db.session.commit()


def _ensure_tenant(spec: TenantSpec, plans: dict[str, Any]) -> tuple[Tenant, bool]:
    """The spec's tenant, created and provisioned if missing (provisioning resumed if unfinished)."""
    from services.tenants import create_tenant
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == spec.slug)).scalar_one_or_none()
    created = tenant is None
    if tenant is None:
        tenant, _token = create_tenant(
            slug=spec.slug, name=spec.name, plan=plans[spec.plan], isolation=spec.isolation,
            owner_email=f"owner@{spec.slug}.test", actor=audit.CLI, currency=spec.currency,
            trial_days=14 if spec.trial else 0, backend=db.engine.dialect.name,
            main_url=db.engine.url.render_as_string(hide_password=False))
        db.session.commit()
    if tenant.status in (TenantStatus.PROVISIONING.value, TenantStatus.PROVISIONING_FAILED.value):
        result = provision(tenant.id)
        if not result.ok:
            raise SeedRefused(f"provisioning {spec.slug} stopped at {result.failed_step}: {result.error}")
        db.session.refresh(tenant)
    return tenant, created


def _analyze(tenants: list[Tenant]) -> None:
    """Fresh planner statistics after millions of rows, so the first EXPLAIN does not guess, and a
    VACUUM, as autovacuum would soon do: it sets the visibility map (index-only scans, such as the
    capped counts, need it) and the hint bits (or the first readers would write every page)."""
    def vacuum(engine: Any) -> None:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))

    vacuum(db.engine)
    storage = get_storage()
    for tenant in tenants:
        if tenant.isolation == "database":
            vacuum(storage.engine_for(target_for(tenant)))


def seed(scale: float, say: Callable[[str, bool], None], seed_value: int = 42) -> SeedReport:
    """Build (or complete) the data set at `scale`. `say(line, final)` shows progress."""
    if db.engine.dialect.name != "postgresql":
        raise SeedRefused("bench seed needs PostgreSQL (COPY, row-level security, schema tenants); "
                          "point DATABASE_URL at a PostgreSQL database, e.g. "
                          "postgresql://tenantry_bench@127.0.0.1/tenantry_bench")
    from services.demo import _ensure_plans  # the demo's plans are the product's plans: one list
    started = time.perf_counter()
    report = SeedReport()
    specs = fleet_plan(scale)
    total_orders = sum(s.orders for s in specs)
    plans = _ensure_plans()
    db.session.commit()
    _ensure_staff()
    rng = random.Random(seed_value)
    done_orders = 0
    tenants: list[Tenant] = []

    def progress(final: bool = False) -> None:
        n = report.tenants_loaded + report.tenants_skipped
        say(f"[{n}/{len(specs)} tenants] {done_orders:,}/{total_orders:,} orders "
            f"({report.tenants_created} created, {report.tenants_skipped} already loaded) "
            f"{time.perf_counter() - started:.0f} s", final)

    for spec in specs:
        tenant, created = _ensure_tenant(spec, plans)
        tenants.append(tenant)
        report.tenants_created += created
        if order_counter(tenant) >= FIRST_NUMBER:
            report.tenants_skipped += 1
            done_orders += spec.orders
        else:
            def on_chunk(n: int) -> None:
                nonlocal done_orders
                done_orders += n
                report.orders_loaded += n
                progress()
            load_tenant(tenant, spec, random.Random(rng.random()), on_chunk)
            report.tenants_loaded += 1
            _refresh_usage(tenant)
        progress()
    say("refreshing usage columns and statistics…", False)
    for tenant in tenants:
        _refresh_usage(tenant)
    _analyze(tenants)
    report.seconds = time.perf_counter() - started
    progress(final=True)
    return report


def _refresh_usage(tenant: Tenant) -> None:
    with tenant_context(tenant) as ctx:
        refresh_usage(tenant, ctx.session)
    tenant.last_active_at = tenant.last_active_at or utcnow()
    db.session.commit()


def iter_bench_tenants() -> Iterator[Tenant]:
    """The data set's tenants (whale first), for `bench run`."""
    yield from db.session.execute(select(Tenant).where(
        (Tenant.slug == WHALE) | Tenant.slug.like("bench-%")).order_by(Tenant.slug != WHALE, Tenant.slug)).scalars()
