"""engines: screening decisions with notes, outline and evaluation details, one evaluation per rubric version

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-27 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_note", sa.String(), nullable=True))
        # application.screeningResults reads by application
        batch_op.create_index(batch_op.f("ix_screening_results_application_id"), ["application_id"], unique=False)

    with op.batch_alter_table("interview_outlines", schema=None) as batch_op:
        batch_op.add_column(sa.Column("candidate_type", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("rubric_version", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("missing_must_have", _JSON, nullable=True))

    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.alter_column("engine_version", existing_type=sa.String(length=60), type_=sa.String(length=120))
        batch_op.add_column(sa.Column("rubric_version", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("coverage", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("missing_must_have", _JSON, nullable=True))
        # An interview session is scored at most once per rubric version, whatever retries happen.
        batch_op.create_unique_constraint(
            batch_op.f("uq_evaluations_session_id_rubric_version"), ["session_id", "rubric_version"]
        )


def downgrade() -> None:
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_evaluations_session_id_rubric_version"), type_="unique")
        batch_op.drop_column("missing_must_have")
        batch_op.drop_column("coverage")
        batch_op.drop_column("rubric_version")
        batch_op.alter_column("engine_version", existing_type=sa.String(length=120), type_=sa.String(length=60))

    with op.batch_alter_table("interview_outlines", schema=None) as batch_op:
        batch_op.drop_column("missing_must_have")
        batch_op.drop_column("rubric_version")
        batch_op.drop_column("language")
        batch_op.drop_column("candidate_type")

    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screening_results_application_id"))
        batch_op.drop_column("decision_note")
