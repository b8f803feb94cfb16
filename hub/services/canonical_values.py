"""From a canonical record (``schema.records``) to the hub's columns: one table per model.

Each model says which table it lands in, which columns the upstream owns (sync overwrites only these;
hub-owned columns such as a job's requirements, rubric and automation, or an approval's subject, are never
touched), and which references to other records it carries as remote ids (resolved to hub ids by the
upsert, `hub.services.upsert`). Personal columns are returned in clear here; the upsert seals them per
the tenant's policy (``hub.services.store.PERSONAL_FIELDS``).

``interview_stage`` has no table: a stage becomes its job's ``stages`` list (ordered by the upstream's
``stage_order``), and its provenance link points at the job.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hub.db import models as m
from schema.records import (
    ApplicationRecord,
    ApprovalRecord,
    CandidateRecord,
    CanonicalRecord,
    InterviewRecord,
    InterviewSessionRecord,
    InterviewStageRecord,
    JobRecord,
    ResumeRecord,
)

__all__ = [
    "ENTITY_OF",
    "INSERT_DEFAULTS",
    "INSERT_ONLY",
    "MODEL_ORDER",
    "TABLES",
    "Reference",
    "references",
    "stage_label",
    "values_of",
]

#: Canonical model -> hub entity (as in events, remote links and the store).
ENTITY_OF: dict[str, str] = {
    "candidate": "candidate",
    "job": "job",
    "application": "application",
    "resume": "resume",
    "interview": "interview",
    "interview_session": "interview_session",
    "approval": "approval",
    "interview_stage": "interview_stage",
}

#: The order a connection's models sync in, so references resolve (jobs and candidates before their
#: applications, applications before their interviews and sessions).
MODEL_ORDER: tuple[str, ...] = (
    "job",
    "interview_stage",
    "candidate",
    "application",
    "resume",
    "interview",
    "approval",
    "interview_session",
)

#: Hub entity -> table (interview stages live on their job).
TABLES: dict[str, Any] = {
    "candidate": m.Candidate,
    "job": m.Job,
    "application": m.Application,
    "resume": m.Resume,
    "interview": m.Interview,
    "interview_session": m.InterviewSession,
    "approval": m.ApprovalInstance,
}


@dataclass(frozen=True, slots=True)
class Reference:
    """A column holding another record's hub id, known upstream by ``remote_id``."""

    column: str
    entity: str
    remote_id: str | None
    required: bool


def _value(x: Any) -> Any:
    return getattr(x, "value", x)


def references(record: CanonicalRecord) -> list[Reference]:
    if isinstance(record, ApplicationRecord):
        return [
            Reference("candidate_id", "candidate", record.candidate_remote_id, True),
            Reference("job_id", "job", record.job_remote_id, True),
        ]
    if isinstance(record, ResumeRecord):
        return [Reference("candidate_id", "candidate", record.candidate_remote_id, True)]
    if isinstance(record, InterviewRecord):
        return [Reference("application_id", "application", record.application_remote_id, True)]
    if isinstance(record, InterviewSessionRecord):
        return [
            Reference("candidate_id", "candidate", record.candidate_remote_id, False),
            Reference("application_id", "application", record.application_remote_id, False),
        ]
    if isinstance(record, InterviewStageRecord):
        return [Reference("job_id", "job", record.job_remote_id, True)]
    return []


def stage_label(record: ApplicationRecord | InterviewStageRecord, names: Mapping[str, str]) -> str | None:
    """The name a stage goes by in the hub: the upstream's display name (the Chinese ``stageName`` of a
    Chinese ATS) when it gives one, else the stage's name; ``names`` maps stage remote ids to names."""
    custom = record.custom_fields.get("stage_name")
    if isinstance(custom, str) and custom:
        return custom
    if isinstance(record, InterviewStageRecord):
        return record.name
    if record.current_stage is None:
        return None
    return names.get(record.current_stage, record.current_stage)


def values_of(record: CanonicalRecord, *, stage_names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The upstream-owned columns of ``record`` (references excluded; personal values in clear)."""
    if isinstance(record, CandidateRecord):
        return {
            "first_name": record.first_name,
            "last_name": record.last_name,
            "company": record.company,
            "title": record.title,
            "emails": [c.value for c in record.emails],
            "phones": [c.value for c in record.phones],
            "national_id": record.national_id,
            "locations": list(record.locations),
            "expected_salary": record.expected_salary,
            "tags": list(record.tags),
            # Consent the hub recorded itself is kept when the upstream knows none.
            **({"consent": [_consent(c, "hr") for c in record.consent]} if record.consent else {}),
        }
    if isinstance(record, JobRecord):
        return {
            "title": record.title,
            "code": record.code,
            "description": record.description,
            "language": record.language,
            "department": record.department,
            "status": _value(record.status),
            "mode": record.mode,
        }
    if isinstance(record, ApplicationRecord):
        values: dict[str, Any] = {
            "stage": (stage_label(record, stage_names or {}) or "APPLIED")[:200],
            "source": record.source,
            "applied_at": record.applied_at,
            "rejected_at": record.rejected_at,
        }
        if record.rejected_at is not None:
            values["outcome"] = "REJECTED"
        return values
    if isinstance(record, ResumeRecord):
        return {"file_name": record.file_name, "text": record.text, "language": record.language}
    if isinstance(record, InterviewRecord):
        return {
            "interviewers": list(record.interviewers),
            "start_at": record.start_at,
            "end_at": record.end_at,
            "location": (record.location or None) and record.location[:500],
            "status": record.status[:30],
        }
    if isinstance(record, InterviewSessionRecord):
        answers = [a.model_dump(mode="json") for a in record.answers]
        return {
            "status": _value(record.status),
            "channel": record.channel,
            "package_id": record.package_id,
            "consent": [_consent(c, "mobile") for c in record.consent],
            "questions": [{"question_id": a.question_id, "question": a.question} for a in record.answers],
            "answers": json.dumps(answers, ensure_ascii=False) if answers else None,
            "started_at": record.started_at,
            "submitted_at": record.submitted_at,
        }
    if isinstance(record, ApprovalRecord):
        return {
            "definition_code": record.definition_code[:200],
            "title": record.title and record.title[:500],
            "status": _value(record.status),
            "form": dict(record.form),
            "tasks": [t.model_dump(mode="json") for t in record.tasks],
            "finished_at": record.finished_at,
        }
    raise ValueError(f"no table for model {record.model_name!r}")


def _consent(value: Any, source: str) -> dict[str, Any]:
    return {
        "purpose": value.purpose,
        "granted": value.granted,
        "granted_at": value.granted_at.isoformat() if value.granted_at else None,
        "source": source,
    }


#: Columns written when the sync creates a row but left alone afterwards (the hub may have enriched them:
#: an interview's questions get rubric dimension tags).
INSERT_ONLY: dict[str, frozenset[str]] = {"interview_session": frozenset({"questions"})}

#: Defaults of NOT NULL columns the upstream does not own, for rows the sync creates.
INSERT_DEFAULTS: dict[str, dict[str, Any]] = {
    "job": {"requirements": {}, "stages": [], "automation": []},
    "application": {"outcome": "ACTIVE", "stage_count": 0},
    "interview": {"round": 1, "mode": "ONSITE"},
    "interview_session": {},
    "approval": {"timeline": []},
    "candidate": {},
    "resume": {},
}
