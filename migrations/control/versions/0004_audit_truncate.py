"""The audit trail refuses TRUNCATE too (0001 refuses UPDATE and DELETE row by row; TRUNCATE
fires no row triggers, so it needs a statement trigger of its own). PostgreSQL only.

Revision ID: 0004_audit_truncate
Revises: 0003_subscriptions
Create Date: 2026-11-23
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0004_audit_truncate"
down_revision: Union[str, None] = "0003_subscriptions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # The function from 0001 raises for any operation; reuse it.
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
