"""screening results record the HR system's refusal: a result refused for good is not offered again

Revision ID: 0009_write_back_refusals
Revises: 0008_screening_profiles
Create Date: 2026-11-26 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_write_back_refusals"
down_revision = "0008_screening_profiles"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("write_back_error", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.drop_column("write_back_error")
