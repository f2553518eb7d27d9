"""The audit Actor for the person making the current request."""
from __future__ import annotations

from flask_login import current_user

from services.audit import Actor
from web.auth import client_address


def request_actor() -> Actor:
    from models.control import VendorStaff
    user = current_user
    if not getattr(user, "is_authenticated", False):
        return Actor("anonymous", None, "anonymous", client_address())
    kind = "staff" if isinstance(user, VendorStaff) else "tenant_user"
    return Actor(kind, str(user.id), user.email, client_address())
