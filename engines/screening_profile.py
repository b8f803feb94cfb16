"""Screening profiles: the few numbers screening reads from a resume, and screening a library by them.

A profile is what :func:`engines.screening.screen` looks at, without the evidence: for each skill the resume
mentions, a level code (:data:`LEVELS`: 1 when every mention is negated, else the strongest involvement),
the years of experience and the education level. It holds no text (skill ids and numbers only), so the hub
can keep it in the clear beside the sealed resume, and it is small enough to read for 80,000 resumes at once.

:class:`ProfileScreen` screens profiles for one job: a profile's outcome depends only on the levels of the
skills the job asks about, the years and the education, so outcomes are computed once per distinct
combination (a library of 80,000 has a few thousand) and shared. Every outcome is computed by the engine's
own scoring (:func:`engines.screening.screen` on a view with no evidence), so the score, the recommendation
and the reasons (code, points, skill, detail) are exactly those of ``screen_cached`` on the full features;
only the evidence is left out, to be read from the cached features when someone reads the explanation.

Example:
    >>> profile = profile_of(features.to_dict())                     # doctest: +SKIP
    >>> screen = ProfileScreen(requirements)
    >>> outcome = screen.outcome(screen.key(profile))                # doctest: +SKIP
    >>> outcome.score, outcome.passed, outcome.reasons_json          # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engines.features import EDUCATION_RANK
from engines.requirements import JobRequirements
from engines.screening import _plan, _score
from engines.screening_input import ResumeView, SkillFacts, view_of_dict

__all__ = ["LEVELS", "ProfileKey", "ProfileOutcome", "ProfileScreen", "profile_of", "profile_supported"]

#: Level code of a skill in a profile: 0 not mentioned, 1 only negated mentions, then the strongest involvement.
LEVELS: dict[str | None, int] = {None: 1, "listed": 2, "participated": 3, "used": 4, "led": 5}
_BEST = {code: best for best, code in LEVELS.items()}
#: (level of each skill the job asks about, in :attr:`ProfileScreen.skills` order; years; education)
ProfileKey = tuple[tuple[int, ...], float | None, str | None]


def profile_of(features: Mapping[str, Any]) -> dict[str, Any]:
    """The profile of a resume from the JSON form of its features (``ResumeFeatures.to_dict()``).

    ``{"s": {skill id: level code}, "y": years or None, "e": education level or None}``.
    """
    index = features.get("skill_index")
    wanted = frozenset(index) if index is not None else frozenset(m["skill_id"] for m in features.get("skills", ()))
    view = view_of_dict(features, wanted)
    return {
        "s": {skill_id: LEVELS[facts.best] for skill_id, facts in sorted(view.skills.items())},
        "y": view.years,
        "e": view.education,
    }


def profile_supported(requirements: JobRequirements) -> bool:
    """Whether profiles can screen for this job: keyword knock-outs read the resume text itself."""
    return all(k.kind != "keyword" for k in requirements.knockouts)


@dataclass(frozen=True, slots=True)
class ProfileOutcome:
    """A screening outcome without evidence: ``score`` in points, ``eighths`` the same as an exact integer."""

    score: float
    eighths: int
    passed: bool
    reasons: tuple[dict[str, Any], ...]  # code, points, skill_id, detail (no "evidence" key)
    reasons_json: str


class ProfileScreen:
    """Screen profiles for one job's requirements (see the module docstring).

    Raises:
        ValueError: the requirements have keyword knock-outs (:func:`profile_supported`).
    """

    def __init__(self, requirements: JobRequirements) -> None:
        if not profile_supported(requirements):
            raise ValueError("keyword knock-outs need the resume text; profiles cannot screen them")
        self.requirements = requirements
        self._plan = _plan(requirements)
        #: The skills whose levels matter, in the order of :class:`ProfileKey`'s levels.
        self.skills: tuple[str, ...] = tuple(sorted(self._plan.wanted))
        self._outcomes: dict[ProfileKey, ProfileOutcome] = {}
        self._scores: dict[ProfileKey, tuple[int, bool, str]] = {}

    def key(self, profile: Mapping[str, Any]) -> ProfileKey:
        """The part of a profile this job reads."""
        levels = profile.get("s") or {}
        years = profile.get("y")
        return (
            tuple(int(levels.get(s, 0)) for s in self.skills),
            None if years is None else float(years),
            profile.get("e"),
        )

    def key_of_features(self, features: Mapping[str, Any]) -> ProfileKey:
        """The key of a resume from the JSON form of its features (only the skills this job reads):
        the same as ``key(profile_of(features))``, without building the whole profile."""
        view = view_of_dict(features, self._plan.wanted)
        return (
            tuple(LEVELS[view.skills[s].best] if s in view.skills else 0 for s in self.skills),
            view.years,
            view.education,
        )

    def score(self, key: ProfileKey) -> tuple[int, bool, str]:
        """(score in eighths, passed, :meth:`encode` of the key): what ranking a library needs, computed once
        per key and without building the reasons (the engine's scoring builds them only when read)."""
        found = self._scores.get(key)
        if found is None:
            outcome = _score(self._plan, self.requirements, self._view(key), None)
            found = self._scores[key] = (round(outcome.score * 8), outcome.passed, self.encode(key))
        return found

    def encode(self, key: ProfileKey) -> str:
        """A key as text that names its skills (``java:5,mysql:0|5.5|bachelor``; empty years or education
        when not stated), so it reads back the same whatever order another job lists its skills in."""
        levels, years, education = key
        skills = ",".join(f"{s}:{level}" for s, level in zip(self.skills, levels, strict=True))
        return f"{skills}|{'' if years is None else repr(float(years))}|{education or ''}"

    def decode(self, text: str) -> ProfileKey:
        """The key :meth:`encode` wrote (skills this job asks about and the text does not name count as 0).

        Raises:
            ValueError: the text is not an encoded key.
        """
        try:
            skills, years, education = text.split("|")
            levels = dict((name, int(level)) for name, level in (part.split(":") for part in skills.split(",") if part))
            return (
                tuple(levels.get(s, 0) for s in self.skills),
                float(years) if years else None,
                education or None,
            )
        except ValueError:
            raise ValueError(f"not an encoded profile key: {text[:60]!r}") from None

    def outcome(self, key: ProfileKey) -> ProfileOutcome:
        """The outcome of every resume whose profile has this key (computed once per key)."""
        found = self._outcomes.get(key)
        if found is None:
            found = self._outcomes[key] = self._compute(key)
        return found

    def _view(self, key: ProfileKey) -> ResumeView:
        levels, years, education = key
        if education is not None and education not in EDUCATION_RANK:
            raise ValueError(f"unknown education level in a profile: {education!r}")
        skills = {
            skill_id: SkillFacts(_BEST[level], [], [])
            for skill_id, level in zip(self.skills, levels, strict=True)
            if level > 0
        }
        return ResumeView(skills, years, (), education, None)

    def _compute(self, key: ProfileKey) -> ProfileOutcome:
        outcome = _score(self._plan, self.requirements, self._view(key), None)
        reasons = tuple(
            {"code": r.code.value, "points": r.points, "skill_id": r.skill_id, "detail": r.detail}
            for r in outcome.reasons
        )
        return ProfileOutcome(
            score=outcome.score,
            eighths=round(outcome.score * 8),
            passed=outcome.passed,
            reasons=reasons,
            reasons_json=json.dumps(list(reasons), ensure_ascii=False, separators=(",", ":")),
        )

    def screen(self, profiles: Sequence[Mapping[str, Any]]) -> list[ProfileOutcome]:
        """Outcomes of many profiles, in order."""
        return [self.outcome(self.key(p)) for p in profiles]
