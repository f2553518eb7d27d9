"""A bad setting stops start-up with a message naming the variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from config import ConfigError, load_config


@pytest.mark.parametrize("env, variable", [
    ({"TENANTRY_ENV": "staging"}, "TENANTRY_ENV"),
    ({"TENANTRY_ENV": "production"}, "SECRET_KEY"),
    ({"TENANTRY_ENV": "production", "SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"TENANTRY_BASE_DOMAIN": "not a domain"}, "TENANTRY_BASE_DOMAIN"),
    ({"REDIS_URL": "http://x"}, "REDIS_URL"),
    ({"BCRYPT_ROUNDS": "lots"}, "BCRYPT_ROUNDS"),
    ({"BCRYPT_ROUNDS": "40"}, "BCRYPT_ROUNDS"),
    ({"SESSION_IDLE_MINUTES": "-1"}, "SESSION_IDLE_MINUTES"),
])
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_config(tmp_path, env)


def test_dev_keeps_one_generated_secret_key(tmp_path: Path) -> None:
    first = load_config(tmp_path, {"TENANTRY_ENV": "dev"})["SECRET_KEY"]
    assert len(first) >= 32
    assert load_config(tmp_path, {"TENANTRY_ENV": "dev"})["SECRET_KEY"] == first


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    cfg = load_config(tmp_path, {"TENANTRY_ENV": "production", "SECRET_KEY": "x" * 40,
                                 "DATABASE_URL": "postgres://u@h/db"})
    assert cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
