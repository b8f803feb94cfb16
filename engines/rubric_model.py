"""Interview rubrics as data: weighted dimensions whose levels are anchored in observable behaviour.

:class:`Rubric`, :class:`Dimension` and :class:`Level` validate on construction and round-trip through
their dict form (errors are :class:`RubricError`, naming the dimension and field); the rubrics shipped for a
few role families load from ``engines/data/rubrics/`` (:func:`default_rubrics`). Import them from
:mod:`engines.rubric`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, get_args

__all__ = [
    "DEFAULT_RUBRIC_IDS",
    "MAX_LEVEL",
    "MIN_LEVEL",
    "Dimension",
    "DimensionKind",
    "Level",
    "Rubric",
    "RubricError",
    "default_rubrics",
    "load_default_rubric",
]


DimensionKind = Literal["hard", "soft"]

#: Ids of the rubrics shipped in ``engines/data/rubrics/``.
DEFAULT_RUBRIC_IDS: tuple[str, ...] = (
    "backend_engineer",
    "mechanical_designer",
    "customer_service_lead",
    "sales",
)

MIN_LEVEL = 1
MAX_LEVEL = 5


class RubricError(ValueError):
    """A rubric (or its dict form) is not valid; the message names the offending dimension or field."""


@dataclass(frozen=True, slots=True)
class Level:
    """One point on a dimension's scale: a score from 1 to 5 and the behaviour that earns it."""

    score: int
    anchor: str

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int):
            raise RubricError(f"level score must be an integer, got {self.score!r}")
        if not MIN_LEVEL <= self.score <= MAX_LEVEL:
            raise RubricError(f"level score {self.score} outside {MIN_LEVEL}..{MAX_LEVEL}")
        if not self.anchor.strip():
            raise RubricError(f"level {self.score} has an empty anchor")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"score": self.score, "anchor": self.anchor}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Level:
        """Inverse of :meth:`to_dict`."""
        return cls(score=_int(data, "score"), anchor=_str(data, "anchor"))


@dataclass(frozen=True, slots=True)
class Dimension:
    """One weighted thing the interview assesses.

    Attributes:
        key: stable id used by questions, answers and reports (``"modeling_3d"``).
        name: display name (``"三维建模"`` or ``"3D modeling"``); also a source of topic cues.
        weight: positive relative weight in the total.
        kind: ``hard`` (skills and knowledge) or ``soft`` (communication, logic, teamwork...). Soft
            dimensions are always reported as low-confidence suggestions for a human.
        must_have: the job cannot do without it; a missing or weak must-have sends the report to review.
        levels: behaviour anchors, unique scores from 1 to 5, stored highest first.
        keywords: optional extra topic words (any language) that show an answer is about this dimension.
    """

    key: str
    name: str
    weight: float
    kind: DimensionKind
    must_have: bool
    levels: tuple[Level, ...]
    keywords: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key.strip():
            raise RubricError("dimension key is empty")
        if not self.name.strip():
            raise RubricError(f"dimension {self.key!r} has an empty name")
        if isinstance(self.weight, bool) or not isinstance(self.weight, int | float):
            raise RubricError(f"dimension {self.key!r}: weight must be a number")
        if not self.weight > 0 or self.weight != self.weight or self.weight == float("inf"):
            raise RubricError(f"dimension {self.key!r}: weight must be positive and finite, got {self.weight}")
        if self.kind not in get_args(DimensionKind):
            raise RubricError(f"dimension {self.key!r}: kind must be 'hard' or 'soft', got {self.kind!r}")
        if not self.levels:
            raise RubricError(f"dimension {self.key!r} has no levels")
        scores = [level.score for level in self.levels]
        if len(set(scores)) != len(scores):
            raise RubricError(f"dimension {self.key!r}: level scores must be unique, got {scores}")
        anchors = [level.anchor.strip() for level in self.levels]
        if len(set(anchors)) != len(anchors):
            raise RubricError(f"dimension {self.key!r}: level anchors must be unique")
        # Highest first, so reports and compiled cues read the same way whatever order came in.
        ordered = tuple(sorted(self.levels, key=lambda level: -level.score))
        object.__setattr__(self, "levels", ordered)
        object.__setattr__(self, "weight", float(self.weight))
        object.__setattr__(self, "keywords", tuple(k for k in self.keywords if k.strip()))

    def level(self, score: int) -> Level | None:
        """The level with exactly ``score``, if the dimension defines it."""
        for level in self.levels:
            if level.score == score:
                return level
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        data: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "weight": self.weight,
            "kind": self.kind,
            "must_have": self.must_have,
            "levels": [level.to_dict() for level in self.levels],
        }
        if self.keywords:
            data["keywords"] = list(self.keywords)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Dimension:
        """Inverse of :meth:`to_dict`; raises :class:`RubricError` on a malformed dict."""
        key = _str(data, "key")
        levels = data.get("levels")
        if not isinstance(levels, list | tuple):
            raise RubricError(f"dimension {key!r}: 'levels' must be a list")
        keywords = data.get("keywords", ())
        if not isinstance(keywords, list | tuple) or not all(isinstance(k, str) for k in keywords):
            raise RubricError(f"dimension {key!r}: 'keywords' must be a list of strings")
        weight = data.get("weight")
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise RubricError(f"dimension {key!r}: 'weight' must be a number")
        must_have = data.get("must_have", False)
        if not isinstance(must_have, bool):
            raise RubricError(f"dimension {key!r}: 'must_have' must be true or false")
        return cls(
            key=key,
            name=_str(data, "name"),
            weight=float(weight),
            kind=cast(DimensionKind, _str(data, "kind")),
            must_have=must_have,
            levels=tuple(Level.from_dict(_mapping(level, "level")) for level in levels),
            keywords=tuple(keywords),
        )


@dataclass(frozen=True, slots=True)
class Rubric:
    """A versioned set of weighted dimensions a job's interviews are scored against."""

    rubric_id: str
    version: str
    dimensions: tuple[Dimension, ...]
    name: str = ""

    def __post_init__(self) -> None:
        if not self.rubric_id.strip():
            raise RubricError("rubric_id is empty")
        if not self.version.strip():
            raise RubricError(f"rubric {self.rubric_id!r} has an empty version")
        if not self.dimensions:
            raise RubricError(f"rubric {self.rubric_id!r} has no dimensions")
        keys = [dimension.key for dimension in self.dimensions]
        if len(set(keys)) != len(keys):
            raise RubricError(f"rubric {self.rubric_id!r}: dimension keys must be unique, got {keys}")

    @property
    def total_weight(self) -> float:
        """Sum of all dimension weights (the denominator of coverage)."""
        return sum(dimension.weight for dimension in self.dimensions)

    def dimension(self, key: str) -> Dimension:
        """The dimension with ``key``; raises ``KeyError`` when there is none."""
        for dimension in self.dimensions:
            if dimension.key == key:
                return dimension
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (what the hub stores on a job)."""
        return {
            "rubric_id": self.rubric_id,
            "version": self.version,
            "name": self.name,
            "dimensions": [dimension.to_dict() for dimension in self.dimensions],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rubric:
        """Inverse of :meth:`to_dict`; raises :class:`RubricError` on a malformed dict."""
        data = _mapping(data, "rubric")
        dimensions = data.get("dimensions")
        if not isinstance(dimensions, list | tuple):
            raise RubricError("rubric: 'dimensions' must be a list")
        name = data.get("name", "")
        return cls(
            rubric_id=_str(data, "rubric_id"),
            version=_str(data, "version"),
            dimensions=tuple(Dimension.from_dict(_mapping(d, "dimension")) for d in dimensions),
            name=name if isinstance(name, str) else "",
        )


def load_default_rubric(rubric_id: str) -> Rubric:
    """One of the shipped rubrics by id (see :data:`DEFAULT_RUBRIC_IDS`); ``KeyError`` when unknown."""
    rubrics = default_rubrics()
    if rubric_id not in rubrics:
        raise KeyError(rubric_id)
    return rubrics[rubric_id]


@cache
def default_rubrics() -> dict[str, Rubric]:
    """The shipped rubrics, keyed by id: backend engineer, mechanical designer, customer-service lead, sales.

    The dict is shared and cached: treat it as read-only.
    """
    folder = resources.files("engines").joinpath("data", "rubrics")
    rubrics: dict[str, Rubric] = {}
    for rubric_id in DEFAULT_RUBRIC_IDS:
        raw = json.loads(folder.joinpath(f"{rubric_id}.json").read_text(encoding="utf-8"))
        rubrics[rubric_id] = Rubric.from_dict(raw)
    return rubrics


def _mapping(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RubricError(f"{what} must be an object, got {type(value).__name__}")
    return cast(dict[str, Any], value)


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise RubricError(f"{key!r} must be a string, got {value!r}")
    return value


def _int(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RubricError(f"{key!r} must be an integer, got {value!r}")
    return value
