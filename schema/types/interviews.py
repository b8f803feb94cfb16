"""Interview rubrics, AI interview sessions and interview outlines as clients see them.

- A job's :class:`Rubric`: weighted dimensions whose levels are anchored in behaviour.
- An :class:`InterviewSession`: the candidate's transcribed answers (personal: shown per the policy for
  ``interview_session.answers``) and the consent recorded with them; its evaluations.
- An :class:`InterviewOutline`: questions aimed at one candidate, each tied to rubric dimensions, to the
  resume text that prompted it (shown per the policy for ``resume.text``) and to what to listen for.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from policies import Visibility
from schema.prefetch import related
from schema.relay import Node, encode_global_id
from schema.types.ai import Evaluation
from schema.types.recruiting import Application
from schema.types.screening import EvidenceSpan, visible_json

__all__ = [
    "CandidateType",
    "ConsentEntry",
    "InterviewAnswer",
    "InterviewOutline",
    "InterviewSession",
    "OutlinePurpose",
    "OutlineQuestion",
    "Rubric",
    "RubricDimension",
    "RubricDimensionKind",
    "RubricLevel",
]


@strawberry.enum
class RubricDimensionKind(Enum):
    HARD = "hard"
    SOFT = "soft"


@strawberry.enum
class CandidateType(Enum):
    GRADUATE = "graduate"
    EXPERIENCED = "experienced"
    MANAGER = "manager"


@strawberry.enum
class OutlinePurpose(Enum):
    VERIFY_MUST_HAVE = "verify_must_have"
    PROBE_OWNERSHIP = "probe_ownership"
    DIG_INTO_RESULT = "dig_into_result"
    COVER_DIMENSION = "cover_dimension"


@strawberry.type(description="One point on a dimension's scale and the behaviour that earns it.")
class RubricLevel:
    score: int
    anchor: str


@strawberry.type
class RubricDimension:
    key: str
    name: str
    weight: float
    kind: RubricDimensionKind = strawberry.field(description="SOFT dimensions are suggestions for a human.")
    must_have: bool
    levels: list[RubricLevel]
    keywords: list[str]


@strawberry.type(description="Weighted dimensions a job's interviews are scored against.")
class Rubric:
    rubric_id: str
    version: str
    name: str
    dimensions: list[RubricDimension]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rubric:
        return cls(
            rubric_id=data["rubric_id"],
            version=data["version"],
            name=data.get("name") or "",
            dimensions=[
                RubricDimension(
                    key=d["key"],
                    name=d["name"],
                    weight=d["weight"],
                    kind=RubricDimensionKind(d["kind"]),
                    must_have=bool(d.get("must_have", False)),
                    levels=[RubricLevel(score=lv["score"], anchor=lv["anchor"]) for lv in d["levels"]],
                    keywords=list(d.get("keywords", [])),
                )
                for d in data["dimensions"]
            ],
        )


@strawberry.type
class ConsentEntry:
    purpose: str
    granted: bool
    granted_at: datetime | None
    source: str | None


@strawberry.type(description="One answer of an interview, as transcribed.")
class InterviewAnswer:
    question_id: str
    question: str | None
    transcript: str
    dimension_keys: list[str]


@strawberry.type(description="An AI interview: the candidate's answers (personal) and the consent given with them.")
class InterviewSession(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    status: str
    channel: str | None
    submitted_at: datetime | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> InterviewSession:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("InterviewSession", row.id)),
            status=row.status,
            channel=row.channel,
            submitted_at=row.submitted_at,
            created_at=row.created_at,
        )

    @strawberry.field
    def application(self, info: Info) -> Application | None:
        if self._row.application_id is None:
            return None
        return related(info, "application", self._row.application_id, Application.from_row, many=False)

    @strawberry.field(description="Consent records given with this session (shown per the field policy).")
    def consent(self, info: Info) -> list[ConsentEntry] | None:
        value, _ = visible_json(info, "interview_session", "consent", self._row, self._row.candidate_id)
        if value is None:
            return None
        return [
            ConsentEntry(
                purpose=c.get("purpose", "ai_scoring"),
                granted=bool(c.get("granted")),
                granted_at=datetime.fromisoformat(c["granted_at"]) if c.get("granted_at") else None,
                source=c.get("source"),
            )
            for c in value
        ]

    @strawberry.field(description="The answers with transcripts (personal: clear or hidden per the field policy).")
    def answers(self, info: Info) -> list[InterviewAnswer] | None:
        value = info.context.presenter.present("interview_session", "answers", self._row, self._row.candidate_id)
        if value is None:
            return None
        try:
            items = json.loads(value)
        except (TypeError, ValueError):
            return None  # masked: a redacted document is not shown piecemeal
        tagged = {q.get("question_id"): q.get("dimension_keys") or [] for q in self._row.questions or []}
        return [
            InterviewAnswer(
                question_id=str(a.get("question_id", "")),
                question=a.get("question"),
                transcript=str(a.get("transcript", "")),
                dimension_keys=list(a.get("dimension_keys") or tagged.get(a.get("question_id")) or []),
            )
            for a in items
        ]

    @strawberry.field(description="AI evaluations of this session, newest first (one per rubric version).")
    def evaluations(self, info: Info) -> list[Evaluation]:
        return related(info, "evaluations_by_session", self._row.id, Evaluation.from_row, many=True)


@strawberry.type
class OutlineQuestion:
    text: str
    purpose: OutlinePurpose
    dimension_keys: list[str] = strawberry.field(description="The rubric dimensions the answer is scored on.")
    resume_evidence: EvidenceSpan | None = strawberry.field(
        description="The resume text that prompted the question (shown per the policy for resume.text)."
    )
    listen_for: list[str]
    skill: str | None


@strawberry.type(description="Questions aimed at one candidate for one job, tied to the rubric and the resume.")
class InterviewOutline(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    coverage: float | None = strawberry.field(description="Share of the rubric's weight with at least one question.")
    language: str | None
    candidate_type: CandidateType | None
    missing_must_have: list[str]
    rubric_version: str | None
    engine_version: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> InterviewOutline:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("InterviewOutline", row.id)),
            coverage=row.coverage,
            language=row.language,
            candidate_type=CandidateType(row.candidate_type) if row.candidate_type else None,
            missing_must_have=list(row.missing_must_have or []),
            rubric_version=row.rubric_version,
            engine_version=row.engine_version,
            created_at=row.created_at,
        )

    @strawberry.field
    def questions(self, info: Info) -> list[OutlineQuestion]:
        quotes = _resume_quotes(info)
        out = []
        for q in self._row.questions or []:
            evidence = q.get("resume_evidence")
            span = None
            if evidence is not None and quotes is not Visibility.HIDDEN:
                text = "***" if quotes is Visibility.MASKED else evidence["text"]
                span = EvidenceSpan(text=text, start=evidence["start"], end=evidence["end"])
            out.append(
                OutlineQuestion(
                    text=q["text"],
                    purpose=OutlinePurpose(q["purpose"]),
                    dimension_keys=list(q.get("dimension_keys", [])),
                    resume_evidence=span,
                    listen_for=list(q.get("listen_for", [])),
                    skill=q.get("skill_id"),
                )
            )
        return out

    @strawberry.field
    def application(self, info: Info) -> Application:
        return related(info, "application", self._row.application_id, Application.from_row, many=False)


def _resume_quotes(info: Info) -> Visibility:
    """How the viewer may see quotes from a resume: as the tenant's policy shows them ``resume.text``."""
    decide = getattr(info.context.presenter, "decide", None)
    if decide is None:
        return Visibility.CLEAR
    return decide("resume", "text", False).visibility  # type: ignore[no-any-return]


def application_outline(info: Info, application_id: uuid.UUID) -> Any:
    """``Application.outline``: the most recent outline generated for the application."""
    return related(info, "latest_outline", application_id, InterviewOutline.from_row, many=False)


def application_sessions(info: Info, application_id: uuid.UUID) -> Any:
    """``Application.interviewSessions``: the application's AI interview sessions, newest first."""
    return related(info, "interview_sessions_by_application", application_id, InterviewSession.from_row, many=True)
