"""Fixed-window counters for sign-in attempts, shared by every worker and machine.

Counts live in the database (`rate_limit_hits`), or in Redis when REDIS_URL is set. Each hit is
its own short transaction on purpose: a counter must survive the sign-in request's rollback.
"""
from __future__ import annotations

import time

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from extensions import db
from models.control import RateLimitHit


def _window(window_seconds: int, now: float | None = None) -> int:
    now = time.time() if now is None else now
    return int(now // window_seconds) * window_seconds


def _redis():  # type: ignore[no-untyped-def]
    client = current_app.extensions.get("tenantry_redis")
    if client is None:
        import redis
        client = redis.Redis.from_url(current_app.config["REDIS_URL"])
        current_app.extensions["tenantry_redis"] = client
    return client


def count(key: str, window_seconds: int) -> int:
    start = _window(window_seconds)
    if current_app.config.get("REDIS_URL"):
        value = _redis().get(f"rl:{key}:{start}")
        return int(value or 0)
    with db.engine.connect() as conn:
        value = conn.execute(select(RateLimitHit.count).where(
            RateLimitHit.key == key, RateLimitHit.window_start == start)).scalar()
    return int(value or 0)


def hit(key: str, window_seconds: int) -> int:
    """Record one attempt; returns the count in the current window."""
    start = _window(window_seconds)
    if current_app.config.get("REDIS_URL"):
        pipe = _redis().pipeline()
        name = f"rl:{key}:{start}"
        pipe.incr(name)
        pipe.expire(name, window_seconds * 2)
        return int(pipe.execute()[0])
    dialect = db.engine.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(RateLimitHit).values(key=key, window_start=start, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "window_start"],
                                      set_={"count": RateLimitHit.count + 1})
    with db.engine.begin() as conn:
        conn.execute(stmt)
        # Old windows are useless; dropping them here keeps the table small without a cron job.
        conn.execute(delete(RateLimitHit).where(RateLimitHit.window_start < start - window_seconds))
        return int(conn.execute(select(RateLimitHit.count).where(
            RateLimitHit.key == key, RateLimitHit.window_start == start)).scalar_one())


def over_limit(keys: list[str]) -> bool:
    limit, window = current_app.config["LOGIN_RATE_LIMIT"]
    return any(count(k, window) >= limit for k in keys)


def record_failure(keys: list[str]) -> None:
    _, window = current_app.config["LOGIN_RATE_LIMIT"]
    for k in keys:
        hit(k, window)
