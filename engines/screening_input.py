"""What screening reads from a resume's cached features, for the skills one job asks about.

Two sources give the same view: :class:`~engines.features.ResumeFeatures` objects, and their JSON form
(``ResumeFeatures.to_dict()``, what the hub caches), read through its ``skill_index`` without rebuilding
every mention. Evidence stays in its stored form (object or dict) until a reason needs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engines.evidence import Evidence
from engines.features import INVOLVEMENT_RANK, ResumeFeatures

__all__ = [
    "MAX_EVIDENCE",
    "ResumeView",
    "SkillFacts",
    "StoredEvidence",
    "evidence_of",
    "view_of_dict",
    "view_of_features",
]

#: Evidence spans kept per reason (the strongest first).
MAX_EVIDENCE = 3
StoredEvidence = Evidence | Mapping[str, Any]
_INVOLVEMENT_BY_RANK = {rank: name for name, rank in INVOLVEMENT_RANK.items()}


@dataclass(slots=True)
class SkillFacts:
    """What screening needs to know about one requested skill in one resume."""

    best: str | None  # strongest involvement among positive mentions
    positive: list[tuple[int, int, StoredEvidence]]  # (-involvement rank, start, evidence), best first
    negative: list[StoredEvidence]

    def top(self) -> list[StoredEvidence]:
        """Evidence of the strongest positive mentions, still in stored form."""
        return [p[2] for p in self.positive[:MAX_EVIDENCE]]


@dataclass(slots=True)
class ResumeView:
    """The parts of a resume's features that screening reads, for the requested skills only.

    Evidence for years and education stays in its stored form (objects or JSON dicts) until a reason
    needs it.
    """

    skills: dict[str, SkillFacts]
    years: float | None
    years_evidence: Sequence[StoredEvidence]
    education: str | None
    education_evidence: StoredEvidence | None


def evidence_of(item: StoredEvidence) -> Evidence:
    """An Evidence object from either stored form."""
    return item if isinstance(item, Evidence) else Evidence(item["text"], item["start"], item["end"])


def view_of_features(features: ResumeFeatures, wanted: frozenset[str]) -> ResumeView:
    """The view of ``wanted`` skills from a features object."""
    skills: dict[str, SkillFacts] = {}
    for skill_id in wanted:
        mentions = features.skill(skill_id)
        if not mentions:
            continue
        positive: list[tuple[int, int, StoredEvidence]] = [
            (-INVOLVEMENT_RANK[m.involvement], m.evidence.start, m.evidence) for m in mentions if not m.negated
        ]
        positive.sort(key=lambda p: (p[0], p[1]))
        negative: list[StoredEvidence] = [m.evidence for m in mentions if m.negated]
        best = _INVOLVEMENT_BY_RANK[-positive[0][0]] if positive else None
        skills[skill_id] = SkillFacts(best, positive, negative)
    return ResumeView(
        skills, features.years_experience, features.years_evidence, features.education, features.education_evidence
    )


def view_of_dict(data: Mapping[str, Any], wanted: frozenset[str]) -> ResumeView:
    """The view of ``wanted`` skills from the JSON form of features."""
    mentions = data.get("skills", ())
    index = data.get("skill_index")
    if index is None:  # features cached before the index existed: find the positions
        index = {}
        for position, mention in enumerate(mentions):
            if mention["skill_id"] in wanted:
                index.setdefault(mention["skill_id"], []).append(position)
    skills: dict[str, SkillFacts] = {}
    for skill_id in wanted:
        positions = index.get(skill_id)
        if not positions:
            continue
        facts = skills[skill_id] = SkillFacts(None, [], [])
        for position in positions:
            mention = mentions[position]
            evidence = mention["evidence"]
            if mention["negated"]:
                facts.negative.append(evidence)
            else:
                facts.positive.append((-INVOLVEMENT_RANK[mention["involvement"]], evidence["start"], evidence))
        if facts.positive:
            facts.positive.sort(key=lambda p: (p[0], p[1]))
            facts.best = _INVOLVEMENT_BY_RANK[-facts.positive[0][0]]
    years = data.get("years_experience")
    return ResumeView(
        skills,
        None if years is None else float(years),
        data.get("years_evidence", ()),
        data.get("education"),
        data.get("education_evidence"),
    )
