"""Tenant-owned data outside a tenant context raises; it never returns "all rows"."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from extensions import db
from models.tenant import Customer, Order
from tenancy.context import tenant_db
from tenancy.errors import NoTenantContext
from tests.factories import make_order, make_tenant


def test_query_with_the_control_plane_session_raises(app, backend):
    make_order(make_tenant())
    with pytest.raises(NoTenantContext):
        db.session.execute(select(Order)).all()
    with pytest.raises(NoTenantContext):
        db.session.execute(select(func.count()).select_from(Customer)).scalar()
    with pytest.raises(NoTenantContext):
        db.session.execute(update(Order).values(total=0))


def test_writing_a_tenant_model_without_context_raises(app, backend):
    tenant = make_tenant()
    db.session.add(Customer(tenant_id=tenant.id, name="Nobody"))
    with pytest.raises(NoTenantContext):
        db.session.flush()
    db.session.rollback()


def test_tenant_db_outside_context_raises(app, backend):
    with pytest.raises(NoTenantContext):
        tenant_db()


def test_unscoped_select_from_a_tenant_table_is_refused_inside_a_context(app, backend):
    from tenancy.context import tenant_context
    a, b = make_tenant(), make_tenant()
    make_order(a)
    make_order(b)
    with tenant_context(a) as ctx:
        with pytest.raises(NoTenantContext, match="select a column"):
            ctx.session.execute(select(func.count()).select_from(Customer)).scalar()
        assert ctx.session.execute(select(func.count(Customer.id))).scalar() == 1


def test_capped_count_counts_only_this_tenant_and_stops_at_the_cap(app, backend):
    from tenancy.context import capped_count, tenant_context
    a, b = make_tenant(), make_tenant()
    for _ in range(3):
        make_order(a)
    for _ in range(5):
        make_order(b)
    with tenant_context(a) as ctx:
        assert capped_count(ctx.session, select(Order.id), cap=100) == 3
        assert capped_count(ctx.session, select(Order.id), cap=1) == 2  # "1+": stopped at cap + 1
        assert capped_count(ctx.session, select(Order.id).where(Order.total > 10**9), cap=100) == 0
    with pytest.raises(NoTenantContext):
        capped_count(db.session, select(Order.id), cap=10)
