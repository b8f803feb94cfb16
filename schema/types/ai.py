"""AI results as clients see them: evaluations (screening results and outlines follow)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from schema.relay import Node, encode_global_id

__all__ = ["DimensionScore", "Evaluation"]


@strawberry.type(description="One rubric dimension's score with the evidence behind it.")
class DimensionScore:
    key: str
    score: float | None
    confidence: str
    needs_human: bool
    keywords: list[str]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DimensionScore:
        return cls(
            key=data["key"],
            score=data.get("score"),
            confidence=data.get("confidence", "high"),
            needs_human=bool(data.get("needs_human", False)),
            keywords=list(data.get("keywords", [])),
        )


@strawberry.type
class Evaluation(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    total: float | None
    recommendation: str | None
    engine_version: str | None
    dimensions: list[DimensionScore]
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Evaluation:
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("Evaluation", row.id)),
            total=row.total,
            recommendation=row.recommendation,
            engine_version=row.engine_version,
            dimensions=[DimensionScore.from_json(d) for d in row.dimension_scores or []],
            created_at=row.created_at,
        )
