"""`flask --app app bench …`: build the benchmark data set and measure the performance budget."""
from __future__ import annotations

import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup

from services.errors import ServiceError


_last_line_at = 0.0


def _say(line: str, final: bool) -> None:
    # One rewritten line on a terminal; a whole line every 5 s when logged to a file.
    global _last_line_at
    if sys.stdout.isatty():
        click.echo("\r" + line.ljust(100), nl=final)
    elif final or line.endswith("…") or time.monotonic() - _last_line_at >= 5:
        _last_line_at = time.monotonic()
        click.echo(line)


def register_bench_cli(app: Flask) -> None:
    bench = AppGroup("bench", help="Benchmark data set and the performance budget (PostgreSQL).")
    app.cli.add_command(bench)

    @bench.command("seed")
    @click.option("--scale", type=click.FloatRange(0.0001, 1.0), default=1.0, show_default=True,
                  help="1.0 = 1,000 tenants and 2,000,000 orders (half in 'whale'); 0.01 = 10 and 20,000.")
    def bench_seed(scale: float) -> None:
        """Build the benchmark data set with COPY; a second run reuses what exists."""
        from bench.seed import seed
        try:
            report = seed(scale, _say)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"{report.tenants_created} tenants created, {report.tenants_loaded} loaded "
                   f"({report.orders_loaded:,} orders), {report.tenants_skipped} already loaded; "
                   f"{report.seconds:.1f} s")

    @bench.command("fleet")
    @click.option("--schemas", type=click.IntRange(1, 10_000), default=1_000, show_default=True,
                  help="Schema tenants to have in the database (fleet-0001… are provisioned to reach it).")
    @click.option("--parallel", type=click.IntRange(1, 64), default=4, show_default=True)
    def bench_fleet(schemas: int, parallel: int) -> None:
        """Time `tenants migrate` over a fleet of schema tenants already at head (use a database
        of its own: README, Performance)."""
        from bench.fleet import measure_fleet
        try:
            r = measure_fleet(schemas, parallel, _say)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
        click.echo(f"{r.schemas:,} schema tenants ({r.created:,} provisioned now in {r.provision_s:.1f} s); "
                   f"tenants migrate --parallel {r.parallel}: {r.targets:,} targets, {r.at_head:,} at head, "
                   f"{r.migrate_s:.1f} s (budget 60 s for 1,000 schema tenants)")

    @bench.command("run")
    @click.option("--requests", "n", type=click.IntRange(10, 100_000), default=200, show_default=True,
                  help="Measured requests per page (after warm-up).")
    @click.option("--seconds", type=click.IntRange(1, 300), default=20, show_default=True,
                  help="Length of the gunicorn throughput run.")
    @click.option("--connections", type=click.IntRange(1, 256), default=32, show_default=True)
    @click.option("--out", default="bench/results.json", show_default=True)
    @click.option("--skip-throughput", is_flag=True, help="Leave out the gunicorn run.")
    def bench_run(n: int, seconds: int, connections: int, out: str, skip_throughput: bool) -> None:
        """Measure every budget of DESIGN §6 on the seeded data; print one table, write JSON."""
        from bench.measure import run_bench
        try:
            run_bench(requests=n, seconds=seconds, connections=connections, out=out,
                      throughput=not skip_throughput, say=click.echo)
        except ServiceError as exc:
            raise click.ClickException(exc.message) from None
