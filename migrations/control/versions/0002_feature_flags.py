"""Feature flags: the registry and per-tenant overrides, seeded with the flags that gate portal
features (csv_export, advanced_stats, team_members).

Revision ID: 0002_flags
Revises: 0001_control
Create Date: 2026-11-23
"""
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0002_flags"
down_revision: Union[str, None] = "0001_control"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SEED = [
    ("csv_export", "Export the orders and customers lists as CSV."),
    ("advanced_stats", "Stats broken down by channel and payment method."),
    ("team_members", "Owners invite staff and manage the team."),
]


def upgrade() -> None:
    flags = op.create_table(
        "feature_flags",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("default", sa.Boolean(), nullable=False),
        sa.Column("rollout_percent", sa.Integer(), nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_feature_flags")),
        sa.CheckConstraint("rollout_percent BETWEEN 0 AND 100", name=op.f("ck_feature_flags_rollout_range")),
    )
    op.create_table(
        "flag_overrides",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("flag_key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["flag_key"], ["feature_flags.key"], name=op.f("fk_flag_overrides_flag_key_feature_flags"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_flag_overrides_tenant_id_tenants"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "flag_key", name=op.f("pk_flag_overrides")),
    )
    op.create_index("ix_flag_overrides_flag", "flag_overrides", ["flag_key", "tenant_id"], unique=False)
    now = datetime.now(timezone.utc)
    op.bulk_insert(flags, [{"key": k, "description": d, "default": False, "rollout_percent": 0,
                            "archived": False, "version": 1, "created_at": now, "updated_at": now}
                           for k, d in SEED])


def downgrade() -> None:
    op.drop_index("ix_flag_overrides_flag", table_name="flag_overrides")
    op.drop_table("flag_overrides")
    op.drop_table("feature_flags")
