"""Subscriptions on tenants: billing interval, subscription status, current period end.

Existing rows get the values `services.tenants` would have given them: trialing (period end = trial
end) while a trial runs, active otherwise (period end one month after sign-up), cancelled once
churned or deleted (period end unknown, left empty).

Revision ID: 0003_subscriptions
Revises: 0002_flags
Create Date: 2026-11-24
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0003_subscriptions"
down_revision: Union[str, None] = "0002_flags"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

BACKFILL = """
UPDATE tenants SET
  subscription_status = CASE
    WHEN status IN ('churned', 'deleted') THEN 'cancelled'
    WHEN trial_ends_at IS NOT NULL AND status IN ('trial', 'provisioning', 'provisioning_failed',
                                                  'suspended') AND trial_ends_at > {now}
      THEN 'trialing'
    WHEN status = 'trial' THEN 'trialing'
    ELSE 'active' END,
  current_period_end = CASE
    WHEN status IN ('churned', 'deleted') THEN NULL
    WHEN trial_ends_at IS NOT NULL AND status IN ('trial', 'provisioning', 'provisioning_failed',
                                                  'suspended') AND trial_ends_at > {now}
      THEN trial_ends_at
    WHEN status = 'trial' THEN trial_ends_at
    ELSE {month_after_signup} END
"""


def upgrade() -> None:
    op.add_column("tenants", sa.Column("billing_interval", sa.String(length=8), nullable=False,
                                       server_default="month"))
    op.add_column("tenants", sa.Column("subscription_status", sa.String(length=12), nullable=False,
                                       server_default="trialing"))
    op.add_column("tenants", sa.Column("current_period_end", sa.DateTime(timezone=True),
                                       nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(BACKFILL.format(now="now()", month_after_signup="created_at + interval '1 month'"))
    else:  # SQLite keeps UTC as naive 'YYYY-MM-DD HH:MM:SS[.ffffff]' text (models.types.UTCDateTime)
        op.execute(BACKFILL.format(
            now="strftime('%Y-%m-%d %H:%M:%S.000000', 'now')",
            month_after_signup="strftime('%Y-%m-%d %H:%M:%S.000000', created_at, '+1 month')"))


def downgrade() -> None:
    op.drop_column("tenants", "current_period_end")
    op.drop_column("tenants", "subscription_status")
    op.drop_column("tenants", "billing_interval")
