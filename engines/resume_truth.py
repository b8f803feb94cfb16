"""Truth for generated resumes: what each synthetic resume really says (see :mod:`engines.resumes`)."""

from __future__ import annotations

from dataclasses import dataclass

from engines.evidence import Evidence
from engines.features import (
    ENGINE_VERSION,
    INVOLVEMENT_RANK,
    EducationLevel,
    Involvement,
    ResumeFeatures,
    SkillMention,
)
from engines.gazetteer import get_gazetteer

__all__ = ["ResumeTruth", "TruthSkill"]

_EMPTY = Evidence("", 0, 0)


@dataclass(frozen=True, slots=True)
class TruthSkill:
    """One skill mention as written: its id, involvement, negation, spelling and whether the gazetteer
    knows that spelling."""

    skill_id: str
    involvement: Involvement
    negated: bool
    spelling: str
    known: bool


@dataclass(frozen=True, slots=True)
class ResumeTruth:
    """What a generated resume really says."""

    category: str
    mentions: tuple[TruthSkill, ...]
    years: float | None
    education: EducationLevel | None

    def positive_ids(self, *, known_only: bool = False) -> frozenset[str]:
        """Skills claimed (at least one non-negated mention), optionally only via known spellings."""
        return frozenset(m.skill_id for m in self.mentions if not m.negated and (m.known or not known_only))

    def negated_ids(self) -> frozenset[str]:
        """Skills the resume denies."""
        return frozenset(m.skill_id for m in self.mentions if m.negated)

    def best_involvement(self, skill_id: str, *, known_only: bool = False) -> Involvement | None:
        """Strongest involvement of a claimed skill."""
        best: Involvement | None = None
        for m in self.mentions:
            if m.skill_id != skill_id or m.negated or (known_only and not m.known):
                continue
            if best is None or INVOLVEMENT_RANK[m.involvement] > INVOLVEMENT_RANK[best]:
                best = m.involvement
        return best

    def features(self) -> ResumeFeatures:
        """Features a perfect extractor would return (empty evidence spans): the benchmark's ideal."""
        gazetteer = get_gazetteer()
        mentions = tuple(
            SkillMention(m.skill_id, gazetteer.name(m.skill_id), m.involvement, m.negated, "truth", _EMPTY)
            for m in self.mentions
        )
        return ResumeFeatures(
            language="mixed",
            skills=mentions,
            years_experience=self.years,
            years_evidence=(),
            education=self.education,
            education_evidence=None,
            engine_version=ENGINE_VERSION,
            gazetteer_version=gazetteer.version,
        )
