"""Models: `control` (main database) and `tenant` (a tenant's storage, any isolation mode)."""
from models.control import (AuditEvent, CustomDomain, FeatureFlag, FlagOverride, Isolation,  # noqa: F401
                            Plan, ProvisioningStep, RateLimitHit, Tenant, TenantStatus, VendorStaff)
from models.tenant import (Counter, Customer, DailyStat, Order, OrderEvent, OrderItem,  # noqa: F401
                           TenantModel, TenantUser)
