"""Rubric compilation: a dimension's name, keywords and anchors become the cues the scoring engine looks for.

Topic cues say what a dimension is about (its name, keywords, concept words for common soft skills, skills
from the gazetteer with all their aliases); each level anchor compiles to its behaviour classes and rank
(:mod:`engines.behaviour`). :func:`compile_rubric` is deterministic and cached. Import it from
:mod:`engines.rubric`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, cast

from engines.behaviour import BehaviourAnalysis, _lexicon, _PhraseIndex, _tokenize, analyze_behaviour, fold_text
from engines.gazetteer import get_gazetteer, resolve_skill
from engines.normalize import is_cjk
from engines.rubric_model import Dimension, Level, Rubric
from engines.skill_matcher import get_skill_matcher

__all__ = ["CompiledDimension", "CompiledLevel", "CompiledRubric", "TopicHit", "compile_rubric"]

# --- topics -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TopicHit:
    """A topic term found in a text: offsets into that text and the dimensions it is about."""

    start: int
    end: int
    term: str
    dimension_keys: frozenset[str]


@dataclass(frozen=True, slots=True)
class CompiledLevel:
    """A level anchor as cues: the behaviour classes it names, its rank on the canonical scale, its words."""

    score: int
    anchor: str
    rank: int
    classes: frozenset[str]
    negated_classes: frozenset[str]
    terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledDimension:
    """A dimension as cues: topic terms (with gazetteer skills and their aliases) and compiled levels."""

    dimension: Dimension
    topic_terms: tuple[str, ...]
    skill_ids: tuple[str, ...]
    levels: tuple[CompiledLevel, ...]

    @property
    def key(self) -> str:
        """The dimension key."""
        return self.dimension.key

    def level_for(self, rank: int, classes: frozenset[str], words: str = "") -> CompiledLevel:
        """The level whose anchor best matches evidence at canonical ``rank`` showing ``classes``.

        Nearest anchor rank first; ties go to the anchor naming more of the evidence's behaviour classes,
        then to the score nearest ``rank``, then to the one sharing more anchor words with the evidence
        text ``words`` (folded).
        """

        def cost(level: CompiledLevel) -> tuple[int, int, int, int, int]:
            overlap = len(level.classes & classes)
            shared = sum(1 for term in level.terms if term in words)
            return (abs(level.rank - rank), -overlap, abs(level.score - rank), -shared, -level.score)

        return min(self.levels, key=cost)


@dataclass(frozen=True)
class CompiledRubric:
    """A rubric ready for scoring: compiled dimensions plus one matcher for every topic term."""

    rubric: Rubric
    dimensions: tuple[CompiledDimension, ...]
    lexicon_version: str
    gazetteer_version: str
    _topics: _PhraseIndex[frozenset[str]]
    _skill_owners: dict[str, frozenset[str]]

    def dimension(self, key: str) -> CompiledDimension:
        """The compiled dimension with ``key``; ``KeyError`` when there is none."""
        for compiled in self.dimensions:
            if compiled.key == key:
                return compiled
        raise KeyError(key)

    def find_topics(self, text: str | BehaviourAnalysis) -> list[TopicHit]:
        """Topic terms and gazetteer skills of any dimension in ``text``, in text order.

        Pass a :class:`BehaviourAnalysis` to reuse its tokens. Skills are found by the NLP core's skill
        matcher (every alias, case rules, blockers), so ``SW``, ``solid works`` and ``三维建模`` all count.
        """
        tokens = text._tokens if isinstance(text, BehaviourAnalysis) else _tokenize(text)
        source = tokens.text
        hits = [TopicHit(s, e, source[s:e], keys) for s, e, keys in self._topics.scan(tokens)]
        if self._skill_owners:
            for skill in get_skill_matcher().find(source):
                owners = self._skill_owners.get(skill.skill_id)
                if owners is not None:
                    hits.append(TopicHit(skill.start, skill.end, source[skill.start : skill.end], owners))
        return _resolve_overlaps(hits)


def _resolve_overlaps(hits: list[TopicHit]) -> list[TopicHit]:
    """Longest hit wins where hits overlap (工单数据 over 工单); equal spans merge their dimensions."""
    merged: dict[tuple[int, int], frozenset[str]] = {}
    for hit in hits:
        merged[(hit.start, hit.end)] = merged.get((hit.start, hit.end), frozenset()) | hit.dimension_keys
    kept: list[TopicHit] = []
    taken: list[tuple[int, int]] = []
    for (start, end), keys in sorted(merged.items(), key=lambda item: (item[0][0] - item[0][1], item[0][0])):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        source = next(h.term for h in hits if h.start == start and h.end == end)
        kept.append(TopicHit(start, end, source, keys))
    return sorted(kept, key=lambda hit: (hit.start, hit.end))


@cache
def _topic_lexicon() -> dict[str, Any]:
    raw = json.loads(resources.files("engines").joinpath("data", "rubrics_topics.json").read_text(encoding="utf-8"))
    return cast(dict[str, Any], raw)


_NAME_SPLIT_RE = re.compile(r"\s*(?:/|\||\(|\)|（|）|、|,|，|;|；|\band\b|&|与|和|及)\s*")
_NAME_SUFFIXES = ("能力", "技能", "经验", "水平", "意识", " skills", " skill", " ability")
_FUNCTION_CHARS = "的了过和与及并能会在把对被将让给从或只都也很就还所为以等中上下"


def _name_terms(name: str, stop: frozenset[str]) -> list[str]:
    terms: list[str] = []
    for piece in _NAME_SPLIT_RE.split(fold_text(name)):
        piece = piece.strip()
        for suffix in _NAME_SUFFIXES:
            if piece.endswith(suffix) and len(piece) > len(suffix) + 1:
                piece = piece[: -len(suffix)].strip()
        if len(piece) >= 2 and piece not in stop:
            terms.append(piece)
    return terms


def _anchor_terms(analysis: BehaviourAnalysis, stop: frozenset[str]) -> list[str]:
    """Content words of an anchor: what is left once cue phrases, function characters and stop words go."""
    chars = list(analysis._tokens.folded)
    for cue in analysis.cues:
        for i in range(cue.start, cue.end):
            chars[i] = " "
    terms: list[str] = []
    for chunk in re.split(r"[^\w]+|_", "".join(chars)):
        if not chunk:
            continue
        if any(is_cjk(c) for c in chunk):
            for part in re.split(f"[{_FUNCTION_CHARS}a-z0-9]+", chunk):
                if 2 <= len(part) <= 6 and part not in stop:
                    terms.append(part)
        elif len(chunk) >= 4 and chunk not in stop and chunk.isalpha():
            terms.append(chunk)
    return terms


def _compile_level(level: Level, stop: frozenset[str]) -> CompiledLevel:
    analysis = analyze_behaviour(level.anchor)
    positive = [c for c in analysis.cues if not c.negated and c.cls != "none"]
    negated = [c for c in analysis.cues if c.negated or c.cls == "none"]
    if positive:
        rank = max(c.level for c in positive)
    elif negated:
        rank = min(c.level for c in negated)
    else:
        rank = level.score
    # The author's score wins when our reading of the anchor is far from it.
    if abs(rank - level.score) > 1:
        rank = level.score
    return CompiledLevel(
        score=level.score,
        anchor=level.anchor,
        rank=rank,
        classes=frozenset(c.cls for c in positive),
        negated_classes=frozenset(c.cls for c in negated),
        terms=tuple(dict.fromkeys(_anchor_terms(analysis, stop))),
    )


def _skills_in(text: str) -> set[str]:
    """Ids of the gazetteer skills named in ``text`` (a dimension name, keyword or anchor)."""
    found = {hit.skill_id for hit in get_skill_matcher().find(text)}
    resolved = resolve_skill(text)
    if resolved is not None:
        found.add(resolved)
    return found


def _dimension_skills(dimension: Dimension) -> set[str]:
    """Skills a dimension is about, most explicit source first.

    Name parts and keywords that are themselves skill names or aliases come first; failing those, skills
    named inside the name or keywords; failing those, skills named in the anchors. Prose names skills by
    accident (客服系统 contains 客服, 表结构设计 contains 结构设计), so it is only a fallback, and only for
    hard dimensions (a soft dimension is about behaviour, not tools).
    """
    exact = {resolve_skill(piece) for piece in (*_NAME_SPLIT_RE.split(dimension.name), *dimension.keywords)}
    skills = {skill_id for skill_id in exact if skill_id is not None}
    if not skills:
        for source in (dimension.name, *dimension.keywords):
            skills.update(_skills_in(source))
    if not skills and dimension.kind == "hard":
        for level in dimension.levels:
            skills.update(_skills_in(level.anchor))
    return skills


@lru_cache(maxsize=64)
def compile_rubric(rubric: Rubric) -> CompiledRubric:
    """Compile anchors and names into the cues :func:`engines.scoring.score_interview` looks for.

    Deterministic and cached per rubric value, so scoring many interviews against one job's rubric
    compiles it once.

    Example:
        >>> compiled = compile_rubric(load_default_rubric("mechanical_designer"))
        >>> top = compiled.dimension("modeling_3d").levels[0]
        >>> top.score, sorted(top.classes)
        (5, ['independent'])
    """
    topics = _topic_lexicon()
    stop = frozenset(fold_text(t) for t in topics["stop_terms"])
    concepts: list[tuple[_PhraseIndex[str], tuple[str, ...]]] = [
        (_PhraseIndex((t, "trigger") for t in c["triggers"]), tuple(c["terms"])) for c in topics["concepts"]
    ]

    compiled_levels: dict[str, tuple[CompiledLevel, ...]] = {
        d.key: tuple(_compile_level(level, stop) for level in d.levels) for d in rubric.dimensions
    }
    # Anchor words shared by several dimensions (项目, 同事...) do not tell them apart: drop them.
    owners: dict[str, set[str]] = {}
    for key, levels in compiled_levels.items():
        for level in levels:
            for term in level.terms:
                owners.setdefault(term, set()).add(key)
    for key, levels in compiled_levels.items():
        compiled_levels[key] = tuple(
            CompiledLevel(
                lv.score,
                lv.anchor,
                lv.rank,
                lv.classes,
                lv.negated_classes,
                tuple(t for t in lv.terms if len(owners[t]) == 1),
            )
            for lv in levels
        )

    cue_phrases = _lexicon().phrases
    explicit: dict[str, list[str]] = {}
    derived: dict[str, list[str]] = {}
    skills: dict[str, set[str]] = {}
    for dimension in rubric.dimensions:
        # Concepts are chosen by what the dimension is called, not by its keyword list.
        described = f"{dimension.key.replace('_', ' ')} / {dimension.name}"
        explicit[dimension.key] = [
            *_name_terms(dimension.name, stop),
            *(fold_text(k).strip() for k in dimension.keywords),
        ]
        derived[dimension.key] = [
            fold_text(t) for triggers, terms in concepts if triggers.contains(described) for t in terms
        ]
        skills[dimension.key] = _dimension_skills(dimension)
    # Concept words are generic: one that another dimension of this rubric names explicitly (签单 for
    # closing deals) or that is itself a behaviour cue (配合) would pull that dimension's answers in.
    claimed = {term for terms in explicit.values() for term in terms}
    dimensions: list[CompiledDimension] = []
    entries: dict[str, set[str]] = {}
    skill_owners: dict[str, set[str]] = {}
    for dimension in rubric.dimensions:
        own = set(explicit[dimension.key])
        concept_terms = [t for t in derived[dimension.key] if t in own or (t not in claimed and t not in cue_phrases)]
        terms = [*explicit[dimension.key], *concept_terms]
        unique = tuple(dict.fromkeys(t for t in terms if t and t not in stop))
        for term in unique:
            entries.setdefault(term, set()).add(dimension.key)
        for skill_id in skills[dimension.key]:
            skill_owners.setdefault(skill_id, set()).add(dimension.key)
        dimensions.append(
            CompiledDimension(
                dimension=dimension,
                topic_terms=unique,
                skill_ids=tuple(sorted(skills[dimension.key])),
                levels=compiled_levels[dimension.key],
            )
        )
    index: _PhraseIndex[frozenset[str]] = _PhraseIndex(
        ((term, frozenset(keys)) for term, keys in sorted(entries.items())), inflect=True
    )
    return CompiledRubric(
        rubric=rubric,
        dimensions=tuple(dimensions),
        lexicon_version=_lexicon().version,
        gazetteer_version=get_gazetteer().version,
        _topics=index,
        _skill_owners={skill_id: frozenset(keys) for skill_id, keys in sorted(skill_owners.items())},
    )
