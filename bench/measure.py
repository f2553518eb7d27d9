"""`make bench` (`flask bench run`): measure DESIGN §6 on the seeded data set; one table, one JSON.

Server time is measured in-process through the WSGI app (`app.test_client()`), timing only the
request, with a signed-in session made directly (no password round trip): each page gets a warm-up
and then `requests` timed requests. Pages are found in `app.url_map`; a page that is not built yet
gets a line saying so, never a failure. Beside each list and stats figure the naive approach runs as
raw SQL on the same data in the same run (OFFSET deep page, exact COUNT(*), aggregate over orders).
"""
from __future__ import annotations

import contextvars
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import urlencode
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from flask import Flask, current_app
from sqlalchemy import create_engine, delete, select, text

from extensions import db
from models.control import Tenant, VendorStaff
from models.tenant import Customer, Order, TenantUser
from services import audit
from services.errors import ServiceError
from tenancy.context import get_storage, tenant_context
from tenancy.storage import target_for

WARMUP = 10
NAIVE_RUNS = 20
PAGE_SIZE = 25
DEEP_PAGE = 10_000
BUDGET_LIST, BUDGET_STATS, BUDGET_VENDOR_LIST, BUDGET_OTHER = 25.0, 20.0, 30.0, 100.0
BUDGET_RPS = 600.0
BUDGET_MIGRATE_MS = 60_000.0
BUDGET_CONNECTIONS = 10
BUDGET_PROVISION_MS = {"shared": 200.0, "schema": 1_000.0, "database": 3_000.0}


@dataclass
class Row:
    name: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    budget_ms: float | None = None
    ok: bool | None = None
    rps: float | None = None
    errors: int | None = None
    value: float | None = None      # a count (connections) where a time does not apply
    budget: float | None = None     # its budget (≤), or requests/s (≥) for throughput
    note: str = ""
    naive: bool = False             # a naive-approach comparison row, no budget


def percentile(samples: list[float], q: float) -> float | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(fn: Callable[[], Any], runs: int, warmup: int = WARMUP) -> tuple[list[float], Any]:
    last = None
    for _ in range(warmup):
        last = fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        last = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, last


class Bench:
    def __init__(self, app: Flask, requests: int, say: Callable[[str], None]) -> None:
        self.app, self.requests, self.say = app, requests, say
        self.rows: list[Row] = []
        whale = db.session.execute(select(Tenant).where(Tenant.slug == "whale")).scalar_one_or_none()
        if whale is None:
            raise ServiceError("no 'whale' tenant: build the data set first with `flask bench seed`")
        self.whale = whale
        self.rules = {r.rule: r for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
        self.client = app.test_client()
        self.cookie = self._sign_in()

    # --- signed-in session -----------------------------------------------------------------------
    def _sign_in(self) -> str:
        """Put the vendor staff member and the whale's owner in one session, as sign-in would."""
        from bench.seed import STAFF_EMAIL
        from web.auth import STAFF, tenant_key
        staff = db.session.execute(select(VendorStaff).where(VendorStaff.email == STAFF_EMAIL)).scalar_one()
        with tenant_context(self.whale) as ctx:
            owner = ctx.session.execute(select(TenantUser).where(TenantUser.role == "owner")).scalars().first()
        now = int(time.time())
        auth = {STAFF: {"id": str(staff.id), "v": staff.auth_version, "at": now, "seen": now},
                tenant_key(self.whale.id): {"id": str(owner.id), "v": owner.auth_version, "at": now, "seen": now}}
        with self.client.session_transaction() as sess:
            sess["auth"] = auth
            sess.permanent = True
            data = dict(sess)
        serializer = self.app.session_interface.get_signing_serializer(self.app)  # type: ignore[attr-defined]
        return f"{self.app.config['SESSION_COOKIE_NAME']}={serializer.dumps(data)}"

    def get(self, url: str) -> int:
        # A fresh contextvars.Context per request, as on a real server: the CLI's app context
        # would otherwise be reused and `g` (the signed-in user) cached across requests.
        response = contextvars.Context().run(self.client.get, url)
        response.close()
        return response.status_code

    # --- rows ------------------------------------------------------------------------------------
    def page(self, name: str, rule: str | None, url: str | None, budget: float) -> Row | None:
        if rule is None or url is None:
            self.rows.append(Row(name, note="not built yet"))
            self.say(f"  {name}: not built yet")
            return None
        statuses: list[int] = []
        samples, _ = timed(lambda: statuses.append(self.get(url)), self.requests)
        bad = [s for s in statuses if s != 200]
        p95 = percentile(samples, 0.95)
        row = Row(name, percentile(samples, 0.5), p95, budget,
                  ok=not bad and p95 is not None and p95 < budget, errors=len(bad),
                  note=f"HTTP {bad[0]} ×{len(bad)}" if bad else "")
        self.rows.append(row)
        self.say(f"  {name}: p95 {p95:.1f} ms")
        return row

    def naive_sql(self, name: str, sql: str, params: dict[str, Any] | None = None,
                  tenant: Tenant | None = None) -> None:
        """Time raw SQL in the tenant's transaction settings (RLS admits only its rows)."""
        tenant = tenant or self.whale
        engine = get_storage().engine_for(target_for(tenant))
        with engine.connect() as conn:
            def run() -> Any:
                with conn.begin():
                    conn.execute(text("SELECT set_config('app.tenant_id', :t, true), "
                                      "set_config('search_path', :s, true)"),
                                 {"t": str(tenant.id), "s": target_for(tenant).schema or "public"})
                    return conn.execute(text(sql), {"t": str(tenant.id), **(params or {})}).all()
            samples, _ = timed(run, NAIVE_RUNS, warmup=2)
        self.rows.append(Row(name, percentile(samples, 0.5), percentile(samples, 0.95), naive=True))

    def find(self, rule: str) -> str | None:
        return rule if rule in self.rules else None

    def find_like(self, prefix: str, contains: str = "", args: int = 1) -> Any:
        for text_, rule in sorted(self.rules.items()):
            if text_.startswith(prefix) and contains in text_ and len(rule.arguments) == args:
                return rule
        return None


def _whale_samples(bench: Bench) -> dict[str, Any]:
    """Ids and cursors the pages need: a deep cursor, an order, a customer, the order count."""
    from services.paging import encode_cursor
    with tenant_context(bench.whale) as ctx:
        s = ctx.session
        count = len(s.execute(select(Order.id).limit(DEEP_PAGE * PAGE_SIZE + PAGE_SIZE)).all())
        depth = max(0, min(DEEP_PAGE * PAGE_SIZE, count - PAGE_SIZE) - 1)  # last row of the page before
        deep = s.execute(select(Order.created_at, Order.id)
                         .order_by(Order.created_at.desc(), Order.id.desc()).offset(depth).limit(1)).one()
        order_id = s.execute(select(Order.id).order_by(Order.created_at.desc(), Order.id.desc())
                             .offset(count // 2).limit(1)).scalar_one()
        customer = s.execute(select(Customer.id, Customer.email).order_by(
            Customer.orders_count.desc(), Customer.id.desc()).limit(1)).one()
    return {"cursor": encode_cursor([deep.created_at, deep.id]), "depth": depth + 1,
            "order_id": order_id, "customer_id": customer.id, "email": customer.email}


def ilike_leakproof() -> bool:
    """Whether PostgreSQL may test ILIKE inside an index under row-level security (README,
    Performance): only then can the trigram indexes serve a rare search term."""
    return bool(db.session.execute(text(
        "SELECT proleakproof FROM pg_proc WHERE oid = 'pg_catalog.texticlike(text, text)'::regprocedure"
    )).scalar_one())


def measure_pages(bench: Bench) -> None:
    say, slug, tid = bench.say, bench.whale.slug, bench.whale.id
    w = _whale_samples(bench)
    deep_pages = w["depth"] // PAGE_SIZE + 1
    say(f"pages (in-process, {bench.requests} requests each after {WARMUP} warm-up):")
    order_by = "ORDER BY created_at DESC, id DESC"
    t = "/t/<tenant_slug>"

    bench.page("whale home", bench.find(f"{t}/"), f"/t/{slug}/", BUDGET_OTHER)
    orders = bench.find(f"{t}/orders")
    url = f"/t/{slug}/orders" if orders else None
    first = bench.page("whale orders, first page", orders, url, BUDGET_LIST)
    if orders:
        bench.naive_sql("  naive: exact COUNT(*) of the whale's orders",
                        "SELECT count(*) FROM orders WHERE tenant_id = :t")
    deep = bench.page(f"whale orders, page {deep_pages:,} deep (keyset)", orders,
                      url and f"{url}?after={w['cursor']}", BUDGET_LIST)
    if orders:
        bench.naive_sql(f"  naive: OFFSET {w['depth']:,} LIMIT {PAGE_SIZE}",
                        f"SELECT * FROM orders WHERE tenant_id = :t {order_by} OFFSET :o LIMIT {PAGE_SIZE + 1}",
                        {"o": w["depth"]})
    if first and deep and first.p95_ms and deep.p95_ms:
        ratio = deep.p95_ms / first.p95_ms
        bench.rows.append(Row("deep page p95 within 20% of first", value=round(ratio, 2), budget=1.2,
                              ok=ratio <= 1.2, note=f"ratio {ratio:.2f}"))
    bench.page("whale orders, status=paid", orders, url and f"{url}?status=paid", BUDGET_LIST)
    if orders:
        bench.naive_sql("  naive: exact COUNT(*) status=paid",
                        "SELECT count(*) FROM orders WHERE tenant_id = :t AND payment_status = 'paid'")
    bench.page("whale orders, search 'santoso' (1 order in 25)", orders, url and f"{url}?q=santoso",
               BUDGET_LIST)
    if orders:
        bench.naive_sql("  naive: exact COUNT(*) of the search",
                        "SELECT count(*) FROM orders WHERE tenant_id = :t AND "
                        "(customer_name ILIKE '%santoso%' OR customer_email ILIKE '%santoso%')")
    leakproof = ilike_leakproof()
    rare = bench.page("whale orders, search one customer's e-mail (rare)", orders,
                      url and f"{url}?{urlencode({'q': w['email']})}", BUDGET_LIST)
    if rare is not None:
        rare.note = (rare.note + " " if rare.note else "") + (
            "trigram index (ILIKE leakproof)" if leakproof else "ILIKE not leakproof: no trigram index under RLS")
    bench.page("whale orders, method=cash (tested row by row)", orders, url and f"{url}?method=cash",
               BUDGET_LIST)
    customers = bench.find(f"{t}/customers")
    bench.page("whale customers", customers, customers and f"/t/{slug}/customers", BUDGET_OTHER)
    if customers:
        bench.naive_sql("  naive: exact COUNT(*) of customers",
                        "SELECT count(*) FROM customers WHERE tenant_id = :t")
    bench.page("whale customers, search 'santoso'", customers,
               customers and f"/t/{slug}/customers?q=santoso", BUDGET_OTHER)
    stats = bench.find_like("/t/<tenant_slug>/", "stats", args=1)
    for days, budget in ((30, BUDGET_STATS), (90, BUDGET_OTHER)):
        bench.page(f"whale stats {days} days", stats and stats.rule,
                   stats and f"/t/{slug}/{stats.rule.split('/', 3)[3]}?range={days}d", budget)
        since = dt.date.today() - dt.timedelta(days=days)
        bench.naive_sql(f"  rollup SQL, {days} days (daily_stats)",
                        "SELECT day, orders, revenue FROM daily_stats WHERE tenant_id = :t AND "
                        "dim = 'all' AND day >= :since ORDER BY day", {"since": since})
        bench.naive_sql(f"  naive: aggregate over raw orders, {days} days",
                        "SELECT (created_at AT TIME ZONE :tz)::date AS day, count(*), "
                        "sum(total) FILTER (WHERE payment_status = 'paid') FROM orders "
                        "WHERE tenant_id = :t AND created_at >= :since GROUP BY 1 ORDER BY 1",
                        {"since": since, "tz": bench.whale.timezone})
    detail = bench.find(f"{t}/orders/<uuid:order_id>")
    bench.page("whale order detail", detail, detail and f"/t/{slug}/orders/{w['order_id']}", BUDGET_OTHER)
    cdetail = bench.find(f"{t}/customers/<uuid:customer_id>")
    bench.page("whale customer detail (most orders)", cdetail,
               cdetail and f"/t/{slug}/customers/{w['customer_id']}", BUDGET_OTHER)

    bench.page("vendor dashboard /admin/", bench.find("/admin/"), "/admin/", BUDGET_OTHER)
    tenants = bench.find("/admin/tenants")
    bench.page("vendor tenant list, first page", tenants, "/admin/tenants", BUDGET_VENDOR_LIST)
    bench.page("vendor tenant list, search 'bench-s-01'", tenants, "/admin/tenants?q=bench-s-01",
               BUDGET_VENDOR_LIST)
    bench.page("vendor tenant list, status=trial", tenants, "/admin/tenants?status=trial",
               BUDGET_VENDOR_LIST)
    tdetail = bench.find_like("/admin/tenants/<", args=1)
    if tdetail is not None:
        converter = str(tdetail.rule).split("<", 1)[1]
        value = tid if converter.startswith("uuid") else slug
        tdetail_url = tdetail.rule.split("<", 1)[0] + str(value) + tdetail.rule.split(">", 1)[1]
    bench.page("vendor tenant detail (whale)", tdetail and tdetail.rule,
               tdetail_url if tdetail is not None else None, BUDGET_OTHER)


def measure_throughput(bench: Bench, seconds: int, connections: int) -> None:
    path = f"/t/{bench.whale.slug}/orders" if bench.find("/t/<tenant_slug>/orders") else f"/t/{bench.whale.slug}/"
    name = f"throughput {path} (gunicorn -w 2, {connections} conns, {seconds} s)"
    bench.say(f"{name}…")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
           "SECRET_KEY": current_app.config["SECRET_KEY"]}
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen([str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                               "app:create_app()"], env=env, cwd=Path(current_app.root_path))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    bench.rows.append(Row(name, ok=False, note="gunicorn did not start"))
                    return
                time.sleep(0.3)
        load = subprocess.run([sys.executable, "-m", "bench.load", "--port", str(port), "--path", path,
                               "--cookie", bench.cookie, "--connections", str(connections),
                               "--seconds", str(seconds)],
                              capture_output=True, text=True, timeout=seconds + 60,
                              cwd=Path(current_app.root_path))
        result = json.loads(load.stdout.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok = result["rps"] >= BUDGET_RPS and result["errors"] == 0
    bench.rows.append(Row(name, result["p50_ms"], result["p95_ms"], ok=ok, rps=round(result["rps"], 1),
                          errors=result["errors"], budget=BUDGET_RPS,
                          note=f"p99 {result['p99_ms'] or 0:.0f} ms, {result['requests']:,} requests"))


def measure_provisioning(bench: Bench, runs: int = 3) -> None:
    from services.tenants import create_tenant, get_plan
    from tenancy.provisioning import provision
    storage = get_storage()
    bench.say("provisioning per isolation mode…")
    for mode, budget in BUDGET_PROVISION_MS.items():
        samples = []
        for _ in range(runs):
            slug = f"bench-prov-{mode[:2]}-{secrets.token_hex(3)}"
            started = time.perf_counter()
            tenant, _ = create_tenant(slug=slug, name=f"Provisioning probe {mode}", plan=get_plan("starter"),
                                      isolation=mode, owner_email=f"owner@{slug}.test", actor=audit.CLI,
                                      trial_days=0, backend="postgresql",
                                      main_url=db.engine.url.render_as_string(hide_password=False))
            db.session.commit()
            result = provision(tenant.id)
            samples.append((time.perf_counter() - started) * 1000)
            _erase(tenant)
            if not result.ok:
                bench.rows.append(Row(f"provision {mode}", ok=False, note=f"failed: {result.error}"))
                break
        else:
            p95 = percentile(samples, 0.95)
            bench.rows.append(Row(f"provision {mode} (create + pipeline, {runs} runs)",
                                  percentile(samples, 0.5), p95, budget, ok=p95 is not None and p95 < budget))


def _erase(tenant: Tenant) -> None:
    """Remove a throwaway tenant: its storage (schema/database) or its shared rows, then its row."""
    from models.tenant import TenantModel
    target = target_for(tenant)
    if tenant.isolation == "shared":
        with tenant_context(tenant) as ctx:
            for table in reversed(TenantModel.metadata.sorted_tables):
                mapper = next(m for m in TenantModel.registry.mappers if m.local_table is table)
                ctx.session.execute(delete(mapper.class_))
            ctx.session.commit()
    else:
        get_storage().drop(target)
    db.session.delete(tenant)
    db.session.commit()


def measure_migrate(bench: Bench, parallel: int = 4) -> None:
    from tenancy.fleet import migrate_fleet
    bench.say("tenants migrate over the fleet (already at head)…")
    started = time.perf_counter()
    results = migrate_fleet(get_storage(), None, parallel)
    ms = (time.perf_counter() - started) * 1000
    behind = [r for r in results if r.status != "at_head"]
    bench.rows.append(Row(f"tenants migrate, {len(results)} targets at head (--parallel {parallel})",
                          ms, ms, BUDGET_MIGRATE_MS, ok=ms < BUDGET_MIGRATE_MS and not behind,
                          note=f"{len(behind)} not at head" if behind else "budget is for 1,000 schema tenants"))


def measure_connections(bench: Bench) -> None:
    """Connections held by one worker (a child process) after touching every database-mode tenant,
    counted in pg_stat_activity by the parent on its own probe connection."""
    bench.say("connections held by one worker…")
    main_db = db.engine.url.database
    child = subprocess.Popen([sys.executable, "-m", "bench.connections"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, cwd=Path(current_app.root_path),
                             env={**os.environ, "DATABASE_URL": db.engine.url.render_as_string(hide_password=False),
                                  "SECRET_KEY": current_app.config["SECRET_KEY"]})
    try:
        line = child.stdout.readline().split() if child.stdout else []
        probe = create_engine(db.engine.url, connect_args={"application_name": "tenantry-bench-probe"})
        with probe.connect() as conn:
            held = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tenantry' "
                "AND pid <> pg_backend_pid() AND (datname = :db OR datname LIKE :family)"),
                {"db": main_db, "family": main_db.replace("_", "\\_") + "\\_\\_%"}).scalar_one()
        probe.dispose()
    finally:
        if child.stdin:
            child.stdin.write("\n")
            child.stdin.close()
        child.wait(timeout=30)
    touched = line[1] if len(line) > 1 else "?"
    bench.rows.append(Row("PostgreSQL connections held by one worker", value=held, budget=BUDGET_CONNECTIONS,
                          ok=held <= BUDGET_CONNECTIONS,
                          note=f"child process after touching {touched} tenants (every database-mode one); "
                               "counted from the parent in pg_stat_activity"))


def format_table(rows: list[Row], scale_note: str) -> str:
    def ms(v: float | None) -> str:
        return "-" if v is None else f"{v:,.1f}"

    lines = [scale_note, f"{'what':<62} {'p50 ms':>9} {'p95 ms':>9} {'budget':>10} {'ok':>4}  note",
             "-" * 110]
    for r in rows:
        if r.rps is not None:
            budget, p50 = f">={r.budget:.0f}/s", f"{r.rps:,.0f}/s"
            lines.append(f"{r.name:<62} {p50:>9} {ms(r.p95_ms):>9} {budget:>10} {_ok(r):>4}  "
                         f"errors {r.errors}, p50 {ms(r.p50_ms)} ms, {r.note}")
            continue
        if r.value is not None:
            lines.append(f"{r.name:<62} {r.value:>9} {'':>9} {'<=' + format(r.budget, 'g'):>10} {_ok(r):>4}  {r.note}")
            continue
        budget = "" if r.budget_ms is None else f"<{r.budget_ms:,.0f}"
        lines.append(f"{r.name:<62} {ms(r.p50_ms):>9} {ms(r.p95_ms):>9} {budget:>10} {_ok(r):>4}  {r.note}")
    return "\n".join(lines)


def _ok(r: Row) -> str:
    return "" if r.ok is None else ("yes" if r.ok else "NO")


def run_bench(requests: int, seconds: int, connections: int, out: str, throughput: bool,
              say: Callable[[str], None]) -> list[Row]:
    if db.engine.dialect.name != "postgresql":
        raise ServiceError("make bench needs the PostgreSQL data set: set DATABASE_URL to it "
                           "(see README, Performance) and run `flask bench seed` first")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    bench = Bench(app, requests, say)
    counts = db.session.execute(text("SELECT count(*), count(*) FILTER (WHERE isolation = 'schema'), "
                                      "count(*) FILTER (WHERE isolation = 'database') FROM tenants")).one()
    scale_note = (f"data set: {counts[0]:,} tenants ({counts[1]} schema, {counts[2]} database), "
                  f"whale {bench.whale.usage_customers:,} customers; {requests} requests per page")
    say(scale_note)
    measure_pages(bench)
    if throughput:
        measure_throughput(bench, seconds, connections)
    measure_provisioning(bench)
    measure_migrate(bench)
    db.session.remove()
    db.engine.dispose()
    get_storage().engines.dispose_all()  # so the count below sees only the child's connections
    measure_connections(bench)
    table = format_table(bench.rows, scale_note)
    say("\n" + table)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"scale": scale_note, "results": [
        {k: v for k, v in asdict(r).items() if v is not None and v != ""} for r in bench.rows]},
        indent=2, default=str))
    say(f"\nwritten to {out}")
    return bench.rows
