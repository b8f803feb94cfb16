"""The versioned skill gazetteer: skills, their Chinese and English aliases, and name resolution.

The data lives in ``engines/data/skills.yaml`` (one entry per skill, see the header of that file). The
gazetteer is loaded once per process (:func:`get_gazetteer`); :func:`resolve_skill` lets HR configure job
requirements by any name or alias in either language.

Example:
    >>> resolve_skill("solid works"), resolve_skill("投诉处理"), resolve_skill("CRM系统")
    ('solidworks', 'complaint_handling', 'salesforce')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from engines.normalize import normalize_width

__all__ = ["Gazetteer", "Skill", "get_gazetteer", "load_gazetteer", "resolve_skill", "skill_key"]

_SPACES = re.compile(r"[\s_]+")


def skill_key(name: str) -> str:
    """Lookup key for a name or alias: width-normalized, lowercased, without spaces or underscores."""
    return _SPACES.sub("", normalize_width(name).strip().lower())


@dataclass(frozen=True, slots=True)
class Skill:
    """One gazetteer skill.

    Attributes:
        skill_id: stable key used by job requirements and cached features.
        name: English display name.
        name_zh: Chinese display name.
        category: ``software``, ``data``, ``mechanical``, ``sales``, ``customer_service``, ``finance``,
            ``hr``, ``manufacturing`` or ``general``.
        aliases: spellings matched regardless of case and width.
        case_sensitive: short spellings that are also ordinary words (``Go``, ``R``, ``Excel``), matched only
            with their case or when glued to Chinese text (``熟悉go``).
    """

    skill_id: str
    name: str
    name_zh: str
    category: str
    aliases: tuple[str, ...]
    case_sensitive: tuple[str, ...]

    def all_names(self) -> tuple[str, ...]:
        """Every spelling: aliases, case-sensitive aliases and both display names."""
        return (*self.aliases, *self.case_sensitive, self.name, self.name_zh)


@dataclass(frozen=True, slots=True)
class Gazetteer:
    """All skills plus the blocker phrases that suppress false alias hits (``C端`` is not C)."""

    version: str
    skills: dict[str, Skill]
    blockers: tuple[str, ...]
    _index: dict[str, str]

    def resolve(self, name_or_alias: str) -> str | None:
        """Skill id for an id, display name or alias (any case, width or spacing), else ``None``."""
        key = skill_key(name_or_alias)
        if not key:
            return None
        return self._index.get(key)

    def get(self, skill_id: str) -> Skill:
        """The skill for ``skill_id`` (``KeyError`` when unknown)."""
        return self.skills[skill_id]

    def name(self, skill_id: str, language: str = "en") -> str:
        """Display name in ``zh`` or ``en``; the id itself for an unknown skill."""
        skill = self.skills.get(skill_id)
        if skill is None:
            return skill_id
        return skill.name_zh if language == "zh" else skill.name


def _parse(data: dict[str, Any]) -> Gazetteer:
    skills: dict[str, Skill] = {}
    index: dict[str, str] = {}
    for entry in data["skills"]:
        skill = Skill(
            skill_id=str(entry["id"]),
            name=str(entry["name"]),
            name_zh=str(entry.get("zh") or entry["name"]),
            category=str(entry["cat"]),
            aliases=tuple(str(a) for a in entry.get("aliases") or ()),
            case_sensitive=tuple(str(a) for a in entry.get("cs") or ()),
        )
        if skill.skill_id in skills:
            raise ValueError(f"duplicate skill id {skill.skill_id!r}")
        skills[skill.skill_id] = skill
        for spelling in (skill.skill_id, *skill.all_names()):
            key = skill_key(spelling)
            owner = index.setdefault(key, skill.skill_id)
            if owner != skill.skill_id:
                raise ValueError(f"alias {spelling!r} names both {owner!r} and {skill.skill_id!r}")
    blockers = tuple(str(b) for b in data.get("blockers") or ())
    return Gazetteer(version=str(data["version"]), skills=skills, blockers=blockers, _index=index)


def load_gazetteer(text: str | None = None) -> Gazetteer:
    """Parse a gazetteer from YAML ``text``, or the packaged ``engines/data/skills.yaml``."""
    if text is None:
        text = resources.files("engines").joinpath("data/skills.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    data = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader
    if not isinstance(data, dict):
        raise ValueError("gazetteer YAML must be a mapping")
    return _parse(data)


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once per process."""
    return load_gazetteer()


def resolve_skill(name_or_alias: str) -> str | None:
    """Skill id for a name or alias in Chinese or English (``"SW"`` -> ``"solidworks"``), else ``None``."""
    return get_gazetteer().resolve(name_or_alias)
