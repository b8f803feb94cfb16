"""Canonical records: the contract every connector normalizes into.

A connector turns one upstream payload into one of these records. The hub's store
keeps them (encrypting personal fields per policy) and the GraphQL layer shows them.
References between records travel as *remote ids* of the same connection
(``candidate_remote_id``); the hub resolves them to hub ids when it upserts.

Example:
    >>> CandidateRecord(remote_id="21198", first_name="伟", last_name="张",
    ...                 emails=[ContactValue(value="wei.zhang@example.com", kind="PERSONAL")])
    CandidateRecord(remote_id='21198', ...)

Records are immutable pydantic models; ``model_dump(mode="json")`` gives their
JSON form, and ``RECORD_TYPES`` maps a model name (as used in manifests and sync
states) to its class.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "RECORD_TYPES",
    "AnswerRecord",
    "ApplicationRecord",
    "ApprovalRecord",
    "ApprovalStatus",
    "ApprovalTask",
    "CandidateRecord",
    "CanonicalRecord",
    "ConsentValue",
    "ContactValue",
    "InterviewRecord",
    "InterviewSessionRecord",
    "InterviewStageRecord",
    "JobRecord",
    "JobStatus",
    "ResumeRecord",
    "SessionStatus",
]


class JobStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    DRAFT = "DRAFT"
    ARCHIVED = "ARCHIVED"
    PENDING = "PENDING"


class ApprovalStatus(StrEnum):
    """Canonical approval status; each OA dialect maps onto these (see dialects.md)."""

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELED = "CANCELED"
    REVERTED = "REVERTED"
    DELETED = "DELETED"
    EXPIRED = "EXPIRED"


class SessionStatus(StrEnum):
    INVITED = "INVITED"
    STARTED = "STARTED"
    SUBMITTED = "SUBMITTED"
    SCORING = "SCORING"
    COMPLETED = "COMPLETED"
    EXPIRED = "EXPIRED"
    CANCELED = "CANCELED"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class ContactValue(_Record):
    value: str = Field(min_length=1, max_length=320)
    kind: str | None = None  # MOBILE, WORK, PERSONAL ... as the upstream says


class ConsentValue(_Record):
    purpose: str = "ai_scoring"
    granted: bool
    granted_at: datetime | None = None


class CanonicalRecord(_Record):
    """Fields every record shares: identity and freshness in the upstream system."""

    model_name: ClassVar[str] = ""

    remote_id: str = Field(min_length=1, max_length=255)
    remote_url: str | None = None
    remote_created_at: datetime | None = None
    remote_updated_at: datetime | None = None
    remote_deleted: bool = False
    custom_fields: dict[str, Any] = Field(default_factory=dict)


class CandidateRecord(CanonicalRecord):
    model_name: ClassVar[str] = "candidate"

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    company: str | None = Field(default=None, max_length=300)
    title: str | None = Field(default=None, max_length=300)
    emails: list[ContactValue] = Field(default_factory=list)
    phones: list[ContactValue] = Field(default_factory=list)
    national_id: str | None = Field(default=None, max_length=64)
    locations: list[str] = Field(default_factory=list)
    expected_salary: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list)
    consent: list[ConsentValue] = Field(default_factory=list)


class JobRecord(CanonicalRecord):
    model_name: ClassVar[str] = "job"

    title: str = Field(min_length=1, max_length=300)
    code: str | None = Field(default=None, max_length=100)
    description: str | None = None
    status: JobStatus = JobStatus.OPEN
    language: str | None = Field(default=None, max_length=10)
    department: str | None = Field(default=None, max_length=200)
    mode: str | None = Field(default=None, max_length=20)  # social / campus (Chinese ATS)


class InterviewStageRecord(CanonicalRecord):
    model_name: ClassVar[str] = "interview_stage"

    name: str = Field(min_length=1, max_length=200)
    job_remote_id: str | None = None
    order: int | None = None


class ApplicationRecord(CanonicalRecord):
    model_name: ClassVar[str] = "application"

    candidate_remote_id: str
    job_remote_id: str
    applied_at: datetime | None = None
    rejected_at: datetime | None = None
    current_stage: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=200)
    reject_reason: str | None = Field(default=None, max_length=500)


class ResumeRecord(CanonicalRecord):
    model_name: ClassVar[str] = "resume"

    candidate_remote_id: str
    file_name: str | None = Field(default=None, max_length=500)
    file_url: str | None = None
    text: str | None = None
    language: str | None = Field(default=None, max_length=10)


class InterviewRecord(CanonicalRecord):
    model_name: ClassVar[str] = "interview"

    application_remote_id: str | None = None
    stage_name: str | None = None
    organizer: str | None = None
    interviewers: list[str] = Field(default_factory=list)
    location: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    status: str = "SCHEDULED"  # SCHEDULED, AWAITING_FEEDBACK, COMPLETE, CANCELED


class ApprovalTask(_Record):
    task_id: str | None = None
    approver: str | None = None
    status: str
    comment: str | None = None
    finished_at: datetime | None = None


class ApprovalRecord(CanonicalRecord):
    model_name: ClassVar[str] = "approval"

    definition_code: str
    title: str | None = None
    status: ApprovalStatus
    originator: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    form: dict[str, Any] = Field(default_factory=dict)
    tasks: list[ApprovalTask] = Field(default_factory=list)


class AnswerRecord(_Record):
    question_id: str
    question: str | None = None
    transcript: str = ""
    duration_ms: int | None = None


class InterviewSessionRecord(CanonicalRecord):
    model_name: ClassVar[str] = "interview_session"

    candidate_remote_id: str | None = None
    application_remote_id: str | None = None
    job_remote_id: str | None = None
    package_id: str | None = None
    status: SessionStatus
    channel: str | None = None  # android, ios, web
    consent: list[ConsentValue] = Field(default_factory=list)
    started_at: datetime | None = None
    submitted_at: datetime | None = None
    answers: list[AnswerRecord] = Field(default_factory=list)


RECORD_TYPES: dict[str, type[CanonicalRecord]] = {
    cls.model_name: cls
    for cls in (
        CandidateRecord,
        JobRecord,
        InterviewStageRecord,
        ApplicationRecord,
        ResumeRecord,
        InterviewRecord,
        ApprovalRecord,
        InterviewSessionRecord,
    )
}
