"""Tenant data: users, customers, orders, items, events, daily rollup, counters.

Applied to every target (shared tables, each schema, each database). On PostgreSQL every table
gets FORCE ROW LEVEL SECURITY keyed on the per-transaction setting app.tenant_id (no setting =
no rows), and trigram indexes (leading with tenant_id, via btree_gin) for "contains" search.

Revision ID: 0001_tenant
Revises:
Create Date: 2026-11-23
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0001_tenant"
down_revision: Union[str, None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("counters", "customers", "daily_stats", "tenant_users", "orders", "order_items",
          "order_events")
CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
SEARCH_INDEXES = (
    ("ix_orders_search_name", "orders", "customer_name"),
    ("ix_orders_search_email", "orders", "customer_email"),
    ("ix_customers_search_name", "customers", "name"),
    ("ix_customers_search_email", "customers", "email"),
)


def upgrade() -> None:
    op.create_table('counters',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=24), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'name', name=op.f('pk_counters'))
    )
    op.create_table('customers',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('orders_count', sa.Integer(), nullable=False),
    sa.Column('total_spent', sa.BigInteger(), nullable=False),
    sa.Column('last_order_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_customers')),
    sa.UniqueConstraint('tenant_id', 'email', name=op.f('uq_customers_tenant_id_email'))
    )
    op.create_index('ix_customers_orders', 'customers', ['tenant_id', 'orders_count', 'id'], unique=False)
    op.create_index('ix_customers_recent', 'customers', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_customers_spent', 'customers', ['tenant_id', 'total_spent', 'id'], unique=False)
    op.create_table('daily_stats',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('dim', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=16), nullable=False),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('paid_orders', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('refunds', sa.BigInteger(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'dim', 'key', name=op.f('pk_daily_stats'))
    )
    op.create_table('tenant_users',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('password_hash', sa.String(length=80), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('auth_version', sa.Integer(), nullable=False),
    sa.Column('set_password_token_hash', sa.String(length=64), nullable=True),
    sa.Column('set_password_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_tenant_users')),
    sa.UniqueConstraint('tenant_id', 'email', name=op.f('uq_tenant_users_tenant_id_email'))
    )
    op.create_table('orders',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.BigInteger(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('customer_name', sa.String(length=120), nullable=False),
    sa.Column('customer_email', sa.String(length=254), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('subtotal', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('tax', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.BigInteger(), nullable=False),
    sa.Column('payment_method', sa.String(length=16), nullable=False),
    sa.Column('payment_status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'customer_id'], ['customers.tenant_id', 'customers.id'], name=op.f('fk_orders_tenant_id_customer_id_customers')),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_orders')),
    sa.UniqueConstraint('tenant_id', 'number', name=op.f('uq_orders_tenant_id_number'))
    )
    op.create_index('ix_orders_customer', 'orders', ['tenant_id', 'customer_id', 'created_at'], unique=False)
    op.create_index('ix_orders_recent', 'orders', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_orders_status_recent', 'orders', ['tenant_id', 'payment_status', 'created_at', 'id'], unique=False)
    op.create_index('ix_orders_total', 'orders', ['tenant_id', 'total', 'id'], unique=False)
    op.create_table('order_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=12), nullable=True),
    sa.Column('to_status', sa.String(length=12), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('actor_label', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['orders.tenant_id', 'orders.id'], name=op.f('fk_order_events_tenant_id_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_order_events'))
    )
    op.create_index('ix_order_events_order', 'order_events', ['tenant_id', 'order_id', 'at'], unique=False)
    op.create_table('order_items',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('order_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('line_total', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'order_id'], ['orders.tenant_id', 'orders.id'], name=op.f('fk_order_items_tenant_id_order_id_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_order_items'))
    )
    op.create_index('ix_order_items_order', 'order_items', ['tenant_id', 'order_id', 'position'], unique=False)
    if op.get_bind().dialect.name != "postgresql":
        return
    # Trusted extensions: the database owner (our non-superuser role) may create them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin SCHEMA public")
    for name, table, column in SEARCH_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} USING gin (tenant_id, {column} public.gin_trgm_ops)")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} "
                   f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        for name, _table, _column in SEARCH_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index('ix_order_items_order', table_name='order_items')
    op.drop_table('order_items')
    op.drop_index('ix_order_events_order', table_name='order_events')
    op.drop_table('order_events')
    op.drop_index('ix_orders_total', table_name='orders')
    op.drop_index('ix_orders_status_recent', table_name='orders')
    op.drop_index('ix_orders_recent', table_name='orders')
    op.drop_index('ix_orders_customer', table_name='orders')
    op.drop_table('orders')
    op.drop_table('tenant_users')
    op.drop_table('daily_stats')
    op.drop_index('ix_customers_spent', table_name='customers')
    op.drop_index('ix_customers_recent', table_name='customers')
    op.drop_index('ix_customers_orders', table_name='customers')
    op.drop_table('customers')
    op.drop_table('counters')
