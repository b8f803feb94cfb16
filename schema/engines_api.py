"""The engines' API: screening runs, screening decisions, rubrics, interview sessions, scoring, outlines.

Mutations validate shape and bounds here, then call the two services the hub hands in through the
context (``info.context.services["screening"]`` and ``["interviews"]``, protocols below); the services
check what needs the database (existence within the tenant, consent) and enqueue the RQ jobs that run
the engines. Results arrive in the store and as events (``screening_run.progress``,
``screening_run.completed``, ``evaluation.created``, ``interview_outline.created``).

    mutation { startScreeningRun(input: {jobId: "..."}) { run { id status progress { done total } } } }
    query { node(id: "<run id>") { ... on ScreeningRun { status shortlist { edges { node {
        score rank reasons { code points detail evidence { text start end } }
        application { candidate { firstName } } } } } } } }
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Protocol

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from schema.context import Viewer
from schema.errors import NotFound, ValidationFailed
from schema.permissions import Allow
from schema.relay import NOT_FOUND_MESSAGE, decode_global_id
from schema.types.ai import Evaluation
from schema.types.interviews import CandidateType, InterviewSession, Rubric, RubricDimensionKind
from schema.types.recruiting import Application, Job
from schema.types.screening import ScreeningDecision, ScreeningResult, ScreeningRun

__all__ = ["EnginesMutation", "EnginesQuery", "InterviewService", "ScreeningService"]

MAX_APPLICATION_IDS = 10_000
MAX_ANSWERS = 100
MAX_TRANSCRIPT = 20_000
_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,60}$")


class ScreeningService(Protocol):
    """Screening runs and decisions (:class:`hub.services.screening.ScreeningService`)."""

    async def start_run(
        self,
        viewer: Viewer,
        job_id: uuid.UUID,
        application_ids: Sequence[uuid.UUID] | None = None,
        *,
        shortlist_size: int | None = None,
    ) -> Any: ...

    async def decide(self, viewer: Viewer, result_id: uuid.UUID, decision: str, note: str | None) -> Any: ...

    async def results(
        self,
        viewer: Viewer,
        run_id: uuid.UUID,
        *,
        first: int,
        after: tuple[int | None, uuid.UUID] | None,
        passed: bool | None = None,
        shortlisted: bool = False,
    ) -> Any: ...

    async def explain(self, viewer: Viewer, result_ids: Sequence[uuid.UUID]) -> list[list[dict[str, Any]] | None]:
        """Each result's reasons with their evidence (results of large runs are stored without it)."""
        ...


class InterviewService(Protocol):
    """Rubrics, scoring, overrides and outlines (:class:`hub.services.interviews.InterviewService`)."""

    def default_rubrics(self) -> list[dict[str, Any]]: ...

    async def set_rubric(
        self, viewer: Viewer, job_id: uuid.UUID, rubric_id: str | None, rubric: dict[str, Any] | None
    ) -> Any: ...

    async def request_scoring(self, viewer: Viewer, session_id: uuid.UUID) -> Any: ...

    async def override_evaluation(
        self, viewer: Viewer, evaluation_id: uuid.UUID, *, total: float | None, recommendation: str, note: str | None
    ) -> Any: ...

    async def request_outline(self, viewer: Viewer, application_id: uuid.UUID, candidate_type: str | None) -> Any: ...


def _guard(action: str) -> list[Any]:
    return [PermissionExtension(permissions=[Allow(action)], use_directives=False)]


def _screening(info: Info) -> ScreeningService:
    return info.context.services["screening"]  # type: ignore[no-any-return]


def _interviews(info: Info) -> InterviewService:
    return info.context.services["interviews"]  # type: ignore[no-any-return]


def _note(value: str | None, field: str = "note") -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > 2000:
        raise ValidationFailed(f"{field} must be at most 2000 characters", field=field)
    return value or None


# -- screening ---------------------------------------------------------------------------------


@strawberry.input
class StartScreeningRunInput:
    job_id: strawberry.ID
    application_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Screen these applications of the job; default: all its ACTIVE applications."
    )
    shortlist_size: int | None = strawberry.field(
        default=None, description="At most this many recommended results form the shortlist; default: all."
    )


@strawberry.type
class StartScreeningRunPayload:
    run: ScreeningRun


@strawberry.input
class DecideScreeningResultInput:
    result_id: strawberry.ID
    decision: ScreeningDecision
    note: str | None = None


@strawberry.type
class DecideScreeningResultPayload:
    result: ScreeningResult


# -- rubrics -----------------------------------------------------------------------------------


@strawberry.input
class RubricLevelInput:
    score: int = strawberry.field(description="1 to 5, unique within the dimension.")
    anchor: str = strawberry.field(description="The behaviour that earns the level, e.g. 能独立完成三维建模.")


@strawberry.input
class RubricDimensionInput:
    key: str
    name: str
    weight: float
    levels: list[RubricLevelInput]
    kind: RubricDimensionKind = RubricDimensionKind.HARD
    must_have: bool = False
    keywords: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="A custom rubric: weighted dimensions with behaviour-anchored levels.")
class RubricInput:
    rubric_id: str
    version: str
    dimensions: list[RubricDimensionInput]
    name: str = ""

    def to_json(self) -> dict[str, Any]:
        for name, value in (("rubricId", self.rubric_id), ("version", self.version)):
            if not _KEY.match(value):
                raise ValidationFailed(f"{name} must be 1-60 letters, digits, '_', '.' or '-'", field=f"rubric.{name}")
        for d in self.dimensions:
            if not _KEY.match(d.key):
                raise ValidationFailed(
                    f"dimension key {d.key!r} must be 1-60 letters, digits, '_', '.' or '-'",
                    field="rubric.dimensions.key",
                )
            if len(d.levels) > 5 or len(d.keywords) > 50:
                raise ValidationFailed(
                    f"dimension {d.key!r}: at most 5 levels and 50 keywords", field="rubric.dimensions"
                )
            texts = [d.name, *(lv.anchor for lv in d.levels), *d.keywords]
            if any(len(t) > 500 for t in texts):
                raise ValidationFailed(
                    f"dimension {d.key!r}: names, anchors and keywords are at most 500 characters",
                    field="rubric.dimensions",
                )
        return {
            "rubric_id": self.rubric_id,
            "version": self.version,
            "name": self.name[:200],
            "dimensions": [
                {
                    "key": d.key,
                    "name": d.name,
                    "weight": d.weight,
                    "kind": d.kind.value,
                    "must_have": d.must_have,
                    "levels": [{"score": lv.score, "anchor": lv.anchor} for lv in d.levels],
                    "keywords": list(d.keywords),
                }
                for d in self.dimensions
            ],
        }


@strawberry.input
class SetJobRubricInput:
    job_id: strawberry.ID
    rubric_id: str | None = strawberry.field(default=None, description="A shipped rubric (see `defaultRubrics`).")
    rubric: RubricInput | None = strawberry.field(default=None, description="Or your own rubric.")


@strawberry.type
class SetJobRubricPayload:
    job: Job


# -- interview sessions, scoring, outlines -----------------------------------------------------


@strawberry.input
class InterviewAnswerInput:
    question_id: str
    question: str
    transcript: str
    dimension_keys: list[str] = strawberry.field(
        default_factory=list, description="Rubric dimensions the question was asked about (optional)."
    )


@strawberry.input
class InterviewConsentInput:
    ai_scoring: bool = strawberry.field(description="The candidate agreed to AI scoring of these answers.")


@strawberry.input
class RecordInterviewSessionInput:
    application_id: strawberry.ID
    answers: list[InterviewAnswerInput]
    consent: InterviewConsentInput


@strawberry.type
class RecordInterviewSessionPayload:
    session: InterviewSession


@strawberry.input
class ScoreInterviewSessionInput:
    session_id: strawberry.ID


@strawberry.enum
class ScoringRequestStatus(Enum):
    QUEUED = "QUEUED"
    ALREADY_SCORED = "ALREADY_SCORED"


@strawberry.type
class ScoreInterviewSessionPayload:
    session: InterviewSession
    status: ScoringRequestStatus
    evaluation: Evaluation | None = strawberry.field(
        description="The existing evaluation against the job's current rubric, when ALREADY_SCORED."
    )


@strawberry.enum(description="A person's recommendation; unlike the AI's, it may reject.")
class HumanRecommendation(Enum):
    ADVANCE = "ADVANCE"
    HOLD = "HOLD"
    REJECT = "REJECT"


@strawberry.input
class OverrideEvaluationInput:
    evaluation_id: strawberry.ID
    recommendation: HumanRecommendation
    total: float | None = None
    note: str | None = None


@strawberry.type
class OverrideEvaluationPayload:
    evaluation: Evaluation


@strawberry.input
class GenerateInterviewOutlineInput:
    application_id: strawberry.ID
    candidate_type: CandidateType | None = strawberry.field(
        default=None, description="Default: inferred from the resume (graduate, experienced hire, manager)."
    )


@strawberry.type
class GenerateInterviewOutlinePayload:
    application: Application
    queued: bool = strawberry.field(description="The outline appears as `application.outline` when generated.")


def _session_values(inp: RecordInterviewSessionInput, viewer: Viewer) -> dict[str, Any]:
    if not 1 <= len(inp.answers) <= MAX_ANSWERS:
        raise ValidationFailed(f"a session has 1 to {MAX_ANSWERS} answers", field="answers")
    seen: set[str] = set()
    questions, answers = [], []
    for a in inp.answers:
        question_id = a.question_id.strip()
        if not question_id or len(question_id) > 100 or question_id in seen:
            raise ValidationFailed("questionIds must be 1-100 characters and unique", field="answers.questionId")
        seen.add(question_id)
        if len(a.question) > 2000 or len(a.transcript) > MAX_TRANSCRIPT:
            raise ValidationFailed(
                f"a question is at most 2000 characters, a transcript at most {MAX_TRANSCRIPT}", field="answers"
            )
        if len(a.dimension_keys) > 20 or any(not _KEY.match(k) for k in a.dimension_keys):
            raise ValidationFailed("at most 20 dimension keys per answer", field="answers.dimensionKeys")
        questions.append({"question_id": question_id, "question": a.question, "dimension_keys": a.dimension_keys})
        answers.append({"question_id": question_id, "question": a.question, "transcript": a.transcript})
    now = datetime.now(UTC)
    return {
        "status": "SUBMITTED",
        "channel": "api",
        "consent": [
            {
                "purpose": "ai_scoring",
                "granted": inp.consent.ai_scoring,
                "granted_at": now.isoformat(),
                "source": viewer.actor,
            }
        ],
        "questions": questions,
        "answers": json.dumps(answers, ensure_ascii=False),
        "submitted_at": now,
    }


@strawberry.type
class EnginesQuery:
    @strawberry.field(
        extensions=_guard("read:jobs"), description="The rubrics shipped with the hub (for setJobRubric)."
    )
    def default_rubrics(self, info: Info) -> list[Rubric]:
        return [Rubric.from_json(r) for r in _interviews(info).default_rubrics()]


@strawberry.type
class EnginesMutation:
    @strawberry.mutation(
        extensions=_guard("write:applications"),
        description="Screen a job's applications in the background; watch `progress` or `screening_run.*` events.",
    )
    async def start_screening_run(self, info: Info, input: StartScreeningRunInput) -> StartScreeningRunPayload:
        _, job_id = decode_global_id(input.job_id, expect="Job")
        ids = None
        if input.application_ids is not None:
            if not 1 <= len(input.application_ids) <= MAX_APPLICATION_IDS:
                raise ValidationFailed(f"applicationIds holds 1 to {MAX_APPLICATION_IDS} ids", field="application_ids")
            ids = [decode_global_id(i, expect="Application")[1] for i in input.application_ids]
        if input.shortlist_size is not None and input.shortlist_size < 1:
            raise ValidationFailed("shortlistSize must be at least 1", field="shortlist_size")
        run = await _screening(info).start_run(info.context.viewer, job_id, ids, shortlist_size=input.shortlist_size)
        return StartScreeningRunPayload(run=ScreeningRun.from_row(run))

    @strawberry.mutation(
        extensions=_guard("write:applications"),
        description="Record a person's decision on a screening result (who and when are recorded).",
    )
    async def decide_screening_result(
        self, info: Info, input: DecideScreeningResultInput
    ) -> DecideScreeningResultPayload:
        _, result_id = decode_global_id(input.result_id, expect="ScreeningResult")
        row = await _screening(info).decide(info.context.viewer, result_id, input.decision.value, _note(input.note))
        return DecideScreeningResultPayload(result=ScreeningResult.from_row(row))

    @strawberry.mutation(
        extensions=_guard("write:jobs"), description="Set the rubric a job's interviews are scored on."
    )
    async def set_job_rubric(self, info: Info, input: SetJobRubricInput) -> SetJobRubricPayload:
        _, job_id = decode_global_id(input.job_id, expect="Job")
        rubric = input.rubric.to_json() if input.rubric is not None else None
        row = await _interviews(info).set_rubric(info.context.viewer, job_id, input.rubric_id, rubric)
        return SetJobRubricPayload(job=Job.from_row(row))

    @strawberry.mutation(
        extensions=_guard("write:interviews"),
        description="Record an interview's transcribed answers and the candidate's consent (answers are sealed).",
    )
    async def record_interview_session(
        self, info: Info, input: RecordInterviewSessionInput
    ) -> RecordInterviewSessionPayload:
        _, application_id = decode_global_id(input.application_id, expect="Application")
        store = info.context.store
        application = (await store.rows_by_ids("application", [application_id]))[0]
        if application is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        values = _session_values(input, info.context.viewer)
        values.update(application_id=application.id, candidate_id=application.candidate_id)
        row = await store.create("interview_session", values)
        return RecordInterviewSessionPayload(session=InterviewSession.from_row(row))

    @strawberry.mutation(
        extensions=_guard("write:interviews"),
        description="Score a session against its job's rubric in the background; needs the candidate's consent.",
    )
    async def score_interview_session(
        self, info: Info, input: ScoreInterviewSessionInput
    ) -> ScoreInterviewSessionPayload:
        _, session_id = decode_global_id(input.session_id, expect="InterviewSession")
        request = await _interviews(info).request_scoring(info.context.viewer, session_id)
        return ScoreInterviewSessionPayload(
            session=InterviewSession.from_row(request.session),
            status=ScoringRequestStatus(request.status),
            evaluation=Evaluation.from_row(request.evaluation) if request.evaluation is not None else None,
        )

    @strawberry.mutation(
        extensions=_guard("write:interviews"),
        description="A person's override of an AI evaluation; the AI result stays beside it.",
    )
    async def override_evaluation(self, info: Info, input: OverrideEvaluationInput) -> OverrideEvaluationPayload:
        _, evaluation_id = decode_global_id(input.evaluation_id, expect="Evaluation")
        row = await _interviews(info).override_evaluation(
            info.context.viewer,
            evaluation_id,
            total=input.total,
            recommendation=input.recommendation.value,
            note=_note(input.note),
        )
        return OverrideEvaluationPayload(evaluation=Evaluation.from_row(row))

    @strawberry.mutation(
        extensions=_guard("write:interviews"),
        description="Generate an interview outline for an application in the background.",
    )
    async def generate_interview_outline(
        self, info: Info, input: GenerateInterviewOutlineInput
    ) -> GenerateInterviewOutlinePayload:
        _, application_id = decode_global_id(input.application_id, expect="Application")
        candidate_type = input.candidate_type.value if input.candidate_type is not None else None
        row = await _interviews(info).request_outline(info.context.viewer, application_id, candidate_type)
        return GenerateInterviewOutlinePayload(application=Application.from_row(row), queued=True)
