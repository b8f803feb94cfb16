"""workflow cursors

Revision ID: 0006
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0006"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflow_cursors",
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.Column("updated_at", hub.db.base.UTCDateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_workflow_cursors_tenant_id_tenants"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workflow_cursors")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_workflow_cursors_tenant_id")),
    )
    op.create_index(op.f("ix_workflow_cursors_tenant_id"), "workflow_cursors", ["tenant_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_workflow_cursors_tenant_id"), table_name="workflow_cursors")
    op.drop_table("workflow_cursors")
