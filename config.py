"""Settings from the environment.

Nothing here runs at import time: `load_config()` is called by `create_app()`. A bad value stops
start-up with a `ConfigError` naming the variable, so a typo never becomes a silent default.
"""
from __future__ import annotations

import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

ENVIRONMENTS = ("dev", "test", "production")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Variable:
    name: str
    help: str


# Every environment variable the app reads, in one place (the README's table is made from this).
VARIABLES = (
    Variable("TENANTRY_ENV", "dev | test | production (default dev)"),
    Variable("DATABASE_URL", "control-plane database; default sqlite:///instance/tenantry.db"),
    Variable("SECRET_KEY", "signs sessions; required in production, dev keeps one in instance/"),
    Variable("TENANTRY_BASE_DOMAIN", "tenants are also served at <slug>.<this domain>; default localhost"),
    Variable("TEST_DATABASE_URL", "PostgreSQL server the tests create their databases on"),
    Variable("TENANTRY_DEMO_PASSWORD", "password of every demo account (default tenantry-demo)"),
    Variable("REDIS_URL", "when set, sign-in rate-limit counters live in Redis instead of the database"),
    Variable("BCRYPT_ROUNDS", "bcrypt cost (default 12; 4 in tests)"),
    Variable("SESSION_IDLE_MINUTES", "sign out after this long without a request (default 60)"),
    Variable("SESSION_MAX_HOURS", "sign out this long after sign-in whatever happens (default 12)"),
    Variable("TENANT_ENGINE_CACHE", "database-mode tenant engines kept open per worker (default 4)"),
    Variable("TENANTRY_INSTANCE_PATH", "folder for the SQLite database, tenant files, dev secret (default ./instance)"),
    Variable("TENANTRY_DNS_RESOLVER", "DNS server for custom-domain checks, ip or ip:port (default: the system resolver)"),
    Variable("PORT", "port for `make run` (default 5000)"),
    Variable("CHROMIUM_PATH", "browser tests: Chromium binary (default /usr/bin/chromium)"),
)


def _int(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def _database_url(name: str, raw: str) -> str:
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://"):]
    if raw.startswith("postgresql://"):
        raw = "postgresql+psycopg://" + raw[len("postgresql://"):]
    if not (raw.startswith("sqlite:///") or raw.startswith("postgresql+psycopg://")):
        raise ConfigError(f"{name} must be a sqlite:/// or postgresql:// URL, got {raw!r}")
    return raw


def _dns_resolver(env: Mapping[str, str]) -> tuple[str, int] | None:
    """TENANTRY_DNS_RESOLVER as (ip, port): "10.0.0.2", "10.0.0.2:5353", "[2001:db8::1]:53"."""
    raw = (env.get("TENANTRY_DNS_RESOLVER") or "").strip()
    if not raw:
        return None
    host, port = raw, "53"
    if raw.startswith("["):
        host, bracket, rest = raw[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ("53" if bracket and not rest else "")
    elif raw.count(":") == 1:
        host, port = raw.split(":")
    problem = f"TENANTRY_DNS_RESOLVER must be an IP address with an optional port (10.0.0.2:53), got {raw!r}"
    try:
        ipaddress.ip_address(host)
        number = int(port)
    except ValueError:
        raise ConfigError(problem) from None
    if not 1 <= number <= 65535:
        raise ConfigError(problem)
    return host, number


def _secret_key(env: Mapping[str, str], environment: str, instance_path: Path) -> str:
    key = env.get("SECRET_KEY", "")
    if key:
        if len(key) < 32 and environment == "production":
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        return key
    if environment == "production":
        raise ConfigError("SECRET_KEY is required when TENANTRY_ENV=production")
    if environment == "test":
        return "test-secret-key-not-for-production-use"
    # dev: generate once and keep it, so sessions survive restarts.
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_config(instance_path: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Read and validate every setting. Raises ConfigError naming the bad variable."""
    env = os.environ if env is None else env
    environment = env.get("TENANTRY_ENV", "dev") or "dev"
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"TENANTRY_ENV must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")

    default_db = f"sqlite:///{instance_path / 'tenantry.db'}"
    database_url = _database_url("DATABASE_URL", env.get("DATABASE_URL") or default_db)

    base_domain = (env.get("TENANTRY_BASE_DOMAIN") or "localhost").lower()
    if not _DOMAIN.match(base_domain):
        raise ConfigError(f"TENANTRY_BASE_DOMAIN must be a host name like example.com, got {base_domain!r}")

    redis_url = env.get("REDIS_URL") or None
    if redis_url and not redis_url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must be a redis:// URL, got {redis_url!r}")

    production = environment == "production"
    return {
        "TENANTRY_ENV": environment,
        "SECRET_KEY": _secret_key(env, environment, instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TENANTRY_BASE_DOMAIN": base_domain,
        "TENANT_SQLITE_DIR": str(instance_path / "tenants"),
        "TENANT_ENGINE_CACHE": _int(env, "TENANT_ENGINE_CACHE", 4, 1, 64),
        "REDIS_URL": redis_url,
        "DNS_RESOLVER": _dns_resolver(env),
        "DNS_TIMEOUT_SECONDS": 3.0,  # a custom-domain check gives up (with a message) after this
        "BCRYPT_ROUNDS": _int(env, "BCRYPT_ROUNDS", 4 if environment == "test" else 12, 4, 16),
        "SESSION_IDLE_SECONDS": 60 * _int(env, "SESSION_IDLE_MINUTES", 60, 1, 24 * 60),
        "SESSION_MAX_SECONDS": 3600 * _int(env, "SESSION_MAX_HOURS", 12, 1, 24 * 30),
        "DEMO_PASSWORD": env.get("TENANTRY_DEMO_PASSWORD") or "tenantry-demo",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "tenantry_session",
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "WTF_CSRF_SSL_STRICT": production,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "LOGIN_RATE_LIMIT": (10, 300),  # attempts per window (seconds), per account and per address
        "CSV_EXPORT_BATCH": 500,  # rows per keyset query while a CSV export streams
        "TESTING": environment == "test",
    }


def engine_options(url: str) -> dict[str, Any]:
    """Pool settings: bounded so one worker's connection count is known (README: Connections)."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15, "check_same_thread": False}}
    return {
        "pool_size": 5,
        "max_overflow": 0,
        "pool_timeout": 5,
        "pool_pre_ping": False,
        "pool_recycle": 1800,
        "connect_args": {"connect_timeout": 2, "application_name": "tenantry"},
    }
