"""screening runs record chunks that failed for good: how many applications, which chunks, the error code

Revision ID: 0007_screening_failures
Revises: 0005
Create Date: 2026-11-28 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007_screening_failures"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("screening_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("failed_chunks", _JSON, nullable=True))
        batch_op.add_column(sa.Column("error", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("screening_runs", schema=None) as batch_op:
        batch_op.drop_column("error")
        batch_op.drop_column("failed_chunks")
        batch_op.drop_column("failed")
