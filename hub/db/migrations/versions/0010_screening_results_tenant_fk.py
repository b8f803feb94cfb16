"""screening results: no foreign key to tenants (the run's cascades already; a per-row check slowed large runs)

Revision ID: 0010_screening_results_tenant_fk
Revises: 0009_write_back_refusals
Create Date: 2026-11-26 14:20:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0010_screening_results_tenant_fk"
down_revision = "0009_write_back_refusals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.drop_constraint("fk_screening_results_tenant_id_tenants", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_screening_results_tenant_id_tenants", "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
        )
