"""tenants.session_version: suspending or closing a tenant ends every session of its users
(DESIGN §7); each session remembers the version it was signed in under.

Revision ID: 0005_session_version
Revises: 0004_audit_truncate
Create Date: 2026-11-23
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0005_session_version"
down_revision: Union[str, None] = "0004_audit_truncate"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("session_version", sa.Integer(), nullable=False,
                                       server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("tenants") as batch:
        batch.drop_column("session_version")
