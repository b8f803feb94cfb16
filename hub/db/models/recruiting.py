"""Jobs, candidates, resumes, applications with their stage history, interviews, scorecards.

Columns that hold personal data (``Candidate.emails``, ``Resume.text`` ...) are plain
``Text``: the store writes them through the tenant's field policy, which decides whether
the text is a ciphertext token or the value itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, TenantScoped


class Job(TenantScoped, Base):
    """A requisition with its screening requirements, stages, rubric and automation rules."""

    __tablename__ = "jobs"
    title: Mapped[str] = mapped_column(String(300))
    code: Mapped[str | None] = mapped_column(String(100), default=None)
    description: Mapped[str | None] = mapped_column(default=None)
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    department: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(20), default="OPEN")
    mode: Mapped[str | None] = mapped_column(String(20), default=None)
    requirements: Mapped[dict[str, Any]] = mapped_column(default=dict)
    stages: Mapped[list[Any]] = mapped_column(default=list)
    rubric: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    automation: Mapped[list[Any]] = mapped_column(default=list)


class Candidate(TenantScoped, Base):
    __tablename__ = "candidates"
    __table_args__ = (Index("ix_candidates_tenant_updated", "tenant_id", "updated_at", "id"),)
    first_name: Mapped[str | None] = mapped_column(default=None)
    last_name: Mapped[str | None] = mapped_column(default=None)
    company: Mapped[str | None] = mapped_column(String(300), default=None)
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    emails: Mapped[str | None] = mapped_column(default=None)
    phones: Mapped[str | None] = mapped_column(default=None)
    national_id: Mapped[str | None] = mapped_column(default=None)
    locations: Mapped[str | None] = mapped_column(default=None)
    expected_salary: Mapped[str | None] = mapped_column(default=None)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    consent: Mapped[list[Any]] = mapped_column(default=list)


class Resume(TenantScoped, Base):
    __tablename__ = "resumes"
    candidate_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    file_name: Mapped[str | None] = mapped_column(String(500), default=None)
    text: Mapped[str | None] = mapped_column(default=None)
    language: Mapped[str | None] = mapped_column(String(10), default=None)
    features: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    features_version: Mapped[str | None] = mapped_column(String(60), default=None)
    #: Screening profile (engines.screening_profile: skill levels, years, education; no text) with the
    #: features' version and source digest, so a library is re-screened without reading its features.
    profile: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    #: md5 of the stored text column, kept by a PostgreSQL trigger (None on SQLite: computed when read).
    text_md5: Mapped[str | None] = mapped_column(String(32), default=None)


class Application(TenantScoped, Base):
    __tablename__ = "applications"
    __table_args__ = (UniqueConstraint("candidate_id", "job_id"),)
    candidate_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("candidates.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(200), default="APPLIED")
    outcome: Mapped[str] = mapped_column(String(20), default="ACTIVE")  # ACTIVE | HIRED | REJECTED | WITHDRAWN
    source: Mapped[str | None] = mapped_column(String(200), default=None)
    applied_at: Mapped[datetime | None] = mapped_column(default=None)
    rejected_at: Mapped[datetime | None] = mapped_column(default=None)
    stage_count: Mapped[int] = mapped_column(default=0)
    last_stage_change_at: Mapped[datetime | None] = mapped_column(default=None)


class StageChange(TenantScoped, Base):
    """One step in an application's history, with who or what moved it and why."""

    __tablename__ = "stage_changes"
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    from_stage: Mapped[str | None] = mapped_column(String(200), default=None)
    to_stage: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(default=None)
    actor_kind: Mapped[str] = mapped_column(String(20))  # user | integrator | workflow | connector
    actor_id: Mapped[str | None] = mapped_column(String(100), default=None)


class Interview(TenantScoped, Base):
    __tablename__ = "interviews"
    application_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(default=1)
    mode: Mapped[str] = mapped_column(String(20), default="ONSITE")  # ONSITE | VIDEO | PHONE | AI_MOBILE
    interviewers: Mapped[list[Any]] = mapped_column(default=list)
    start_at: Mapped[datetime | None] = mapped_column(default=None)
    end_at: Mapped[datetime | None] = mapped_column(default=None)
    location: Mapped[str | None] = mapped_column(String(500), default=None)
    status: Mapped[str] = mapped_column(String(30), default="SCHEDULED")


class Scorecard(TenantScoped, Base):
    """A human interviewer's scores on the rubric's dimensions."""

    __tablename__ = "scorecards"
    interview_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("interviews.id", ondelete="CASCADE"), index=True)
    interviewer: Mapped[str] = mapped_column(String(200))
    scores: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str | None] = mapped_column(default=None)
    recommendation: Mapped[str | None] = mapped_column(String(30), default=None)
