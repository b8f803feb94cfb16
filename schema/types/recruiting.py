"""Jobs, candidates, resumes, applications, stage history and interviews as clients see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from schema.execution import context_only
from schema.personal import personal_field
from schema.prefetch import related
from schema.records import JobStatus
from schema.relay import Connection, Node, encode_global_id

if TYPE_CHECKING:  # resolved lazily at schema build time (strawberry.lazy): no import cycle at runtime
    from schema.types.interviews import InterviewOutline, InterviewSession, Rubric
    from schema.types.screening import ScreeningResult, ScreeningRun

__all__ = [
    "Application",
    "ApplicationOutcome",
    "Candidate",
    "Interview",
    "InterviewMode",
    "Job",
    "JobRequirements",
    "Resume",
    "StageChange",
    "WeightedSkill",
]

JobStatusEnum = strawberry.enum(JobStatus, name="JobStatus")


@strawberry.enum
class ApplicationOutcome(Enum):
    ACTIVE = "ACTIVE"
    HIRED = "HIRED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"


@strawberry.enum
class InterviewMode(Enum):
    ONSITE = "ONSITE"
    VIDEO = "VIDEO"
    PHONE = "PHONE"
    AI_MOBILE = "AI_MOBILE"


@strawberry.enum
class InterviewStatus(Enum):
    SCHEDULED = "SCHEDULED"
    AWAITING_FEEDBACK = "AWAITING_FEEDBACK"
    COMPLETE = "COMPLETE"
    CANCELED = "CANCELED"


@strawberry.type
class WeightedSkill:
    skill: str
    weight: float


@strawberry.type(description="What a resume must show to pass screening for a job.")
class JobRequirements:
    must_have: list[str]
    nice_to_have: list[WeightedSkill]
    min_years: float | None
    min_education: str | None
    knockouts: list[str]
    pass_threshold: float

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> JobRequirements:
        data = data or {}
        return cls(
            must_have=list(data.get("must_have", [])),
            nice_to_have=[WeightedSkill(skill=s["skill"], weight=s["weight"]) for s in data.get("nice_to_have", [])],
            min_years=data.get("min_years"),
            min_education=data.get("min_education"),
            knockouts=list(data.get("knockouts", [])),
            pass_threshold=data.get("pass_threshold", 60.0),
        )


def _gid(type_name: str, row: Any) -> strawberry.ID:
    return strawberry.ID(encode_global_id(type_name, row.id))


@strawberry.type
class Job(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    title: str
    code: str | None
    description: str | None
    language: str | None
    department: str | None
    status: JobStatusEnum  # type: ignore[valid-type]
    mode: str | None
    stages: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Job:
        return cls(
            _row=row,
            id=_gid("Job", row),
            title=row.title,
            code=row.code,
            description=row.description,
            language=row.language,
            department=row.department,
            status=JobStatus(row.status),
            mode=row.mode,
            stages=list(row.stages or []),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @strawberry.field
    def requirements(self) -> JobRequirements:
        return JobRequirements.from_json(self._row.requirements)

    @strawberry.field(description="Applications to this job, newest first by id order.")
    async def applications(
        self, info: Info, first: int = 20, after: str | None = None, stage: str | None = None
    ) -> Connection[Application]:
        from schema.queries import paginate

        filters: dict[str, Any] = {"job_id": self._row.id}
        if stage is not None:
            filters["stage"] = stage
        return await paginate(info, "application", Application.from_row, filters=filters, first=first, after=after)

    @strawberry.field(description="The rubric the job's interviews are scored against (staff only).")
    def rubric(self, info: Info) -> Annotated[Rubric, strawberry.lazy("schema.types.interviews")] | None:
        from schema.types.interviews import Rubric

        if not self._row.rubric or info.context.viewer.roles == frozenset({"candidate"}):
            return None  # a candidate does not get the scoring anchors of their own interview
        return Rubric.from_json(self._row.rubric)

    @strawberry.field(description="Screening runs of this job, newest first.")
    async def screening_runs(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> Connection[Annotated[ScreeningRun, strawberry.lazy("schema.types.screening")]]:
        from schema.types.screening import job_screening_runs

        return await job_screening_runs(info, self._row.id, first, after)


@strawberry.type
class Resume(Node):
    _row: strawberry.Private[Any]
    _subject_id: strawberry.Private[uuid.UUID | None]
    id: strawberry.ID
    file_name: str | None
    language: str | None
    created_at: datetime
    text: str | None = personal_field("resume", "text")

    @classmethod
    def from_row(cls, row: Any) -> Resume:
        return cls(
            _row=row,
            _subject_id=row.candidate_id,
            id=_gid("Resume", row),
            file_name=row.file_name,
            language=row.language,
            created_at=row.created_at,
        )


@strawberry.type
class Candidate(Node):
    _row: strawberry.Private[Any]
    _subject_id: strawberry.Private[uuid.UUID | None]
    id: strawberry.ID
    company: str | None
    title: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    first_name: str | None = personal_field("candidate", "first_name")
    last_name: str | None = personal_field("candidate", "last_name")
    emails: list[str] | None = personal_field("candidate", "emails")
    phones: list[str] | None = personal_field("candidate", "phones")
    national_id: str | None = personal_field("candidate", "national_id")
    expected_salary: str | None = personal_field("candidate", "expected_salary")
    locations: list[str] | None = personal_field("candidate", "locations")

    @classmethod
    def from_row(cls, row: Any) -> Candidate:
        return cls(
            _row=row,
            _subject_id=row.id,
            id=_gid("Candidate", row),
            company=row.company,
            title=row.title,
            tags=list(row.tags or []),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @context_only
    @strawberry.field
    def applications(self, info: Info) -> list[Application]:
        return related(info, "applications_by_candidate", self._row.id, Application.from_row, many=True)

    @context_only
    @strawberry.field
    def resumes(self, info: Info) -> list[Resume]:
        return related(info, "resumes_by_candidate", self._row.id, Resume.from_row, many=True)


@strawberry.type(description="One step in an application's history, with who or what moved it.")
class StageChange:
    from_stage: str | None
    to_stage: str
    reason: str | None
    actor_kind: str
    actor_id: str | None
    at: datetime

    @classmethod
    def from_row(cls, row: Any) -> StageChange:
        return cls(
            from_stage=row.from_stage,
            to_stage=row.to_stage,
            reason=row.reason,
            actor_kind=row.actor_kind,
            actor_id=row.actor_id,
            at=row.created_at,
        )


@strawberry.type
class Application(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    stage: str
    outcome: ApplicationOutcome
    source: str | None
    applied_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Application:
        return cls(
            _row=row,
            id=_gid("Application", row),
            stage=row.stage,
            outcome=ApplicationOutcome(row.outcome),
            source=row.source,
            applied_at=row.applied_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @context_only
    @strawberry.field
    def candidate(self, info: Info) -> Candidate:
        return related(info, "candidate", self._row.candidate_id, Candidate.from_row, many=False)

    @context_only
    @strawberry.field
    def job(self, info: Info) -> Job:
        return related(info, "job", self._row.job_id, Job.from_row, many=False)

    @context_only
    @strawberry.field(description="Stage changes, oldest first.")
    def history(self, info: Info) -> list[StageChange]:
        return related(info, "history_by_application", self._row.id, StageChange.from_row, many=True)

    @context_only
    @strawberry.field
    def interviews(self, info: Info) -> list[Interview]:
        return related(info, "interviews_by_application", self._row.id, Interview.from_row, many=True)

    @context_only
    @strawberry.field(description="The most recent AI evaluation of this application, if any.")
    def latest_evaluation(self, info: Info) -> Evaluation | None:
        return related(info, "latest_evaluation", self._row.id, Evaluation.from_row, many=False)

    @strawberry.field(description="This application's result in every screening run, newest first.")
    def screening_results(
        self, info: Info
    ) -> list[Annotated[ScreeningResult, strawberry.lazy("schema.types.screening")]]:
        from schema.types.screening import application_screening_results

        return application_screening_results(info, self._row.id)  # type: ignore[no-any-return]

    @strawberry.field(description="The most recent interview outline generated for this application.")
    def outline(self, info: Info) -> Annotated[InterviewOutline, strawberry.lazy("schema.types.interviews")] | None:
        from schema.types.interviews import application_outline

        return application_outline(info, self._row.id)  # type: ignore[no-any-return]

    @strawberry.field(description="AI interview sessions of this application, newest first.")
    def interview_sessions(
        self, info: Info
    ) -> list[Annotated[InterviewSession, strawberry.lazy("schema.types.interviews")]]:
        from schema.types.interviews import application_sessions

        return application_sessions(info, self._row.id)  # type: ignore[no-any-return]


@strawberry.type
class Interview(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    round: int
    mode: InterviewMode
    interviewers: list[str]
    start_at: datetime | None
    end_at: datetime | None
    location: str | None
    status: InterviewStatus
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Interview:
        return cls(
            _row=row,
            id=_gid("Interview", row),
            round=row.round,
            mode=InterviewMode(row.mode),
            interviewers=list(row.interviewers or []),
            start_at=row.start_at,
            end_at=row.end_at,
            location=row.location,
            status=InterviewStatus(row.status),
            created_at=row.created_at,
        )

    @context_only
    @strawberry.field
    def application(self, info: Info) -> Application:
        return related(info, "application", self._row.application_id, Application.from_row, many=False)


from schema.types.ai import Evaluation  # noqa: E402  (resolves the forward reference above)
