"""screening profiles on resumes, a maintained digest of the stored resume text, and results that keep the
profile they were screened by and name the resume (and its digest), so their reasons are computed and their
evidence read from the cached features when someone reads them

Revision ID: 0008_screening_profiles
Revises: 0007_screening_failures
Create Date: 2026-11-28 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008_screening_profiles"
down_revision = "0007_screening_failures"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")

# PostgreSQL keeps resumes.text_md5 equal to md5(text) on every write, whoever writes (API, sync, key
# rotation), so freshness checks read 32 characters instead of every (sealed, out-of-line) resume text.
_FUNCTION = """
CREATE OR REPLACE FUNCTION hub_resume_text_md5() RETURNS trigger AS $$
BEGIN
    NEW.text_md5 := md5(NEW.text);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""
_TRIGGER = """
CREATE TRIGGER resumes_text_md5 BEFORE INSERT OR UPDATE OF text ON resumes
FOR EACH ROW EXECUTE FUNCTION hub_resume_text_md5()
"""


def upgrade() -> None:
    with op.batch_alter_table("resumes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("profile", _JSON, nullable=True))
        batch_op.add_column(sa.Column("text_md5", sa.String(length=32), nullable=True))
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resume_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("source_digest", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("profile_key", sa.Text(), nullable=True))
        # the unique (run_id, application_id) index serves reads by run; this one only slowed bulk inserts
        batch_op.drop_index(batch_op.f("ix_screening_results_run_id"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_FUNCTION)
        op.execute(_TRIGGER)
        op.execute("UPDATE resumes SET text_md5 = md5(text) WHERE text IS NOT NULL")
        # Cached features are written once per resume and read back in full only to show evidence: LZ4 makes
        # their out-of-line storage several times cheaper to write than the default pglz.
        op.execute("ALTER TABLE resumes ALTER COLUMN features SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE resumes ALTER COLUMN features SET COMPRESSION default")
        op.execute("DROP TRIGGER IF EXISTS resumes_text_md5 ON resumes")
        op.execute("DROP FUNCTION IF EXISTS hub_resume_text_md5()")
    with op.batch_alter_table("screening_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_screening_results_run_id"), ["run_id"], unique=False)
        batch_op.drop_column("profile_key")
        batch_op.drop_column("source_digest")
        batch_op.drop_column("resume_id")
    with op.batch_alter_table("resumes", schema=None) as batch_op:
        batch_op.drop_column("text_md5")
        batch_op.drop_column("profile")
