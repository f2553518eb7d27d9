"""Domain errors of the tenancy layer; the web layer maps them onto pages."""
from __future__ import annotations


class TenancyError(Exception):
    """Base class."""


class NoTenantContext(TenancyError):
    """Tenant-owned data was touched outside `tenant_context(...)`."""


class CrossTenantWrite(TenancyError):
    """An object of one tenant was written inside another tenant's context."""


class TenantStorageUnavailable(TenancyError):
    """The tenant's database or schema cannot be reached right now."""

    def __init__(self, slug: str, detail: str) -> None:
        super().__init__(f"storage of tenant {slug!r} is unavailable: {detail}")
        self.slug = slug
        self.detail = detail


class UnsupportedIsolation(TenancyError):
    """The isolation mode cannot run on this database backend (schema mode on SQLite)."""


class UnsafeDatabaseRole(TenancyError):
    """The application's PostgreSQL role would bypass row-level security."""
