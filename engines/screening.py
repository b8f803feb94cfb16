"""Screening: score resume features against a job's requirements, explain, and rank.

The engine recommends; it never rejects. ``passed`` means "recommended for the shortlist"; a person
makes the decision and can override any result.

Scoring, on a 0-100 scale, out of component budgets that always add up to 100 (components the job does
not use are dropped and the rest scaled up):

========================  ======  ==========================================================
component                 budget  points
========================  ======  ==========================================================
must-have skills          60      equal share each, times the involvement factor
nice-to-have skills       25      share by weight, times the involvement factor
minimum years             10      full when met, else in proportion (0 when not stated)
minimum education         5       full when met, else 0
========================  ======  ==========================================================

Involvement factors: led 1.0 > used 0.9 > participated 0.75 > listed 0.6 (a skill only listed under a
skills heading counts, but less than one shown in projects or experience).

Points are multiples of 1/8, so every reason's points are exact binary floats and the reasons' points add
up to the score EXACTLY (``sum(r.points for r in outcome.reasons) == outcome.score``). A candidate passes
when no must-have is missing or negated, no knock-out hits and the score reaches ``pass_threshold``.

Screening never runs NLP: :func:`screen` takes cached :class:`~engines.features.ResumeFeatures`, and
:func:`screen_cached` takes their JSON form (``ResumeFeatures.to_dict()``) directly, building evidence
objects only for the skills the job asks about, which is what makes re-screening a library of 80,000 for a
new job take seconds. Both share one scoring core.

Example:
    >>> req = JobRequirements.build(must_have=["Java", "MySQL"], nice_to_have={"Redis": 2}, min_years=3)
    >>> outcome = screen(extract_features("工作经历\\n2018.03-2023.03 负责订单系统，使用Java和MySQL"), req)
    >>> outcome.passed, [r.code.value for r in outcome.reasons]  # doctest: +SKIP
    (True, ['MUST_HAVE_MET', 'MUST_HAVE_MET', 'YEARS_MET'])
"""

from __future__ import annotations

import enum
import gc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engines.evidence import Evidence
from engines.features import EDUCATION_RANK, ResumeFeatures
from engines.gazetteer import get_gazetteer, resolve_skill
from engines.normalize import ascii_lower, normalize_width
from engines.requirements import JobRequirements, Knockout, WeightedSkill
from engines.screening_input import (
    MAX_EVIDENCE,
    ResumeView,
    StoredEvidence,
    evidence_of,
    view_of_dict,
    view_of_features,
)

__all__ = [
    "INVOLVEMENT_FACTOR",
    "JobRequirements",
    "Knockout",
    "Reason",
    "ReasonCode",
    "ScreeningOutcome",
    "WeightedSkill",
    "rank",
    "resolve_skill",
    "screen",
    "screen_cached",
    "screen_many",
]

INVOLVEMENT_FACTOR: dict[str, float] = {"led": 1.0, "used": 0.9, "participated": 0.75, "listed": 0.6}
_BUDGET = {"must": 60, "nice": 25, "years": 10, "education": 5}
_QUANTUM = 8  # points are integer eighths: exact in binary floating point
# A reason before it is built: code, points in eighths, skill id, detail, evidence in stored form.
_Spec = tuple["ReasonCode", int, str | None, str, Sequence[StoredEvidence]]


class ReasonCode(enum.StrEnum):
    """The closed set of reasons a screening result can give."""

    MUST_HAVE_MET = "MUST_HAVE_MET"
    MUST_HAVE_MISSING = "MUST_HAVE_MISSING"
    MUST_HAVE_NEGATED = "MUST_HAVE_NEGATED"
    NICE_TO_HAVE_MET = "NICE_TO_HAVE_MET"
    YEARS_MET = "YEARS_MET"
    YEARS_BELOW_MINIMUM = "YEARS_BELOW_MINIMUM"
    EDUCATION_MET = "EDUCATION_MET"
    EDUCATION_BELOW_MINIMUM = "EDUCATION_BELOW_MINIMUM"
    KNOCKOUT_HIT = "KNOCKOUT_HIT"


@dataclass(frozen=True, slots=True)
class Reason:
    """One line of an explanation: a code, the points it contributed and the evidence behind it."""

    code: ReasonCode
    points: float
    skill_id: str | None
    detail: str
    evidence: tuple[Evidence, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "code": self.code.value,
            "points": self.points,
            "skill_id": self.skill_id,
            "detail": self.detail,
            "evidence": [e.to_dict() for e in self.evidence],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reason:
        """Inverse of :meth:`to_dict`."""
        skill = data.get("skill_id")
        return cls(
            code=ReasonCode(data["code"]),
            points=float(data["points"]),
            skill_id=None if skill is None else str(skill),
            detail=str(data.get("detail", "")),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence", ())),
        )


class ScreeningOutcome:
    """Score (0-100), the recommendation and the reasons whose points add up to the score.

    Immutable. Reasons built by :func:`screen` are materialized on first access: ranking a library of
    80,000 needs only scores, and the explanations cost more than the scoring, so they are built for the
    results someone (or something) reads.
    """

    __slots__ = ("_passed", "_reasons", "_score", "_specs")

    def __init__(self, score: float, passed: bool, reasons: Iterable[Reason] = ()) -> None:
        self._score = float(score)
        self._passed = bool(passed)
        self._reasons: tuple[Reason, ...] | None = tuple(reasons)
        self._specs: list[_Spec] | None = None

    @classmethod
    def _deferred(cls, score: float, passed: bool, specs: list[_Spec]) -> ScreeningOutcome:
        outcome = cls.__new__(cls)
        outcome._score, outcome._passed, outcome._reasons, outcome._specs = score, passed, None, specs
        return outcome

    @property
    def score(self) -> float:
        """0 to 100, the exact sum of the reasons' points."""
        return self._score

    @property
    def passed(self) -> bool:
        """Recommended for the shortlist (a person decides)."""
        return self._passed

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """The explanation, in requirement order: must-haves, nice-to-haves, years, education, knock-outs."""
        if self._reasons is None:
            self._reasons = tuple(
                Reason(code, eighths / _QUANTUM, skill_id, detail, tuple(evidence_of(e) for e in stored))
                for code, eighths, skill_id, detail, stored in self._specs or ()
            )
            self._specs = None
        return self._reasons

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScreeningOutcome):
            return NotImplemented
        return (self.score, self.passed, self.reasons) == (other.score, other.passed, other.reasons)

    def __hash__(self) -> int:
        return hash((self.score, self.passed, self.reasons))

    def __repr__(self) -> str:
        return f"ScreeningOutcome(score={self.score!r}, passed={self.passed!r}, reasons={self.reasons!r})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {"score": self.score, "passed": self.passed, "reasons": [r.to_dict() for r in self.reasons]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScreeningOutcome:
        """Inverse of :meth:`to_dict`."""
        return cls(
            score=float(data["score"]),
            passed=bool(data["passed"]),
            reasons=tuple(Reason.from_dict(r) for r in data.get("reasons", ())),
        )


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split integer ``total`` in proportion to ``weights``; the parts add up to ``total`` exactly."""
    if not weights:
        return []
    scale = sum(weights)
    raw = [total * w / scale for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True, slots=True)
class _Plan:
    """Per-job budgets in eighths and the skills the job asks about, computed once per requirements."""

    must: tuple[tuple[str, int], ...]
    nice: tuple[tuple[str, int], ...]
    years: int
    education: int
    names: dict[str, str]
    wanted: frozenset[str]


@lru_cache(maxsize=256)
def _plan(requirements: JobRequirements) -> _Plan:
    used = {
        "must": bool(requirements.must_have),
        "nice": bool(requirements.nice_to_have),
        "years": requirements.min_years is not None and requirements.min_years > 0,
        "education": requirements.min_education is not None,
    }
    keys = [k for k in _BUDGET if used[k]]
    split = dict(zip(keys, _largest_remainder(100 * _QUANTUM, [float(_BUDGET[k]) for k in keys]), strict=True))
    must_parts = _largest_remainder(split.get("must", 0), [1.0] * len(requirements.must_have))
    nice_parts = _largest_remainder(split.get("nice", 0), [w.weight for w in requirements.nice_to_have])
    gazetteer = get_gazetteer()
    knockout_skills = [k.value for k in requirements.knockouts if k.kind == "skill"]
    ids = [*requirements.must_have, *(w.skill_id for w in requirements.nice_to_have)]
    return _Plan(
        must=tuple(zip(requirements.must_have, must_parts, strict=True)),
        nice=tuple(zip((w.skill_id for w in requirements.nice_to_have), nice_parts, strict=True)),
        years=split.get("years", 0),
        education=split.get("education", 0),
        names={s: gazetteer.name(s) for s in ids},
        wanted=frozenset([*ids, *knockout_skills]),
    )


def _q(eighths: int) -> float:
    return eighths / _QUANTUM


def _score(plan: _Plan, requirements: JobRequirements, resume: ResumeView, text: str | None) -> ScreeningOutcome:
    # Reasons are collected as specs (code, eighths, skill, detail, stored evidence) and become Reason
    # objects only when read (see ScreeningOutcome).
    specs: list[_Spec] = []
    total = 0
    blocked = False
    skills = resume.skills
    for skill_id, share in plan.must:
        facts = skills.get(skill_id)
        name = plan.names[skill_id]
        if facts is not None and facts.best is not None:
            points = int(share * INVOLVEMENT_FACTOR[facts.best])
            total += points
            specs.append((ReasonCode.MUST_HAVE_MET, points, skill_id, f"{name}: {facts.best}", facts.top()))
        elif facts is not None:
            blocked = True
            detail = f"{name}: the resume says no"
            specs.append((ReasonCode.MUST_HAVE_NEGATED, 0, skill_id, detail, facts.negative[:MAX_EVIDENCE]))
        else:
            blocked = True
            specs.append((ReasonCode.MUST_HAVE_MISSING, 0, skill_id, f"{name}: not found", ()))
    for skill_id, share in plan.nice:
        facts = skills.get(skill_id)
        if facts is not None and facts.best is not None:
            points = int(share * INVOLVEMENT_FACTOR[facts.best])
            total += points
            detail = f"{plan.names[skill_id]}: {facts.best}"
            specs.append((ReasonCode.NICE_TO_HAVE_MET, points, skill_id, detail, facts.top()))
    if plan.years:
        minimum = float(requirements.min_years or 0.0)
        years = resume.years
        evidence = resume.years_evidence[:MAX_EVIDENCE]
        if years is not None and years >= minimum:
            total += plan.years
            specs.append((ReasonCode.YEARS_MET, plan.years, None, f"{years:g} >= {minimum:g} years", evidence))
        else:
            points = 0 if years is None else int(plan.years * years / minimum)
            total += points
            detail = "years not stated" if years is None else f"{years:g} < {minimum:g} years"
            specs.append((ReasonCode.YEARS_BELOW_MINIMUM, points, None, detail, evidence))
    if plan.education:
        minimum_level = str(requirements.min_education)
        level = resume.education
        edu_evidence = () if resume.education_evidence is None else (resume.education_evidence,)
        if level is not None and EDUCATION_RANK[level] >= EDUCATION_RANK[minimum_level]:
            total += plan.education
            detail = f"{level} >= {minimum_level}"
            specs.append((ReasonCode.EDUCATION_MET, plan.education, None, detail, edu_evidence))
        else:
            detail = "education not stated" if level is None else f"{level} < {minimum_level}"
            specs.append((ReasonCode.EDUCATION_BELOW_MINIMUM, 0, None, detail, edu_evidence))
    for knockout in requirements.knockouts:
        hit = _knockout_hit(knockout, resume, text)
        if hit is not None:
            blocked = True
            specs.append(hit)
    score = _q(total)
    return ScreeningOutcome._deferred(score, not blocked and score >= requirements.pass_threshold, specs)


def _knockout_hit(knockout: Knockout, resume: ResumeView, text: str | None) -> _Spec | None:
    detail = knockout.detail or f"{knockout.kind}: {knockout.value}"
    if knockout.kind == "skill":
        facts = resume.skills.get(knockout.value)
        if facts is not None and facts.best is not None:
            return (ReasonCode.KNOCKOUT_HIT, 0, knockout.value, detail, facts.top())
        return None
    if knockout.kind == "keyword":
        if text is None:
            raise ValueError("a keyword knock-out needs the resume text: screen(..., text=...)")
        needle = ascii_lower(normalize_width(knockout.value))
        start = ascii_lower(normalize_width(text)).find(needle) if needle else -1
        if start < 0:
            return None
        return (ReasonCode.KNOCKOUT_HIT, 0, None, detail, (Evidence.from_span(text, start, start + len(needle)),))
    if knockout.kind == "years_below":
        if resume.years is not None and resume.years < float(knockout.value):
            return (ReasonCode.KNOCKOUT_HIT, 0, None, detail, resume.years_evidence[:MAX_EVIDENCE])
        return None
    level = resume.education
    if level is not None and EDUCATION_RANK[level] < EDUCATION_RANK[knockout.value]:
        evidence = () if resume.education_evidence is None else (resume.education_evidence,)
        return (ReasonCode.KNOCKOUT_HIT, 0, None, detail, evidence)
    return None


def screen(features: ResumeFeatures, requirements: JobRequirements, *, text: str | None = None) -> ScreeningOutcome:
    """Score one resume's features against a job.

    Args:
        features: cached features of the resume (from :func:`engines.extract.extract_features`).
        requirements: the job's requirements.
        text: the resume text; needed only when the job has ``keyword`` knock-outs.

    Raises:
        ValueError: a ``keyword`` knock-out without ``text`` (silently skipping it would be wrong).
    """
    plan = _plan(requirements)
    return _score(plan, requirements, view_of_features(features, plan.wanted), text)


def screen_cached(
    data: Mapping[str, Any], requirements: JobRequirements, *, text: str | None = None
) -> ScreeningOutcome:
    """:func:`screen` on the JSON form of features (``ResumeFeatures.to_dict()``), without rebuilding them.

    Gives the same outcome as ``screen(ResumeFeatures.from_dict(data), requirements)``, several times
    faster, because only the requested skills' mentions are read.
    """
    plan = _plan(requirements)
    return _score(plan, requirements, view_of_dict(data, plan.wanted), text)


def screen_many(
    features_by_id: Mapping[str, ResumeFeatures | Mapping[str, Any]],
    requirements: JobRequirements,
    *,
    texts: Mapping[str, str] | None = None,
) -> dict[str, ScreeningOutcome]:
    """Screen a library of cached features (objects or their JSON form); no NLP runs.

    The cyclic garbage collector is paused for the loop: screening allocates about a million small,
    acyclic objects for 80,000 resumes, and each collection it would trigger walks the whole cached
    library (measured: 3x the run time). Reference counting still frees everything.
    """
    plan = _plan(requirements)
    out: dict[str, ScreeningOutcome] = {}
    with _gc_paused():
        for key, item in features_by_id.items():
            if isinstance(item, ResumeFeatures):
                resume = view_of_features(item, plan.wanted)
            else:
                resume = view_of_dict(item, plan.wanted)
            out[key] = _score(plan, requirements, resume, None if texts is None else texts.get(key))
    return out


@contextmanager
def _gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rank(outcomes_by_id: Mapping[str, ScreeningOutcome]) -> list[tuple[str, ScreeningOutcome, int]]:
    """Order results: recommended first, then by score, ties broken by id. Ranks are 1-based and unique.

    Deterministic for the same input whatever the mapping's order. The garbage collector is paused as in
    :func:`screen_many` (sorting 80,000 results allocates as many key tuples).
    """
    with _gc_paused():
        ordered = sorted(outcomes_by_id.items(), key=lambda item: (not item[1].passed, -item[1].score, item[0]))
        return [(key, outcome, position) for position, (key, outcome) in enumerate(ordered, start=1)]
