"""`flask --app app …` commands. Thin wrappers over services; bad arguments exit non-zero with a
clear message and write nothing."""
from __future__ import annotations

import json
import sys
import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from extensions import db
from models.control import Isolation, Tenant
from services import audit
from services.errors import ServiceError
from tenancy.context import get_storage


def _fail(message: str) -> None:
    raise click.ClickException(message)


def _service(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run a service; its refusal becomes a clean CLI error and the transaction is rolled back."""
    try:
        return fn(*args, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        _fail(exc.message)


def setup_database() -> dict[str, Any]:
    """Create or upgrade the control plane and the shared tenant tables (idempotent)."""
    from sqlalchemy import update

    from models.control import utcnow
    from tenancy.checks import verify_database_role
    from tenancy.migrations import CONTROL, TENANT, upgrade

    engine = db.engine
    verify_database_role(engine)
    if engine.dialect.name == "sqlite":
        from pathlib import Path
        Path(engine.url.database or "").parent.mkdir(parents=True, exist_ok=True)
    with engine.begin() as conn:
        control = upgrade(CONTROL, conn)
    with engine.begin() as conn:
        tenant = upgrade(TENANT, conn)
    db.session.execute(update(Tenant).where(Tenant.isolation == Isolation.SHARED.value)
                       .values(schema_revision=tenant[1], migrated_at=utcnow()))
    db.session.commit()
    return {"control": control, "tenant": tenant}


def register_cli(app: Flask) -> None:
    from bench.cli import register_bench_cli  # `flask bench seed|run`: the data set and `make bench`
    register_bench_cli(app)

    @app.cli.command("setup")
    def setup_cmd() -> None:
        """Create or upgrade the control plane and the shared tenant tables (safe to re-run)."""
        result = setup_database()
        for track, (before, after) in result.items():
            state = "already at head" if before == after else f"{before or 'empty'} → {after}"
            click.echo(f"{track:8} {state}")

    @app.cli.command("seed-demo")
    @click.option("--url", default="", help="Base URL to print in the sign-in details, e.g. http://127.0.0.1:5000")
    def seed_demo_cmd(url: str) -> None:
        """Load demo plans, staff and tenants (acme, globex, initech) once; prints sign-in details."""
        from services.demo import seed_demo
        cfg = current_app.config
        created = seed_demo(password=cfg["DEMO_PASSWORD"], rounds=cfg["BCRYPT_ROUNDS"],
                            backend=db.engine.dialect.name,
                            main_url=db.engine.url.render_as_string(hide_password=False),
                            say=click.echo)
        click.echo("created: " + ", ".join(created) if created else "demo data already present")
        print_sign_in(cfg["DEMO_PASSWORD"], url.rstrip("/"))

    admins = AppGroup("admins", help="Vendor staff accounts.")
    app.cli.add_command(admins)

    @admins.command("create")
    @click.argument("email")
    @click.option("--role", type=click.Choice(["owner", "admin", "support", "viewer"]), required=True)
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    def admins_create(email: str, role: str, password_stdin: bool) -> None:
        """Create a vendor staff member who can sign in at /admin."""
        from services.staff import create_staff
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        staff = _service(create_staff, email, role, password, current_app.config["BCRYPT_ROUNDS"], audit.CLI)
        db.session.commit()
        click.echo(f"created {staff.role} {staff.email}")

    tenants = AppGroup("tenants", help="Create, inspect, suspend, migrate and check tenants.")
    app.cli.add_command(tenants)

    @tenants.command("create")
    @click.argument("slug")
    @click.option("--name", required=True, help="Display name.")
    @click.option("--plan", "plan_slug", required=True, help="Plan slug, e.g. starter.")
    @click.option("--isolation", type=click.Choice([m.value for m in Isolation]), default="shared",
                  show_default=True)
    @click.option("--owner-email", required=True)
    @click.option("--currency", type=click.Choice(["IDR", "MYR", "USD"]), default="USD", show_default=True)
    @click.option("--trial-days", type=click.IntRange(0, 365), default=None,
                  help="Defaults to the plan's trial days.")
    def tenants_create(slug: str, name: str, plan_slug: str, isolation: str, owner_email: str,
                       currency: str, trial_days: int | None) -> None:
        """Reserve and provision a tenant; prints the owner's one-time set-password link."""
        from services.tenants import create_tenant, get_plan
        plan = _service(get_plan, plan_slug)
        tenant, token = _service(create_tenant, slug=slug, name=name, plan=plan, isolation=isolation,
                                 owner_email=owner_email, actor=audit.CLI, currency=currency,
                                 trial_days=trial_days, backend=db.engine.dialect.name,
                                 main_url=db.engine.url.render_as_string(hide_password=False))
        db.session.commit()
        _run_pipeline(tenant)
        click.echo(f"owner's set-password link (shown once): /t/{tenant.slug}/set-password/{token}")

    @tenants.command("provision")
    @click.argument("slug")
    def tenants_provision(slug: str) -> None:
        """Resume a tenant's provisioning from the step that failed."""
        from services.tenants import get_tenant
        tenant = _service(get_tenant, slug)
        _run_pipeline(tenant)

    def _run_pipeline(tenant: Tenant) -> None:
        from tenancy.provisioning import provision

        def progress(step: Any) -> None:
            if step.status in ("done", "failed"):
                ms = f" {step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
                click.echo(f"  {step.position + 1}/6 {step.step:15} {step.status}{ms}")

        result = provision(tenant.id, on_step=progress)
        if not result.ok:
            _fail(f"provisioning stopped at '{result.failed_step}': {result.error}\n"
                  f"Fix the cause, then run: flask tenants provision {tenant.slug}")
        click.echo(f"{tenant.slug}: ready in {result.seconds:.2f} s")

    @tenants.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def tenants_list(as_json: bool) -> None:
        """Every tenant: slug, name, status, plan, isolation, schema revision."""
        rows = [{"slug": t.slug, "name": t.name, "status": t.status, "plan": t.plan.slug,
                 "isolation": t.isolation, "revision": t.schema_revision}
                for t in db.session.execute(select(Tenant).order_by(Tenant.slug)).scalars()]
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return
        click.echo(f"{'SLUG':<20} {'STATUS':<20} {'PLAN':<10} {'ISOLATION':<10} {'REVISION':<14} NAME")
        for r in rows:
            click.echo(f"{r['slug']:<20} {r['status']:<20} {r['plan']:<10} {r['isolation']:<10} "
                       f"{r['revision'] or '-':<14} {r['name']}")

    @tenants.command("show")
    @click.argument("slug")
    def tenants_show(slug: str) -> None:
        """Everything the control plane knows about one tenant, with its provisioning steps."""
        from services.tenants import get_tenant
        from tenancy.provisioning import steps_of
        t = _service(get_tenant, slug)
        fields = [("slug", t.slug), ("name", t.name), ("status", t.status),
                  ("reason", t.status_reason or "-"), ("plan", t.plan.slug),
                  ("isolation", t.isolation), ("storage", t.db_name or "main database"),
                  ("db host", t.db_host or "-"), ("owner", t.owner_email),
                  ("currency", f"{t.currency} ({t.locale}, {t.timezone})"),
                  ("trial ends", t.trial_ends_at or "-"), ("revision", t.schema_revision or "-"),
                  ("created", t.created_at), ("last active", t.last_active_at or "-")]
        for label, value in fields:
            click.echo(f"{label:>12}: {value}")
        for step in steps_of(t.id):
            ms = f"{step.duration_ms:.0f} ms" if step.duration_ms is not None else ""
            click.echo(f"{'step':>12}: {step.step:15} {step.status:8} {ms} {step.error or ''}")

    @tenants.command("suspend")
    @click.argument("slug")
    @click.option("--reason", required=True, help="Shown to the tenant's users.")
    def tenants_suspend(slug: str, reason: str) -> None:
        """Suspend a tenant: its next request shows the suspended page with the reason."""
        from services.tenants import get_tenant, suspend_tenant
        tenant = _service(get_tenant, slug)
        _service(suspend_tenant, tenant, reason, audit.CLI)
        db.session.commit()
        click.echo(f"{slug} suspended")

    @tenants.command("resume")
    @click.argument("slug")
    def tenants_resume(slug: str) -> None:
        """Lift a suspension."""
        from services.tenants import get_tenant, resume_tenant
        tenant = _service(get_tenant, slug)
        _service(resume_tenant, tenant, audit.CLI)
        db.session.commit()
        click.echo(f"{slug} is {tenant.status} again")

    @tenants.command("migrate")
    @click.argument("slugs", nargs=-1)
    @click.option("--parallel", type=click.IntRange(1, 32), default=4, show_default=True)
    @click.option("--dry-run", is_flag=True, help="Only say what would be upgraded.")
    def tenants_migrate(slugs: tuple[str, ...], parallel: int, dry_run: bool) -> None:
        """Bring the shared tables, every schema and every database to the latest revision."""
        from tenancy.fleet import migrate_fleet
        from tenancy.resolver import SLUG_RE
        bad = [s for s in slugs if not SLUG_RE.match(s)]
        if bad:
            _fail(f"not a tenant slug: {', '.join(bad[:5])}")
        if slugs:
            known = set(db.session.execute(select(Tenant.slug).where(Tenant.slug.in_(slugs))).scalars())
            missing = sorted(set(slugs) - known)
            if missing:
                _fail(f"no such tenant: {', '.join(missing[:5])}")
        started = time.perf_counter()
        tty = sys.stdout.isatty()

        def progress(done: int, total: int, outcome: Any) -> None:
            line = f"[{done}/{total}] {outcome.label}: {outcome.status}"
            if outcome.status == "upgraded":
                line += f" {outcome.before or 'empty'} → {outcome.after}"
            if outcome.error:
                line += f" — {outcome.error}"
            if tty and outcome.status == "at_head":
                click.echo("\r" + line.ljust(70), nl=False)
            else:
                click.echo(("\r" if tty else "") + line)

        results = migrate_fleet(get_storage(), list(slugs) or None, parallel, dry_run, progress)
        if tty:
            click.echo()
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        seconds = time.perf_counter() - started
        if results and counts.get("at_head", 0) == len(results):
            click.echo(f"nothing to do: all {len(results)} targets already at head ({seconds:.1f} s)")
        else:
            click.echo(", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(counts.items()))
                       + f" ({seconds:.1f} s)")
        if counts.get("failed"):
            sys.exit(1)

    @tenants.command("health")
    @click.option("--json", "as_json", is_flag=True)
    def tenants_health(as_json: bool) -> None:
        """Reach every tenant's storage: reachable, latency, revision against head."""
        from tenancy.fleet import check_health
        storage = get_storage()
        tenants_ = db.session.execute(select(Tenant).where(Tenant.status.not_in(
            ["provisioning", "deleted"])).order_by(Tenant.slug)).scalars().all()
        results = [check_health(storage, t) for t in tenants_]
        db.session.commit()
        if as_json:
            click.echo(json.dumps([r.__dict__ for r in results], indent=2))
        else:
            for r in results:
                state = "ok" if r.ok else "UNREACHABLE"
                lat = f"{r.latency_ms:.1f} ms" if r.latency_ms is not None else "-"
                rev = (r.revision or "-") + ("" if r.at_head else " (behind)")
                click.echo(f"{r.slug:<20} {state:<12} {lat:>9}  {rev}  {r.error or ''}")
        if any(not r.ok for r in results):
            sys.exit(1)


def print_sign_in(password: str, base: str = "") -> None:
    click.echo("\nSign in (password for every account: " + password + "):")
    click.echo(f"  vendor console  {base}/admin/login        admin@tenantry.test")
    for slug in ("acme", "globex", "initech"):
        click.echo(f"  {slug:<14}  {base + '/t/' + slug + '/login':<38} owner@{slug}.test, staff@{slug}.test")


def clean_cli_errors(group: click.Group) -> None:
    """Every command answers an unsafe database role or an unreachable database with its message
    and exit status 1, not a traceback (the message is what the operator needs)."""
    import functools

    from sqlalchemy.exc import OperationalError

    from tenancy.errors import UnsafeDatabaseRole

    def wrap(callback: Any) -> Any:
        @functools.wraps(callback)
        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return callback(*args, **kwargs)
            except UnsafeDatabaseRole as exc:
                _fail(str(exc))
            except OperationalError as exc:
                _fail(f"cannot use the database: {str(exc.orig or exc).strip().splitlines()[0]}")
        return run

    for command in group.commands.values():
        if isinstance(command, click.Group):
            clean_cli_errors(command)
        elif command.callback is not None:
            command.callback = wrap(command.callback)
