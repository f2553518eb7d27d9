"""bcrypt password hashing. Passwords over 72 bytes are refused, never silently truncated."""
from __future__ import annotations

import bcrypt

from services.errors import ValidationFailed

MIN_LENGTH = 8
MAX_BYTES = 72


def check_password_rules(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise ValidationFailed(f"Use at least {MIN_LENGTH} characters.", "password")
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValidationFailed(
            f"Passwords can be at most {MAX_BYTES} bytes (bcrypt's limit); use a shorter one.",
            "password")


def hash_password(password: str, rounds: int) -> str:
    check_password_rules(password)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


# A real hash to compare against when the account does not exist, so sign-in takes the same time
# whether or not the email is known.
_DUMMY = bcrypt.hashpw(b"not-a-real-password", bcrypt.gensalt(4)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, (password_hash or _DUMMY).encode("ascii")) and bool(password_hash)
    except ValueError:
        return False
