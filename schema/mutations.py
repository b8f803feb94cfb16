"""The mutation root: input objects in, payload types out, coded errors on failure.

Validation happens here (shape and bounds) before the store is called; the store checks
what needs the database (existence within the tenant, uniqueness) and answers NOT_FOUND or
CONFLICT. Nothing is written when any check fails.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from schema.errors import ValidationFailed
from schema.permissions import Allow
from schema.relay import decode_global_id
from schema.types.recruiting import (
    Application,
    Candidate,
    Interview,
    InterviewMode,
    InterviewStatus,
    Job,
    JobStatusEnum,
)

__all__ = ["RecruitingMutation"]

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{5,24}$")
_EDUCATION = {"none", "associate", "bachelor", "master", "phd"}


def _guard(action: str) -> list[Any]:
    return [PermissionExtension(permissions=[Allow(action)], use_directives=False)]


def _text(value: str | None, field: str, *, max_len: int, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise ValidationFailed(f"{field} is required", field=field)
        return None
    value = value.strip()
    if required and not value:
        raise ValidationFailed(f"{field} must not be empty", field=field)
    if len(value) > max_len:
        raise ValidationFailed(f"{field} must be at most {max_len} characters", field=field)
    return value or None


def _set(values: dict[str, Any], name: str, value: Any) -> None:
    if value is not strawberry.UNSET:
        values[name] = value


@strawberry.input
class WeightedSkillInput:
    skill: str
    weight: float


@strawberry.input(description="Screening requirements; skills by name or alias, in Chinese or English.")
class JobRequirementsInput:
    must_have: list[str] = strawberry.field(default_factory=list)
    nice_to_have: list[WeightedSkillInput] = strawberry.field(default_factory=list)
    min_years: float | None = None
    min_education: str | None = None
    knockouts: list[str] = strawberry.field(default_factory=list)
    pass_threshold: float = 60.0

    def to_json(self) -> dict[str, Any]:
        skills = [*self.must_have, *(s.skill for s in self.nice_to_have), *self.knockouts]
        if len(skills) > 100:
            raise ValidationFailed("at most 100 skills in requirements", field="requirements")
        for skill in skills:
            _text(skill, "requirements.skill", max_len=100, required=True)
        for s in self.nice_to_have:
            if not 0 < s.weight <= 100:
                raise ValidationFailed("weights must be in (0, 100]", field="requirements.niceToHave.weight")
        if self.min_years is not None and not 0 <= self.min_years <= 60:
            raise ValidationFailed("minYears must be between 0 and 60", field="requirements.minYears")
        if self.min_education is not None and self.min_education not in _EDUCATION:
            raise ValidationFailed(
                f"minEducation must be one of {sorted(_EDUCATION)}", field="requirements.minEducation"
            )
        if not 0 <= self.pass_threshold <= 100:
            raise ValidationFailed("passThreshold must be between 0 and 100", field="requirements.passThreshold")
        return {
            "must_have": [s.strip() for s in self.must_have],
            "nice_to_have": [{"skill": s.skill.strip(), "weight": s.weight} for s in self.nice_to_have],
            "min_years": self.min_years,
            "min_education": self.min_education,
            "knockouts": [s.strip() for s in self.knockouts],
            "pass_threshold": self.pass_threshold,
        }


@strawberry.input
class CreateJobInput:
    title: str
    code: str | None = None
    description: str | None = None
    language: str | None = None
    department: str | None = None
    status: JobStatusEnum = JobStatusEnum.OPEN  # type: ignore[valid-type]
    stages: list[str] = strawberry.field(default_factory=lambda: ["APPLIED", "SCREENING", "INTERVIEW", "OFFER"])
    requirements: JobRequirementsInput | None = None


@strawberry.input
class UpdateJobInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    department: str | None = strawberry.UNSET
    status: JobStatusEnum | None = strawberry.UNSET  # type: ignore[valid-type]
    stages: list[str] | None = strawberry.UNSET
    requirements: JobRequirementsInput | None = strawberry.UNSET


@strawberry.input
class CreateCandidateInput:
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    title: str | None = None
    emails: list[str] = strawberry.field(default_factory=list)
    phones: list[str] = strawberry.field(default_factory=list)
    national_id: str | None = None
    locations: list[str] = strawberry.field(default_factory=list)
    expected_salary: str | None = None
    tags: list[str] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateCandidateInput:
    id: strawberry.ID
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    title: str | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET


@strawberry.input
class CreateApplicationInput:
    candidate_id: strawberry.ID
    job_id: strawberry.ID
    stage: str | None = None
    source: str | None = None


@strawberry.input
class MoveApplicationStageInput:
    application_id: strawberry.ID
    to_stage: str
    reason: str | None = None


@strawberry.input
class ScheduleInterviewInput:
    application_id: strawberry.ID
    round: int = 1
    mode: InterviewMode = InterviewMode.ONSITE
    interviewers: list[str] = strawberry.field(default_factory=list)
    start_at: datetime | None = None
    end_at: datetime | None = None
    location: str | None = None


@strawberry.input
class UpdateInterviewInput:
    id: strawberry.ID
    status: InterviewStatus | None = strawberry.UNSET
    start_at: datetime | None = strawberry.UNSET
    end_at: datetime | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    interviewers: list[str] | None = strawberry.UNSET


@strawberry.type
class JobPayload:
    job: Job


@strawberry.type
class CandidatePayload:
    candidate: Candidate


@strawberry.type
class ApplicationPayload:
    application: Application


@strawberry.type
class InterviewPayload:
    interview: Interview


def _job_values(inp: CreateJobInput | UpdateJobInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if isinstance(inp, CreateJobInput):
        values["title"] = _text(inp.title, "title", max_len=300, required=True)
        values["code"] = _text(inp.code, "code", max_len=100)
        values["language"] = _text(inp.language, "language", max_len=10)
        values["requirements"] = inp.requirements.to_json() if inp.requirements else {}
    else:
        if inp.title is not strawberry.UNSET:
            values["title"] = _text(inp.title, "title", max_len=300, required=True)
        if inp.requirements is not strawberry.UNSET:
            values["requirements"] = inp.requirements.to_json() if inp.requirements else {}
    for name in ("description", "department"):
        value = getattr(inp, name)
        if value is not strawberry.UNSET:
            values[name] = _text(value, name, max_len=20_000 if name == "description" else 200)
    if inp.status is not strawberry.UNSET and inp.status is not None:
        values["status"] = inp.status.value
    if inp.stages is not strawberry.UNSET and inp.stages is not None:
        stages = [_text(s, "stages", max_len=200, required=True) for s in inp.stages]
        if not stages or len(stages) > 30 or len(set(stages)) != len(stages):
            raise ValidationFailed("stages must be 1 to 30 distinct names", field="stages")
        values["stages"] = stages
    return values


def _contacts(emails: list[str] | None, phones: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if emails is not None and emails is not strawberry.UNSET:
        cleaned = [e.strip() for e in emails]
        if len(cleaned) > 10 or any(not _EMAIL.match(e) for e in cleaned):
            raise ValidationFailed("emails must be valid addresses (at most 10)", field="emails")
        out["emails"] = cleaned
    if phones is not None and phones is not strawberry.UNSET:
        cleaned = [p.strip() for p in phones]
        if len(cleaned) > 10 or any(not _PHONE.match(p) for p in cleaned):
            raise ValidationFailed("phones must be phone numbers (at most 10)", field="phones")
        out["phones"] = cleaned
    return out


def _candidate_values(inp: CreateCandidateInput | UpdateCandidateInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, max_len in (("first_name", 200), ("last_name", 200), ("company", 300), ("title", 300)):
        _set(values, name, getattr(inp, name))
        if name in values:
            values[name] = _text(values[name], name, max_len=max_len)
    values.update(_contacts(inp.emails, inp.phones))
    if isinstance(inp, CreateCandidateInput):
        values["national_id"] = _text(inp.national_id, "national_id", max_len=64)
        values["expected_salary"] = _text(inp.expected_salary, "expected_salary", max_len=100)
        values["locations"] = [_text(x, "locations", max_len=200, required=True) for x in inp.locations[:20]]
        if not (values.get("first_name") or values.get("last_name")):
            raise ValidationFailed("a candidate needs a first or last name", field="first_name")
    if inp.tags is not strawberry.UNSET and inp.tags is not None:
        if len(inp.tags) > 50:
            raise ValidationFailed("at most 50 tags", field="tags")
        values["tags"] = [_text(t, "tags", max_len=100, required=True) for t in inp.tags]
    return values


@strawberry.type
class RecruitingMutation:
    @strawberry.mutation(extensions=_guard("write:jobs"))
    async def create_job(self, info: Info, input: CreateJobInput) -> JobPayload:
        row = await info.context.store.create("job", _job_values(input))
        return JobPayload(job=Job.from_row(row))

    @strawberry.mutation(extensions=_guard("write:jobs"))
    async def update_job(self, info: Info, input: UpdateJobInput) -> JobPayload:
        _, job_id = decode_global_id(input.id, expect="Job")
        row = await info.context.store.update("job", job_id, _job_values(input))
        return JobPayload(job=Job.from_row(row))

    @strawberry.mutation(extensions=_guard("write:candidates"))
    async def create_candidate(self, info: Info, input: CreateCandidateInput) -> CandidatePayload:
        row = await info.context.store.create("candidate", _candidate_values(input))
        return CandidatePayload(candidate=Candidate.from_row(row))

    @strawberry.mutation(extensions=_guard("write:candidates"))
    async def update_candidate(self, info: Info, input: UpdateCandidateInput) -> CandidatePayload:
        _, candidate_id = decode_global_id(input.id, expect="Candidate")
        row = await info.context.store.update("candidate", candidate_id, _candidate_values(input))
        return CandidatePayload(candidate=Candidate.from_row(row))

    @strawberry.mutation(extensions=_guard("write:applications"))
    async def create_application(self, info: Info, input: CreateApplicationInput) -> ApplicationPayload:
        values = {
            "candidate_id": decode_global_id(input.candidate_id, expect="Candidate")[1],
            "job_id": decode_global_id(input.job_id, expect="Job")[1],
            "stage": _text(input.stage, "stage", max_len=200),
            "source": _text(input.source, "source", max_len=200),
        }
        row = await info.context.store.create("application", values)
        return ApplicationPayload(application=Application.from_row(row))

    @strawberry.mutation(
        extensions=_guard("write:applications"),
        description="Move an application to another stage of its job, recording why.",
    )
    async def move_application_stage(self, info: Info, input: MoveApplicationStageInput) -> ApplicationPayload:
        _, application_id = decode_global_id(input.application_id, expect="Application")
        to_stage = _text(input.to_stage, "to_stage", max_len=200, required=True)
        reason = _text(input.reason, "reason", max_len=2000)
        row = await info.context.store.move_stage(application_id, to_stage or "", reason)
        return ApplicationPayload(application=Application.from_row(row))

    @strawberry.mutation(extensions=_guard("write:interviews"))
    async def schedule_interview(self, info: Info, input: ScheduleInterviewInput) -> InterviewPayload:
        _, application_id = decode_global_id(input.application_id, expect="Application")
        values = _interview_values(input)
        values["application_id"] = application_id
        values["round"] = input.round
        values["mode"] = input.mode.value
        if not 1 <= input.round <= 20:
            raise ValidationFailed("round must be between 1 and 20", field="round")
        row = await info.context.store.create("interview", values)
        return InterviewPayload(interview=Interview.from_row(row))

    @strawberry.mutation(extensions=_guard("write:interviews"))
    async def update_interview(self, info: Info, input: UpdateInterviewInput) -> InterviewPayload:
        _, interview_id = decode_global_id(input.id, expect="Interview")
        values = _interview_values(input)
        if input.status is not strawberry.UNSET and input.status is not None:
            values["status"] = input.status.value
        row = await info.context.store.update("interview", interview_id, values)
        return InterviewPayload(interview=Interview.from_row(row))


def _interview_values(inp: ScheduleInterviewInput | UpdateInterviewInput) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in ("start_at", "end_at", "location", "interviewers"):
        _set(values, name, getattr(inp, name))
    for name in ("start_at", "end_at"):
        if values.get(name) is not None and values[name].tzinfo is None:
            raise ValidationFailed(f"{name} needs a time zone offset", field=name)
    if values.get("start_at") and values.get("end_at") and values["end_at"] <= values["start_at"]:
        raise ValidationFailed("end_at must be after start_at", field="end_at")
    if "location" in values:
        values["location"] = _text(values["location"], "location", max_len=500)
    if values.get("interviewers") is not None:
        if len(values["interviewers"]) > 20:
            raise ValidationFailed("at most 20 interviewers", field="interviewers")
        values["interviewers"] = [_text(i, "interviewers", max_len=200, required=True) for i in values["interviewers"]]
    return values
