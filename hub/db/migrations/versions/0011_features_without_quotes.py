"""cached resume features keep evidence offsets only: the quotes of the (sealed) resume text are removed

Revision ID: 0011_features_without_quotes
Revises: 0010_screening_results_tenant_fk
Create Date: 2026-11-26 14:40:00.000000
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0011_features_without_quotes"
down_revision = "0010_screening_results_tenant_fk"
branch_labels = None
depends_on = None

# Every evidence object of a feature set loses its "text": the skills' mentions, the years' and the
# education's. Array order is kept (skill_index points into skills by position).
_STRIP = """
UPDATE resumes SET features = jsonb_set(jsonb_set(jsonb_set(features,
    '{skills}', coalesce((SELECT jsonb_agg(s #- '{evidence,text}' ORDER BY o)
                          FROM jsonb_array_elements(features->'skills') WITH ORDINALITY AS t(s, o)), '[]'::jsonb)),
    '{years_evidence}', coalesce((SELECT jsonb_agg(e - 'text' ORDER BY o)
                                  FROM jsonb_array_elements(features->'years_evidence') WITH ORDINALITY AS t(e, o)),
                                 '[]'::jsonb)),
    '{education_evidence}', CASE WHEN jsonb_typeof(features->'education_evidence') = 'object'
                                 THEN (features->'education_evidence') - 'text' ELSE 'null'::jsonb END)
WHERE features IS NOT NULL AND jsonb_typeof(features->'skills') = 'array'
"""


def _strip(features: dict[str, Any]) -> dict[str, Any]:
    # engines.evidence.without_quotes as it is today: a migration keeps its own copy, so it does not change
    # when the engine does.
    def offsets(e: dict[str, Any]) -> dict[str, Any]:
        return {"start": e["start"], "end": e["end"]}

    out = dict(features)
    out["skills"] = [{**m, "evidence": offsets(m["evidence"])} for m in out.get("skills") or ()]
    out["years_evidence"] = [offsets(e) for e in out.get("years_evidence") or ()]
    if out.get("education_evidence") is not None:
        out["education_evidence"] = offsets(out["education_evidence"])
    return out


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(_STRIP)
        return
    rows = bind.execute(sa.text("SELECT id, features FROM resumes WHERE features IS NOT NULL")).all()
    for row_id, features in rows:
        value = json.loads(features) if isinstance(features, str) else features
        bind.execute(
            sa.text("UPDATE resumes SET features = :f WHERE id = :i"), {"f": json.dumps(_strip(value)), "i": row_id}
        )


def downgrade() -> None:
    # The quotes cannot be put back without opening every resume; the engine re-extracts what it needs.
    op.execute("UPDATE resumes SET features = NULL, features_version = NULL, profile = NULL")
