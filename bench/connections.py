"""Child process for `make bench`: behave like one worker that has served every database-mode
tenant (and the shared and schema ones), then hold still while the parent counts this process's
PostgreSQL connections in pg_stat_activity. Prints "ready <tenants touched>", waits for a line on
stdin, exits. A separate process, so the parent's own pools cannot blur the count."""
from __future__ import annotations

import sys

from sqlalchemy import func, select


def main() -> None:
    from app import create_app
    from bench.seed import iter_bench_tenants
    from models.tenant import Counter
    from tenancy.context import tenant_context

    app = create_app()
    with app.app_context():
        tenants = [t for t in iter_bench_tenants() if t.isolation == "database"]
        tenants += [t for t in iter_bench_tenants() if t.isolation != "database"][:20]
        for tenant in tenants:
            with tenant_context(tenant) as ctx:
                ctx.session.execute(select(func.count(Counter.name))).scalar()
        print(f"ready {len(tenants)}", flush=True)
        sys.stdin.readline()


if __name__ == "__main__":
    main()
