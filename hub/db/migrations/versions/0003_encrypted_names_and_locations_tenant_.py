"""encrypted names and locations, tenant index key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:38:00.155110
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Names and locations hold ciphertext tokens when the tenant's policy encrypts them.
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.alter_column("first_name", existing_type=sa.String(length=200), type_=sa.String())
        batch_op.alter_column("last_name", existing_type=sa.String(length=200), type_=sa.String())
        batch_op.alter_column(
            "locations", existing_type=sa.JSON(), type_=sa.String(), nullable=True, postgresql_using="locations::text"
        )
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("index_key", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("index_key")
    with op.batch_alter_table("candidates", schema=None) as batch_op:
        batch_op.alter_column(
            "locations", existing_type=sa.String(), type_=sa.JSON(), nullable=False, postgresql_using="locations::json"
        )
        batch_op.alter_column("last_name", existing_type=sa.String(), type_=sa.String(length=200))
        batch_op.alter_column("first_name", existing_type=sa.String(), type_=sa.String(length=200))
