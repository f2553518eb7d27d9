"""Two-factor sign-in for vendor staff: TOTP (RFC 6238) with one-time recovery codes.

Recovery codes are random and long, so a SHA-256 of each is enough to store (no bcrypt cost needed);
each works once.
"""
from __future__ import annotations

import hmac
import secrets

import pyotp
import segno

from models.control import VendorStaff
from services import audit
from services.errors import ValidationFailed
from services.tokens import token_hash

ISSUER = "Tenantry"
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def qr_data_uri(secret: str, email: str) -> str:
    """The enrolment QR code as an SVG data URI (allowed by the CSP's img-src data:)."""
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def code_matches(secret: str | None, code: str) -> bool:
    code = "".join((code or "").split())
    if not secret or not code.isdigit() or len(code) != 6:
        return False
    return pyotp.TOTP(secret).verify(code, valid_window=1)  # ±30 s of clock drift


def enable(staff: VendorStaff, secret: str, code: str, actor: audit.Actor) -> list[str]:
    """Turn two-factor on once the person proves their app shows the right code. Returns the
    recovery codes, to be shown exactly once."""
    if not code_matches(secret, code):
        raise ValidationFailed("That code does not match. Check the time on your phone and try the newest code.", "code")
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    staff.totp_secret = secret
    staff.recovery_codes = [token_hash(c) for c in codes]
    audit.record("staff.2fa_enabled", actor, target_type="staff", target_id=staff.id, target_label=staff.email)
    return codes


def disable(staff: VendorStaff, code: str, actor: audit.Actor) -> None:
    if not verify_second_factor(staff, code):
        raise ValidationFailed("Enter a current code (or a recovery code) to turn two-factor off.", "code")
    staff.totp_secret = None
    staff.recovery_codes = None
    staff.auth_version += 1  # other sessions were made with the old factor: end them
    audit.record("staff.2fa_disabled", actor, target_type="staff", target_id=staff.id, target_label=staff.email)


def verify_second_factor(staff: VendorStaff, code: str) -> bool:
    """A current TOTP code, or an unused recovery code (which is then used up)."""
    if code_matches(staff.totp_secret, code):
        return True
    wanted = token_hash((code or "").strip().lower())
    remaining = list(staff.recovery_codes or [])
    for stored in remaining:
        if hmac.compare_digest(stored, wanted):
            remaining.remove(stored)
            staff.recovery_codes = remaining
            return True
    return False
