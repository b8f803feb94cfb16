"""AI results as clients see them: evaluations of interview sessions (screening results and outlines are in
:mod:`schema.types.screening` and :mod:`schema.types.interviews`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from schema.prefetch import related
from schema.relay import Node, encode_global_id

if TYPE_CHECKING:
    from schema.types.interviews import InterviewSession
    from schema.types.recruiting import Application

__all__ = ["AnswerEvidence", "DimensionScore", "Evaluation", "EvaluationOverride"]


@strawberry.type(description="A span of one answer's transcript: `text == transcript[start:end]`.")
class AnswerEvidence:
    answer_index: int
    question_id: str
    signal: str = strawberry.field(description="What the span shows: led, independent, used, assisted, topic...")
    text: str
    start: int
    end: int


@strawberry.type(description="One rubric dimension's score with the evidence behind it.")
class DimensionScore:
    key: str
    score: float | None = strawberry.field(description="Rubric level 1-5, or null for insufficient evidence.")
    confidence: str
    needs_human: bool
    keywords: list[str]
    level_anchor: str | None
    rationale: str | None
    evidence: list[AnswerEvidence]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DimensionScore:
        return cls(
            key=data["key"],
            score=data.get("score"),
            confidence=data.get("confidence", "high"),
            needs_human=bool(data.get("needs_human", False)),
            keywords=list(data.get("keywords", [])),
            level_anchor=data.get("level_anchor"),
            rationale=data.get("rationale"),
            evidence=[
                AnswerEvidence(
                    answer_index=e["answer_index"],
                    question_id=e["question_id"],
                    signal=e["signal"],
                    text=e["text"],
                    start=e["start"],
                    end=e["end"],
                )
                for e in data.get("evidence", [])
            ],
        )


@strawberry.type(description="A person's override of an AI evaluation; the AI result stays beside it.")
class EvaluationOverride:
    total: float | None
    recommendation: str
    note: str | None
    decided_by: str
    decided_at: datetime


@strawberry.type
class Evaluation(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    total: float | None
    recommendation: str | None
    engine_version: str | None
    rubric_version: str | None = strawberry.field(description="The rubric scored against: id@version#digest.")
    coverage: float | None = strawberry.field(description="Share of the rubric's weight the answers could score.")
    missing_must_have: list[str]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Evaluation:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("Evaluation", row.id)),
            total=row.total,
            recommendation=row.recommendation,
            engine_version=row.engine_version,
            rubric_version=row.rubric_version,
            coverage=row.coverage,
            missing_must_have=list(row.missing_must_have or []),
            created_at=row.created_at,
        )

    @strawberry.field(description="Per-dimension scores with evidence quoted from the answers (per the field policy).")
    def dimensions(self, info: Info) -> list[DimensionScore] | None:
        value = info.context.presenter.present("evaluation", "dimension_scores", self._row, _own(info))
        return None if value is None else [DimensionScore.from_json(d) for d in value]

    @strawberry.field(description="A person's override, if any (per the field policy).")
    def override(self, info: Info) -> EvaluationOverride | None:
        value = info.context.presenter.present("evaluation", "override", self._row, _own(info))
        if not value:
            return None
        return EvaluationOverride(
            total=value.get("total"),
            recommendation=value["recommendation"],
            note=value.get("note"),
            decided_by=value["by"],
            decided_at=datetime.fromisoformat(value["at"]),
        )

    @strawberry.field
    def application(self, info: Info) -> Annotated[Application, strawberry.lazy("schema.types.recruiting")]:
        from schema.types.recruiting import Application

        return related(info, "application", self._row.application_id, Application.from_row, many=False)

    @strawberry.field
    def session(self, info: Info) -> Annotated[InterviewSession, strawberry.lazy("schema.types.interviews")] | None:
        from schema.types.interviews import InterviewSession

        if self._row.session_id is None:
            return None
        return related(info, "interview_session", self._row.session_id, InterviewSession.from_row, many=False)


def _own(info: Info) -> Any:
    """A candidate reads only evaluations of their own applications (the store filters the rows), so
    for them the record's subject is themselves; for staff the role rules apply."""
    viewer = info.context.viewer
    return viewer.candidate_id if viewer.roles == frozenset({"candidate"}) else None
