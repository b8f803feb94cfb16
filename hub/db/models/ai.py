"""Screening runs and results, interview outlines, AI interview sessions, evaluations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hub.db.base import Base, TenantScoped


class ScreeningRun(TenantScoped, Base):
    __tablename__ = "screening_runs"
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="QUEUED")
    requirements: Mapped[dict[str, Any]] = mapped_column(default=dict)
    engine_version: Mapped[str | None] = mapped_column(String(60), default=None)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    shortlist_size: Mapped[int | None] = mapped_column(default=None)
    # Applications of chunks that failed for good (retries exhausted), those chunks' indexes, the error code.
    failed: Mapped[int] = mapped_column(default=0, server_default="0")
    failed_chunks: Mapped[list[Any] | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(60), default=None)
    started_by: Mapped[str | None] = mapped_column(String(100), default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ScreeningResult(TenantScoped, Base):
    __tablename__ = "screening_results"
    __table_args__ = (UniqueConstraint("run_id", "application_id"),)

    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        # No foreign key to tenants: the run's (ON DELETE CASCADE, and runs cascade from their tenant) removes
        # a tenant's results already, and PostgreSQL checks a foreign key row by row: this one was a quarter
        # of the time writing an 80,000-result run takes.
        return mapped_column(Uuid, index=True)

    # Reads by run use the unique (run_id, application_id) index; a second index on run_id alone would only
    # cost every bulk insert of a large run. On PostgreSQL the two foreign keys below are statement-level
    # triggers with the same guarantees (migration 0012: checked and locked once per INSERT, not per row;
    # cascades on delete); SQLite keeps them as declared.
    run_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("screening_runs.id", ondelete="CASCADE"))
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    rank: Mapped[int | None] = mapped_column(default=None)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    human_decision: Mapped[str | None] = mapped_column(String(20), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(100), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decision_note: Mapped[str | None] = mapped_column(default=None)
    written_back_at: Mapped[datetime | None] = mapped_column(default=None)
    #: The HR system refused this result for good (the connector's stable error code): not offered again.
    write_back_error: Mapped[str | None] = mapped_column(String(60), default=None)
    #: The resume screened and its source digest then: a result stored without evidence (a large run)
    #: reads its evidence from that resume's cached features while they are still of that text.
    resume_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    source_digest: Mapped[str | None] = mapped_column(String(32), default=None)
    #: The screened profile (engines.screening_profile.ProfileScreen.encode); its reasons are computed from
    #: it and the run's requirements when read (``reasons`` is then empty).
    profile_key: Mapped[str | None] = mapped_column(default=None)


class InterviewOutline(TenantScoped, Base):
    __tablename__ = "interview_outlines"
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    interview_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    coverage: Mapped[float | None] = mapped_column(default=None)
    engine_version: Mapped[str | None] = mapped_column(String(60), default=None)
    candidate_type: Mapped[str | None] = mapped_column(String(20), default=None)
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    rubric_version: Mapped[str | None] = mapped_column(String(120), default=None)
    missing_must_have: Mapped[list[Any] | None] = mapped_column(default=None)


class InterviewSession(TenantScoped, Base):
    """The mobile AI interview: questions, answers with transcripts (personal), consent."""

    __tablename__ = "interview_sessions"
    application_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True, default=None
    )
    candidate_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    status: Mapped[str] = mapped_column(String(20), default="INVITED")
    channel: Mapped[str | None] = mapped_column(String(20), default=None)
    package_id: Mapped[str | None] = mapped_column(String(100), default=None)
    consent: Mapped[list[Any]] = mapped_column(default=list)
    questions: Mapped[list[Any]] = mapped_column(default=list)
    answers: Mapped[str | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(default=None)


class Evaluation(TenantScoped, Base):
    """An AI evaluation of one interview session against one rubric version (at most one each)."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("session_id", "rubric_version"),)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    dimension_scores: Mapped[list[Any]] = mapped_column(default=list)
    total: Mapped[float | None] = mapped_column(default=None)
    recommendation: Mapped[str | None] = mapped_column(String(30), default=None)
    engine_version: Mapped[str | None] = mapped_column(String(120), default=None)
    override: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    rubric_version: Mapped[str | None] = mapped_column(String(120), default=None)
    coverage: Mapped[float | None] = mapped_column(default=None)
    missing_must_have: Mapped[list[Any] | None] = mapped_column(default=None)
