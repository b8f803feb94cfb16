"""Job requirements: what a job asks of a resume, configured per job by HR.

Skill ids come from the gazetteer; :meth:`JobRequirements.build` accepts names and aliases in either
language (``"SW"``, ``"投诉处理"``, ``"CRM系统"``) so HR never types ids. Requirements serialize with
``to_dict``/``from_dict`` (the hub stores them on the job).

Example:
    >>> JobRequirements.build(must_have=["SW"], nice_to_have={"投诉处理": 2}).must_have
    ('solidworks',)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from engines.features import EDUCATION_LEVELS, EducationLevel
from engines.gazetteer import get_gazetteer

__all__ = ["JobRequirements", "Knockout", "KnockoutKind", "WeightedSkill"]

KnockoutKind = Literal["skill", "keyword", "years_below", "education_below"]


@dataclass(frozen=True, slots=True)
class WeightedSkill:
    """A nice-to-have skill and its relative weight (weights are normalized within the job)."""

    skill_id: str
    weight: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"skill_id": self.skill_id, "weight": self.weight}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WeightedSkill:
        """Inverse of :meth:`to_dict`."""
        return cls(str(data["skill_id"]), float(data.get("weight", 1.0)))


@dataclass(frozen=True, slots=True)
class Knockout:
    """A condition that makes a candidate not recommended, whatever the score.

    Kinds:
        ``skill``: the resume claims skill ``value`` (a skill id), e.g. a tool the role must not bring.
        ``keyword``: ``value`` appears in the resume text (case- and width-insensitive); needs the text.
        ``years_below``: stated years are below ``float(value)`` (a hard floor, unlike ``min_years``).
        ``education_below``: stated education is below level ``value``.
    A knock-out hits only on evidence: unknown years or education never knock a candidate out.
    """

    kind: KnockoutKind
    value: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("skill", "keyword", "years_below", "education_below"):
            raise ValueError(f"unknown knock-out kind {self.kind!r}")
        if self.kind == "education_below" and self.value not in EDUCATION_LEVELS:
            raise ValueError(f"unknown education level {self.value!r}")
        if self.kind == "years_below":
            float(self.value)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"kind": self.kind, "value": self.value, "detail": self.detail}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Knockout:
        """Inverse of :meth:`to_dict`."""
        return cls(cast(KnockoutKind, data["kind"]), str(data["value"]), str(data.get("detail", "")))


@dataclass(frozen=True, slots=True)
class JobRequirements:
    """What a job asks for. Skill ids come from the gazetteer; :meth:`build` accepts names and aliases."""

    must_have: tuple[str, ...] = ()
    nice_to_have: tuple[WeightedSkill, ...] = ()
    min_years: float | None = None
    min_education: EducationLevel | None = None
    knockouts: tuple[Knockout, ...] = ()
    pass_threshold: float = 60.0

    def __post_init__(self) -> None:
        if self.min_education is not None and self.min_education not in EDUCATION_LEVELS:
            raise ValueError(f"unknown education level {self.min_education!r}")
        if len(set(self.must_have)) != len(self.must_have):
            raise ValueError("must_have lists a skill twice")
        if any(w.weight <= 0 for w in self.nice_to_have):
            raise ValueError("nice-to-have weights must be positive")
        nice_ids = [w.skill_id for w in self.nice_to_have]
        if len(set(nice_ids)) != len(nice_ids) or set(nice_ids) & set(self.must_have):
            raise ValueError("a skill is listed twice across must-have and nice-to-have")

    @classmethod
    def build(
        cls,
        *,
        must_have: Iterable[str] = (),
        nice_to_have: Mapping[str, float] | Iterable[str] = (),
        min_years: float | None = None,
        min_education: EducationLevel | None = None,
        knockouts: Iterable[Knockout] = (),
        pass_threshold: float = 60.0,
    ) -> JobRequirements:
        """Requirements from skill names or aliases in either language (``"SW"``, ``"投诉处理"``).

        Raises:
            ValueError: a name the gazetteer does not know (HR should see this when configuring a job).
        """
        weights = dict(nice_to_have) if isinstance(nice_to_have, Mapping) else dict.fromkeys(nice_to_have, 1.0)
        resolved_knockouts = tuple(
            Knockout(k.kind, _resolve(k.value), k.detail) if k.kind == "skill" else k for k in knockouts
        )
        return cls(
            must_have=tuple(dict.fromkeys(_resolve(n) for n in must_have)),
            nice_to_have=tuple(WeightedSkill(_resolve(n), float(w)) for n, w in weights.items()),
            min_years=min_years,
            min_education=min_education,
            knockouts=resolved_knockouts,
            pass_threshold=pass_threshold,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (what the hub stores on the job)."""
        return {
            "must_have": list(self.must_have),
            "nice_to_have": [w.to_dict() for w in self.nice_to_have],
            "min_years": self.min_years,
            "min_education": self.min_education,
            "knockouts": [k.to_dict() for k in self.knockouts],
            "pass_threshold": self.pass_threshold,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRequirements:
        """Inverse of :meth:`to_dict`."""
        years = data.get("min_years")
        return cls(
            must_have=tuple(str(s) for s in data.get("must_have", ())),
            nice_to_have=tuple(WeightedSkill.from_dict(w) for w in data.get("nice_to_have", ())),
            min_years=None if years is None else float(years),
            min_education=cast("EducationLevel | None", data.get("min_education")),
            knockouts=tuple(Knockout.from_dict(k) for k in data.get("knockouts", ())),
            pass_threshold=float(data.get("pass_threshold", 60.0)),
        )


def _resolve(name: str) -> str:
    gazetteer = get_gazetteer()
    if name in gazetteer.skills:
        return name
    skill_id = gazetteer.resolve(name)
    if skill_id is None:
        raise ValueError(f"unknown skill {name!r}")
    return skill_id
