"""One-time link tokens: the raw token goes in the link, only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import hmac
import secrets


def new_token() -> tuple[str, str]:
    raw = secrets.token_urlsafe(32)
    return raw, token_hash(raw)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def token_matches(raw: str, stored_hash: str | None) -> bool:
    return bool(stored_hash) and hmac.compare_digest(token_hash(raw), stored_hash or "")
