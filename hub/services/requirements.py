"""A job's screening requirements as HR configures them, resolved into the engine's terms.

Jobs store requirements the way the GraphQL input spells them (``JobRequirementsInput``): skill names or
aliases in either language, nice-to-haves with weights, and knock-outs as strings. A knock-out string is

==============================  ===================================================================
``"Kubernetes"``                a skill (any name or alias): the resume claims it -> not recommended
``"skill:Kubernetes"``          the same, spelled out
``"keyword:竞业限制"``            the text appears in the resume (case- and width-insensitive)
``"years_below:2"``             stated years below 2 (a hard floor, unlike ``minYears``)
``"education_below:bachelor"``  stated education below the level
==============================  ===================================================================

:func:`resolve_requirements` turns them into :class:`engines.screening.JobRequirements` with skill ids
and answers ``VALIDATION_FAILED`` naming every unknown skill at once, so HR fixes them in one go.

Example:
    >>> resolve_requirements({"must_have": ["SW"], "knockouts": ["keyword:外包"]}).must_have
    ('solidworks',)
"""

from __future__ import annotations

from typing import Any

from engines.features import EDUCATION_LEVELS
from engines.screening import JobRequirements, Knockout, WeightedSkill, resolve_skill
from schema.errors import ValidationFailed

__all__ = ["needs_resume_text", "resolve_requirements"]

_KNOCKOUT_KINDS = ("skill", "keyword", "years_below", "education_below")


def _knockout(raw: str, unknown: list[str]) -> Knockout | None:
    kind, sep, value = raw.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in _KNOCKOUT_KINDS:
        kind, value = "skill", raw
    value = value.strip()
    if not value:
        raise ValidationFailed(f"knock-out {raw!r} has no value", field="requirements.knockouts")
    if kind == "skill":
        skill_id = resolve_skill(value)
        if skill_id is None:
            unknown.append(value)
            return None
        return Knockout("skill", skill_id, raw)
    if kind == "years_below":
        try:
            years = float(value)
        except ValueError:
            raise ValidationFailed(
                f"knock-out {raw!r}: years_below needs a number", field="requirements.knockouts"
            ) from None
        return Knockout("years_below", f"{years:g}", raw)
    if kind == "education_below" and value.lower() not in EDUCATION_LEVELS:
        raise ValidationFailed(
            f"knock-out {raw!r}: education level must be one of {list(EDUCATION_LEVELS)}",
            field="requirements.knockouts",
        )
    return Knockout(kind, value.lower() if kind == "education_below" else value, raw)  # type: ignore[arg-type]


def resolve_requirements(data: dict[str, Any] | None) -> JobRequirements:
    """The job's stored requirements as engine requirements (skill ids), or ``VALIDATION_FAILED``.

    Raises:
        ValidationFailed: no requirements at all; unknown skills (all listed in ``unknownSkills``);
            a skill listed twice; a malformed knock-out.
    """
    data = data or {}
    must = [str(s) for s in data.get("must_have") or []]
    nice = [(str(s["skill"]), float(s.get("weight", 1.0))) for s in data.get("nice_to_have") or []]
    if not must and not nice and data.get("min_years") in (None, 0) and not data.get("min_education"):
        raise ValidationFailed(
            "the job has no screening requirements: set mustHave, niceToHave, minYears or minEducation first",
            field="requirements",
        )
    unknown: list[str] = []

    def skill(name: str) -> str | None:
        skill_id = resolve_skill(name)
        if skill_id is None:
            unknown.append(name)
        return skill_id

    must_ids = [skill(n) for n in must]
    nice_ids = [(skill(n), w) for n, w in nice]
    knockouts = [_knockout(str(k), unknown) for k in data.get("knockouts") or []]
    if unknown:
        names = list(dict.fromkeys(unknown))
        raise ValidationFailed(
            f"unknown skills in the job's requirements: {', '.join(names)}. "
            "Use a skill's name or one of its aliases (Chinese or English).",
            field="requirements",
            unknownSkills=names,
        )
    try:
        return JobRequirements(
            must_have=tuple(dict.fromkeys(s for s in must_ids if s)),
            nice_to_have=tuple(WeightedSkill(s, w) for s, w in nice_ids if s),
            min_years=None if data.get("min_years") is None else float(data["min_years"]),
            min_education=data.get("min_education"),
            knockouts=tuple(k for k in knockouts if k is not None),
            pass_threshold=float(data.get("pass_threshold", 60.0)),
        )
    except ValueError as error:  # a skill twice (across must-have and nice-to-have), bad education level
        raise ValidationFailed(f"the job's requirements are inconsistent: {error}", field="requirements") from None


def needs_resume_text(requirements: JobRequirements) -> bool:
    """Keyword knock-outs read the resume text itself; everything else works from cached features."""
    return any(k.kind == "keyword" for k in requirements.knockouts)
