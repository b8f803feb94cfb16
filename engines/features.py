"""The features contract: what extraction produces and screening, scoring and outlines consume.

Features are extracted once per resume and engine version, cached by the hub as JSON (``to_dict``), and
re-read (``from_dict``) when a library is screened for a new job, so screening never re-runs NLP.

Example:
    >>> feats = ResumeFeatures.from_dict(features_dict)  # doctest: +SKIP
    >>> feats.has_skill("python"), feats.best_involvement("python")  # doctest: +SKIP
    (True, 'led')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from engines.evidence import Evidence

__all__ = [
    "EDUCATION_LEVELS",
    "EDUCATION_RANK",
    "ENGINE_VERSION",
    "INVOLVEMENTS",
    "INVOLVEMENT_RANK",
    "EducationLevel",
    "Involvement",
    "Language",
    "ResumeFeatures",
    "SkillMention",
]

#: Bump when extraction output can change for the same text (the hub re-extracts on a new version).
ENGINE_VERSION = "engines-1.0.0"

Involvement = Literal["led", "used", "participated", "listed"]
EducationLevel = Literal["none", "associate", "bachelor", "master", "phd"]
Language = Literal["zh", "en", "mixed"]

#: Strongest first.
INVOLVEMENTS: tuple[Involvement, ...] = ("led", "used", "participated", "listed")
#: Higher is stronger: led 3 > used 2 > participated 1 > listed 0.
INVOLVEMENT_RANK: dict[str, int] = {"led": 3, "used": 2, "participated": 1, "listed": 0}
#: Lowest first.
EDUCATION_LEVELS: tuple[EducationLevel, ...] = ("none", "associate", "bachelor", "master", "phd")
EDUCATION_RANK: dict[str, int] = {level: i for i, level in enumerate(EDUCATION_LEVELS)}


def _check_literal(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of {allowed}")
    return value


@dataclass(frozen=True, slots=True)
class SkillMention:
    """One occurrence of a gazetteer skill in a resume.

    Attributes:
        skill_id: stable gazetteer id (``"solidworks"``), the key requirements use.
        name: the skill's canonical display name (``"SolidWorks"``).
        involvement: how the candidate relates to it in this clause: ``led`` (主导, owned), ``used``
            (plain usage in projects or experience), ``participated`` (参与, assisted) or ``listed``
            (only named under a skills heading).
        negated: the clause denies the skill (不熟悉Go, no Kubernetes).
        section: where the mention sits: a section kind (``skills``, ``projects``, ``experience``,
            ``education``, ``summary``, ``certificates``, ``personal``, ``other``), ``header`` (above the
            first heading of a structured resume) or ``text`` (a resume without headings).
        evidence: the matched alias in the original text.
    """

    skill_id: str
    name: str
    involvement: Involvement
    negated: bool
    section: str
    evidence: Evidence

    def __post_init__(self) -> None:
        _check_literal(self.involvement, get_args(Involvement), "involvement")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "skill_id": self.skill_id,
            "name": self.name,
            "involvement": self.involvement,
            "negated": self.negated,
            "section": self.section,
            "evidence": self.evidence.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SkillMention:
        """Inverse of :meth:`to_dict`."""
        return cls(
            skill_id=str(data["skill_id"]),
            name=str(data["name"]),
            involvement=cast(Involvement, data["involvement"]),
            negated=bool(data["negated"]),
            section=str(data["section"]),
            evidence=Evidence.from_dict(data["evidence"]),
        )


@dataclass(frozen=True, slots=True)
class ResumeFeatures:
    """Everything screening needs from one resume, with evidence for each finding.

    Attributes:
        language: ``zh``, ``en`` or ``mixed``.
        skills: every skill mention in text order (a skill may appear several times).
        years_experience: total years of professional experience, or ``None`` when the resume says nothing.
        years_evidence: the stated years or date ranges that produced ``years_experience``.
        education: the highest education level found, or ``None`` when the resume says nothing.
        education_evidence: the text that named that level.
        engine_version: :data:`ENGINE_VERSION` of the extractor.
        gazetteer_version: version of the skill gazetteer used.
    """

    language: Language
    skills: tuple[SkillMention, ...]
    years_experience: float | None
    years_evidence: tuple[Evidence, ...]
    education: EducationLevel | None
    education_evidence: Evidence | None
    engine_version: str
    gazetteer_version: str
    _by_skill: dict[str, tuple[SkillMention, ...]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        _check_literal(self.language, get_args(Language), "language")
        if self.education is not None:
            _check_literal(self.education, EDUCATION_LEVELS, "education level")
        index: dict[str, list[SkillMention]] = {}
        for mention in self.skills:
            index.setdefault(mention.skill_id, []).append(mention)
        object.__setattr__(self, "_by_skill", {k: tuple(v) for k, v in index.items()})

    def skill(self, skill_id: str) -> list[SkillMention]:
        """All mentions of ``skill_id`` (negated ones included), in text order."""
        return list(self._by_skill.get(skill_id, ()))

    def skill_ids(self) -> frozenset[str]:
        """Ids of every skill mentioned at all (negated included)."""
        return frozenset(self._by_skill)

    def positive(self, skill_id: str) -> list[SkillMention]:
        """Mentions of ``skill_id`` that are not negated."""
        return [m for m in self._by_skill.get(skill_id, ()) if not m.negated]

    def has_skill(self, skill_id: str) -> bool:
        """True when the resume claims the skill at least once without negating it."""
        return any(not m.negated for m in self._by_skill.get(skill_id, ()))

    def is_negated(self, skill_id: str) -> bool:
        """True when the skill is mentioned only in negated clauses."""
        mentions = self._by_skill.get(skill_id, ())
        return bool(mentions) and all(m.negated for m in mentions)

    def best_involvement(self, skill_id: str) -> Involvement | None:
        """Strongest involvement among positive mentions, or ``None`` when the skill is not claimed."""
        best: Involvement | None = None
        for mention in self._by_skill.get(skill_id, ()):
            if mention.negated:
                continue
            if best is None or INVOLVEMENT_RANK[mention.involvement] > INVOLVEMENT_RANK[best]:
                best = mention.involvement
        return best

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (what the hub stores in its features column).

        Besides the fields, ``skill_index`` maps each skill id to the positions of its mentions in
        ``skills``: derived data that lets :func:`engines.screening.screen_cached` read only the skills a
        job asks about. ``from_dict`` ignores it.
        """
        edu_ev = self.education_evidence
        index: dict[str, list[int]] = {}
        for position, mention in enumerate(self.skills):
            index.setdefault(mention.skill_id, []).append(position)
        return {
            "language": self.language,
            "skills": [m.to_dict() for m in self.skills],
            "skill_index": index,
            "years_experience": self.years_experience,
            "years_evidence": [e.to_dict() for e in self.years_evidence],
            "education": self.education,
            "education_evidence": None if edu_ev is None else edu_ev.to_dict(),
            "engine_version": self.engine_version,
            "gazetteer_version": self.gazetteer_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ResumeFeatures:
        """Inverse of :meth:`to_dict`."""
        years = data.get("years_experience")
        edu_ev = data.get("education_evidence")
        return cls(
            language=cast(Language, data["language"]),
            skills=tuple(SkillMention.from_dict(m) for m in data.get("skills", ())),
            years_experience=None if years is None else float(years),
            years_evidence=tuple(Evidence.from_dict(e) for e in data.get("years_evidence", ())),
            education=cast("EducationLevel | None", data.get("education")),
            education_evidence=None if edu_ev is None else Evidence.from_dict(edu_ev),
            engine_version=str(data["engine_version"]),
            gazetteer_version=str(data["gazetteer_version"]),
        )
