"""Interview rubrics: weighted dimensions whose levels are anchored in observable behaviour.

A rubric is configured per job. Each :class:`Dimension` has a weight, a kind (``hard`` skills the engine
can score with some confidence, ``soft`` skills such as communication or teamwork that it only suggests
for a human) and up to five :class:`Level` anchors written as behaviour, in Chinese or English::

    5  能独立完成三维建模
    3  参与过项目但未主导
    1  没有三维建模经验

:func:`compile_rubric` turns the anchors into the cues the scoring engine looks for. Default rubrics for
a few role families ship as data (:func:`default_rubrics`).

Example:
    >>> rubric = load_default_rubric("mechanical_designer")
    >>> rubric.dimension("modeling_3d").must_have
    True
    >>> Rubric.from_dict(rubric.to_dict()) == rubric
    True
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Generic, Literal, TypeVar, cast, get_args

from engines.gazetteer import get_gazetteer, resolve_skill
from engines.normalize import is_cjk, normalize_width
from engines.skill_matcher import get_skill_matcher
from engines.tokenizer import split_tokens

__all__ = [
    "BEHAVIOUR_CLASSES",
    "DEFAULT_RUBRIC_IDS",
    "BehaviourAnalysis",
    "BehaviourCue",
    "CompiledDimension",
    "CompiledLevel",
    "CompiledRubric",
    "Dimension",
    "DimensionKind",
    "Level",
    "Rubric",
    "RubricError",
    "TopicHit",
    "analyze_behaviour",
    "compile_rubric",
    "default_rubrics",
    "fold_text",
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


# ---------------------------------------------------------------------------------------------------------
# Compilation: anchors and names become the cues the scoring engine looks for.
#
# Two kinds of cue come out of a rubric. Topic cues say what a dimension is about (the dimension's name,
# its keywords, concept words for common soft skills, skills from the gazetteer with all their aliases).
# Behaviour cues say how the candidate relates to it, on one canonical 1..5 scale shared by anchors and
# answers: none (1) < aware (2, courses, reading) < participated/assisted (3) < used/independent (4) <
# led (5), with negation ("没有主导" implies 3, "没用过" implies 1), "we" instead of "I", academic context
# and "under guidance" capping a clause at 3. Each anchor compiles to its behaviour classes and rank, so
# a rubric whose level 5 reads "能独立完成三维建模" maps "independent" evidence to 5, not to the canonical 4.
#
# Phrases match as token sequences over the mixed Chinese/English tokenizer of the NLP core (one token
# per Chinese character, tech names such as C++ or Node.js kept whole), through a dictionary keyed by the
# first token: a few thousand phrases cost one lookup per token instead of a regex alternation.
# ---------------------------------------------------------------------------------------------------------

#: Behaviour classes, strongest first.
BEHAVIOUR_CLASSES: tuple[str, ...] = (
    "led",
    "role",
    "independent",
    "used",
    "assisted",
    "participated",
    "aware",
    "none",
)

_T = TypeVar("_T")
# A question mark ends a clause, not a sentence: speakers restate the topic as a question, then answer
# ("Kubernetes? Never used it").
_SENTENCE_RE = re.compile(r"[。！；;\n]+|!+|…+|\.{3,}|\.(?=\s|$)")
_CLAUSE_RE = re.compile(r"[。！？!?；;\n，,、:：()（）\"/|]+|…+|\.{3,}|\.(?=\s|$)|\s-\s")
_CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD_RE = re.compile(r"[a-z0-9][a-z0-9+#.&'-]*")
_MAX_NEGATION_GAP = 4
_MAX_POST_NEGATION_GAP = 3
_CORRECTION_REACH = 15  # tokens (CJK characters or words) before a self-correction that it voids
_SUBJECT_REACH = 8  # tokens between a subject (我, we, 他) and the cue it governs
_CAP_REACH = 12  # tokens: "under guidance" caps the cues this close in its clause
_ACADEMIC_REACH = 16  # tokens: "毕业设计里", "in school" caps the cues this close in its sentence
_CHAIN_GAP = 4  # units: a negation carries on to the next cue this close (haven't designed ... from scratch)
_CLAIM_REACH = 12  # tokens: "我是" / "I was" this close before a role noun claims the role
_MAX_INFLECTION = 6
_SHORT_ANSWER = 6  # tokens: "会的。", "Yes, I have." answer the question without restating it
_NARRATIVE_UNITS = 20  # tokens: an answer this long tells something even in words the lexicon lacks


def fold_text(text: str) -> str:
    """Width-normalized, lowercased ``text`` of exactly the same length (offsets stay valid)."""
    norm = normalize_width(text)
    lowered = norm.lower()
    if len(lowered) == len(norm):
        return lowered
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in norm)


@dataclass(frozen=True, slots=True)
class _Token:
    folded: str  # width-normalized and lowercased
    exact: str  # width-normalized, case kept
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _TokenText:
    """A text tokenized once and shared by every phrase index that scans it.

    Keys and their dictionary buckets are computed once here, not once per index.
    """

    text: str
    folded: str
    tokens: tuple[_Token, ...]
    folded_keys: tuple[str, ...]
    exact_keys: tuple[str, ...]
    folded_buckets: tuple[str, ...]
    exact_buckets: tuple[str, ...]


def _tokenize(text: str) -> _TokenText:
    words, spaces = split_tokens(text)
    folded = fold_text(text)
    tokens: list[_Token] = []
    position = 0
    for word, space in zip(words, spaces, strict=True):
        start, end = position, position + len(word)
        position = end + (1 if space else 0)
        if word.isspace() or folded[start:end] == "-":
            continue  # hyphens join like spaces: "hands-on" matches "hands on"
        tokens.append(_Token(folded[start:end], normalize_width(word), start, end))
    folded_keys = tuple(t.folded for t in tokens)
    exact_keys = tuple(t.exact for t in tokens)
    return _TokenText(
        text,
        folded,
        tuple(tokens),
        folded_keys,
        exact_keys,
        tuple(_bucket(k) for k in folded_keys),
        tuple(_bucket(k) for k in exact_keys),
    )


def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ities", "ity", "ions", "ion", "ings", "ing", "ment", "ed", "es", "s", "e", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _bucket(key: str) -> str:
    return key[:3] if key[:1].isascii() and key[:1].isalnum() else key[:1]


@dataclass(frozen=True, slots=True)
class _Pattern:
    words: tuple[str, ...]
    prefixes: tuple[bool, ...]  # True: the token only has to start with the word (an inflected stem)
    phrase: str


class _PhraseIndex(Generic[_T]):
    """Phrases matched as token sequences; leftmost, then longest, match wins, matches never overlap.

    With ``inflect``, English words of four letters or more also match their inflections
    (``communication`` matches ``communicate``, ``negotiation`` matches ``negotiated``); shorter words
    match with an optional plural ``s``. With ``case_sensitive``, case is kept (``Go`` is not ``go``).
    """

    def __init__(
        self, entries: Iterable[tuple[str, _T]], *, inflect: bool = False, case_sensitive: bool = False
    ) -> None:
        self._case_sensitive = case_sensitive
        self._inflect = inflect
        self._buckets: dict[str, list[tuple[_Pattern, _T]]] = {}
        seen: set[tuple[str, ...]] = set()
        for phrase, payload in entries:
            tokens = _tokenize(phrase).tokens
            words = tuple(t.exact if case_sensitive else t.folded for t in tokens)
            if not words or words in seen:
                continue
            seen.add(words)
            pattern = self._pattern(words, phrase)
            self._buckets.setdefault(_bucket(words[0]), []).append((pattern, payload))
        for bucket in self._buckets.values():
            bucket.sort(key=lambda item: (-len(item[0].words), -sum(len(w) for w in item[0].words)))

    def _pattern(self, words: tuple[str, ...], phrase: str) -> _Pattern:
        if not self._inflect:
            return _Pattern(words, (False,) * len(words), phrase)
        stems: list[str] = []
        prefixes: list[bool] = []
        for word in words:
            if word.isascii() and word.isalpha() and len(word) >= 4:
                stems.append(_stem(word))
                prefixes.append(True)
            else:
                stems.append(word)
                prefixes.append(False)
        return _Pattern(tuple(stems), tuple(prefixes), phrase)

    def _matches(self, word: str, prefix: bool, key: str) -> bool:
        if prefix:
            return key.startswith(word) and len(key) - len(word) <= _MAX_INFLECTION
        if key == word:
            return True
        return self._inflect and key == word + "s" and word.isascii() and word.isalpha()

    def scan(self, text: _TokenText) -> Iterator[tuple[int, int, _T]]:
        """``(start, end, payload)`` for each match, offsets into the original text."""
        tokens = text.tokens
        keys = text.exact_keys if self._case_sensitive else text.folded_keys
        buckets = text.exact_buckets if self._case_sensitive else text.folded_buckets
        count = len(keys)
        i = 0
        while i < count:
            bucket = self._buckets.get(buckets[i])
            step = 1
            if bucket is not None:
                for pattern, payload in bucket:
                    size = len(pattern.words)
                    if i + size > count:
                        continue
                    if all(self._matches(pattern.words[j], pattern.prefixes[j], keys[i + j]) for j in range(size)):
                        yield tokens[i].start, tokens[i + size - 1].end, payload
                        step = size
                        break
            i += step

    def contains(self, text: str) -> bool:
        """True when any phrase occurs in ``text``."""
        return next(self.scan(_tokenize(text)), None) is not None


@dataclass(frozen=True, slots=True)
class _ClassSpec:
    level: int
    negated_level: int
    caps: bool  # a clause with this cue is capped at ``level`` ("under guidance", "with help")


class _Lexicon:
    """The behaviour-cue lexicon from ``engines/data/rubrics_cues.json``, compiled once per process."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version = str(raw["version"])
        self.classes: dict[str, _ClassSpec] = {}
        entries: list[tuple[str, tuple[str, str]]] = []
        # Priority where one phrase sits in several lists: ignore > correction > classes > negators.
        entries.extend((phrase, ("ignore", "")) for phrase in raw["ignore"])
        entries.extend((phrase, ("correction", "")) for phrase in raw["corrections"])
        for name in BEHAVIOUR_CLASSES:
            spec = raw["classes"][name]
            self.classes[name] = _ClassSpec(int(spec["level"]), int(spec["negated_level"]), bool(spec.get("caps")))
            entries.extend((phrase, ("class", name)) for phrase in spec["phrases"])
        entries.extend((phrase, ("post_negator", "")) for phrase in raw["post_negators"])
        entries.extend((phrase, ("negator", "")) for phrase in raw["negators"])
        self.main: _PhraseIndex[tuple[str, str]] = _PhraseIndex(entries)
        self.phrases = frozenset(" ".join(fold_text(phrase).split()) for phrase, _kind in entries)
        self.hedges: _PhraseIndex[str] = _PhraseIndex((p, "hedge") for p in raw["hedges"])
        self.academic: _PhraseIndex[str] = _PhraseIndex((p, "academic") for p in raw["academic"])
        self.structure: _PhraseIndex[str] = _PhraseIndex((p, p) for p in raw["structure"])
        subjects = [(p, "team") for p in raw["team_subjects"]] + [(p, "self") for p in raw["self_subjects"]]
        subjects += [(p, "other") for p in raw["other_subjects"]]
        self.subjects: _PhraseIndex[str] = _PhraseIndex(subjects)
        self.breakers: _PhraseIndex[str] = _PhraseIndex((p, "breaker") for p in raw["scope_breakers"])
        self.role_claims: _PhraseIndex[str] = _PhraseIndex((p, "claim") for p in raw["role_claims"])
        self.object_markers = frozenset(fold_text(p) for p in raw["object_markers"])
        self.fillers: _PhraseIndex[str] = _PhraseIndex((p, "filler") for p in raw["fillers"])
        self.filler_keys = frozenset(fold_text(p) for p in raw["fillers"] if " " not in p)
        verbs = sorted({fold_text(p) for p in raw["result_verbs"]}, key=lambda p: (-len(p), p))
        verb_alt = "|".join((rf"(?<![a-z]){re.escape(v)}(?![a-z])" if v.isascii() else re.escape(v)) for v in verbs)
        # "三年多", "用了两年", "5 years": time spent doing it is hands-on use ("三年前", "years ago" are not).
        self.duration_re = re.compile(
            r"(?:\d+(?:\.\d+)?|[一二两三四五六七八九十几半]+)\s*(?:多)?\s*(?:年|个月)(?:多)?(?![前以后])"
            r"|(?<![a-z])(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\+?\s+(?:years?|months?)(?!\s+ago)"
        )
        self.affirmations = frozenset(fold_text(p) for p in raw["affirmations"])
        self.question_re = re.compile(
            r"[?？]|能不能|可不可以|再说一遍|换一个|(?<![a-z])(?:could|can) you(?![a-z])|repeat"
        )
        # "带12个人", "带了十几个人", "a team of 8", "managed 5 people": leading people, counted.
        self.headcount_re = re.compile(
            r"带(?:了|过|着|领)?\s*(?:\d+|[一二两三四五六七八九十几百]+)\s*(?:多)?\s*(?:个|名|位)?\s*(?:人|员工|同事|下属|组员)"
            r"|(?<![a-z])(?:managed|managing|manage|led|leading|lead|supervised|supervising)\s+(?:a\s+team\s+of\s+)?"
            r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty)\s+(?:[a-z]+\s+)?"
            r"(?:people|agents|engineers|developers|reps|staff|designers|members)"
        )
        self.result_re = re.compile(
            rf"(?:{verb_alt})[^。！？!?\n]{{0,16}}?(?:\d|[一二两三四五六七八九十百千]+(?:倍|成|万|千|百|个百分点))"
            r"|\d+(?:\.\d+)?\s*(?:%|percent|个百分点|倍)"
            r"|百分之[零一二两三四五六七八九十百点\d]+"
            r"|(?<![a-z0-9])from\s+\$?\d[\w.,%]*\s+(?:down\s+|up\s+)?to\s+\$?\d"
            r"|从\s*\d[^，。,]{0,8}?(?:降|提|减|增|缩|涨)[^，。,]{0,4}?\d"
            r"|翻了?[一两\d]+(?:倍|番)"
        )


@cache
def _lexicon() -> _Lexicon:
    raw = json.loads(resources.files("engines").joinpath("data", "rubrics_cues.json").read_text(encoding="utf-8"))
    return _Lexicon(raw)


@dataclass(frozen=True, slots=True)
class BehaviourCue:
    """A behaviour cue found in a text, after negation, self-correction, subject and context rules.

    Attributes:
        cls: one of :data:`BEHAVIOUR_CLASSES`.
        start: offset of the cue phrase in the original text.
        end: end offset of the cue phrase.
        negated: a negator governs the cue (没有主导, didn't lead, 主导谈不上).
        team: the subject is "we" or "the team" rather than "I" (only for used and independent).
        hedged: the clause hedges (可能, maybe, I think).
        level: the level on the canonical 1..5 scale this cue supports, after all rules and clause caps.
        clause: ``(start, end)`` of the clause the cue sits in.
        sentence: ``(start, end)`` of the sentence the cue sits in.
    """

    cls: str
    start: int
    end: int
    negated: bool
    team: bool
    hedged: bool
    level: int
    clause: tuple[int, int]
    sentence: tuple[int, int]


@dataclass(frozen=True, slots=True)
class BehaviourAnalysis:
    """Everything :func:`analyze_behaviour` found in one text; offsets point into ``text``.

    ``results`` are quantified results (提升了30%, reduced latency by 40%); ``negations`` are negators with
    no known cue right after them (完全没touch过), which may still deny a topic; ``short`` marks an answer
    of a few words, ``affirmed`` one that only says yes (会的, "Yes, I have"), and ``narrative`` an account
    long enough to be about something (not a question back to the interviewer).
    """

    text: str
    sentences: tuple[tuple[int, int], ...]
    clauses: tuple[tuple[int, int], ...]
    cues: tuple[BehaviourCue, ...]
    results: tuple[tuple[int, int], ...]
    negations: tuple[tuple[int, int], ...]
    structure_markers: int
    affirmed: bool
    short: bool
    narrative: bool
    _tokens: _TokenText

    def sentence_of(self, offset: int) -> tuple[int, int]:
        """The sentence span containing ``offset``."""
        return _span_of(self.sentences, offset)

    def clause_of(self, offset: int) -> tuple[int, int]:
        """The clause span containing ``offset``."""
        return _span_of(self.clauses, offset)


def _segments(folded: str, delimiter: re.Pattern[str]) -> tuple[tuple[int, int], ...]:
    spans: list[tuple[int, int]] = []
    cursor = 0
    for match in delimiter.finditer(folded):
        if match.start() > cursor:
            spans.append((cursor, match.start()))
        cursor = match.end()
    if cursor < len(folded) or not spans:
        spans.append((cursor, len(folded)))
    return tuple(spans)


def _span_of(spans: tuple[tuple[int, int], ...], offset: int) -> tuple[int, int]:
    low, high = 0, len(spans) - 1
    while low < high:
        mid = (low + high + 1) // 2
        if spans[mid][0] <= offset:
            low = mid
        else:
            high = mid - 1
    return spans[low]


def _gap_units(gap: str, fillers: list[tuple[int, int]], offset: int) -> int:
    """Size of a gap in CJK characters plus English words, not counting fillers (嗯, um, 就是)."""
    chars = list(gap)
    for start, end in fillers:
        for i in range(max(start - offset, 0), min(end - offset, len(chars))):
            chars[i] = " "
    stripped = "".join(chars)
    return len(_CJK_RE.findall(stripped)) + len(_WORD_RE.findall(stripped))


def analyze_behaviour(text: str) -> BehaviourAnalysis:
    """Find behaviour cues in ``text`` (an answer transcript or an anchor) with the rules applied.

    Rules: the longest phrase wins; a negator up to four units before a cue in the same clause negates it
    unless a contrast word (但是, 只是, but, only) comes between; "谈不上" after a cue negates it; a
    self-correction (不对, 说错了, I mean, sorry) voids the cues just before it in the same sentence;
    "we" instead of "I" turns a used or independent cue into team participation; academic context
    (课程, in school) and "under guidance" cap the cues near them in their clause at level 3; a role
    noun (负责人, owner) counts only when the speaker claims it (我是..., I was the...).

    Example:
        >>> [(c.cls, c.negated, c.level) for c in analyze_behaviour("参与过项目但未主导").cues]
        [('participated', False, 3), ('led', True, 3)]
    """
    lexicon = _lexicon()
    tokens = _tokenize(text)
    folded = tokens.folded
    sentences = _segments(folded, _SENTENCE_RE)
    clauses = _segments(folded, _CLAUSE_RE)
    token_starts = [token.start for token in tokens.tokens]

    def position(offset: int) -> int:
        """Index of the token at ``offset``: distances below are counted in tokens."""
        return bisect_left(token_starts, offset)

    clause_starts = [start for start, _end in clauses]

    def clause_index(offset: int) -> int:
        return bisect_left(clause_starts, offset + 1) - 1

    raw_cues: list[tuple[int, int, str]] = [(m.start(), m.end(), "led") for m in lexicon.headcount_re.finditer(folded)]
    raw_cues.extend((m.start(), m.end(), "used") for m in lexicon.duration_re.finditer(folded))
    negators: list[tuple[int, int]] = []
    post_negators: list[tuple[int, int]] = []
    corrections: list[int] = []
    for start, end, (kind, name) in lexicon.main.scan(tokens):
        if kind == "class" and not any(s <= start < e for s, e, _c in raw_cues):
            raw_cues.append((start, end, name))
        elif kind == "negator":
            negators.append((start, end))
        elif kind == "post_negator":
            post_negators.append((start, end))
        elif kind == "correction":
            corrections.append(start)

    raw_cues.sort()
    # A self-correction voids what was said just before it in the same sentence.
    if corrections:
        voided: list[tuple[int, int]] = []
        for mark in corrections:
            sentence_start = _span_of(sentences, mark)[0]
            first = max(position(mark) - _CORRECTION_REACH, 0)
            voided.append((max(sentence_start, token_starts[first]), mark))
        raw_cues = [c for c in raw_cues if not any(lo <= c[0] < hi for lo, hi in voided)]
        negators = [n for n in negators if not any(lo <= n[0] < hi for lo, hi in voided)]
    # Negators with no cue right after them (完全没touch过) may still deny a topic; scoring decides.
    bare = tuple(
        n
        for n in negators
        if not any(
            n[1] <= c[0] and _span_of(clauses, c[0]) == _span_of(clauses, n[0]) and position(c[0]) - position(n[1]) <= 6
            for c in raw_cues
        )
    )

    hedged_clauses = {_span_of(clauses, start) for start, _e, _x in lexicon.hedges.scan(tokens)}
    # A person after a preposition is an object, not the one acting (向领导汇报, helped my manager).
    subjects = [
        s
        for s in lexicon.subjects.scan(tokens)
        if s[2] != "other"
        or position(s[0]) == 0
        or tokens.tokens[position(s[0]) - 1].folded not in lexicon.object_markers
    ]
    breakers = [(start, end) for start, end, _x in lexicon.breakers.scan(tokens)]
    fillers = [(start, end) for start, end, _x in lexicon.fillers.scan(tokens)]

    # Role nouns (负责人, owner, tech lead) are leadership only when the speaker claims the role.
    claims = [start for start, _e, _x in lexicon.role_claims.scan(tokens)]
    raw_cues = [
        cue
        for cue in raw_cues
        if cue[2] != "role"
        or any(
            _span_of(clauses, claim) == _span_of(clauses, cue[0])
            and claim < cue[0]
            and position(cue[0]) - position(claim) <= _CLAIM_REACH
            for claim in claims
        )
    ]

    provisional: list[tuple[int, int, str, bool, bool, tuple[int, int]]] = []
    previous: tuple[int, bool] | None = None  # end and negation of the last cue kept
    for start, end, cls in raw_cues:
        clause = _span_of(clauses, start)
        before = [
            s
            for s in subjects
            if clause[0] <= s[0] and s[1] <= start and position(start) - position(s[1]) <= _SUBJECT_REACH
        ]
        subject = before[-1][2] if before else "self"
        if subject == "other":
            continue  # "他主要负责", "my manager led it": someone else's behaviour, not the candidate's
        negated = False
        if cls != "none":
            # A negator governs the first cue after it, and the cues glued to that one (没有独立完成过).
            since = previous[0] if previous is not None else clause[0]
            live = [n for n in negators if n[0] >= since]
            negated = _is_negated(start, end, clause, live, post_negators, breakers, fillers, folded)
            if not negated and previous is not None and previous[1] and previous[0] >= clause[0]:
                # ... and carries on to a cue right after it unless a new subject starts (never used it, I
                # studied it): "haven't designed a system from scratch" denies both.
                gap_subject = any(previous[0] <= s[0] and s[1] <= start for s in subjects)
                gap = _gap_units(folded[previous[0] : start], fillers, previous[0])
                negated = not gap_subject and gap <= _CHAIN_GAP
        team = cls in ("used", "independent") and not negated and subject == "team"
        provisional.append((start, end, cls, negated, team, clause))
        previous = (end, negated)

    # Caps: "under guidance" (assisted) and academic context hold the cues near them at participation level.
    caps: list[tuple[int, int]] = [
        (start, lexicon.classes[cls].level)
        for start, _e, cls, negated, _team, _clause in provisional
        if lexicon.classes[cls].caps and not negated
    ]
    academic = [start for start, _e, _x in lexicon.academic.scan(tokens)]

    def cap_for(offset: int, clause: tuple[int, int]) -> int:
        near = [
            level
            for at, level in caps
            if clause[0] <= at < clause[1] and abs(position(at) - position(offset)) <= _CAP_REACH
        ]
        # Academic context ("毕业设计里...", "in my course project") frames the rest of its sentence: the
        # cues a few tokens away, or up to three punctuated clauses after it.
        sentence = _span_of(sentences, offset)
        here = clause_index(offset)
        for at in academic:
            if not sentence[0] <= at < sentence[1]:
                continue
            if abs(position(at) - position(offset)) <= _ACADEMIC_REACH or 0 < here - clause_index(at) <= 3:
                near.append(3)
                break
        return min(near, default=5)

    cues: list[BehaviourCue] = []
    for start, end, cls, negated, team, clause in provisional:
        spec = lexicon.classes[cls]
        if negated:
            level = spec.negated_level
        else:
            level = 3 if team and spec.level > 3 else spec.level
            if level > 2:
                level = min(level, cap_for(start, clause))
        cues.append(
            BehaviourCue(
                cls=cls,
                start=start,
                end=end,
                negated=negated,
                team=team,
                hedged=clause in hedged_clauses,
                level=level,
                clause=clause,
                sentence=_span_of(sentences, start),
            )
        )
    results = tuple(m.span() for m in lexicon.result_re.finditer(folded))
    structure = len({marker for _s, _e, marker in lexicon.structure.scan(tokens)})
    words = [t for t in tokens.folded_keys if t.isalnum() and t not in lexicon.filler_keys]
    short = bool(words) and len(words) <= _SHORT_ANSWER
    affirmed = short and not bare and any(w in lexicon.affirmations for w in words)
    # A real account: long enough, and not a question back to the interviewer.
    narrative = len(words) >= _NARRATIVE_UNITS and not lexicon.question_re.search(folded)
    return BehaviourAnalysis(
        text, sentences, clauses, tuple(cues), results, bare, structure, affirmed, short, narrative, tokens
    )


def _is_negated(
    start: int,
    end: int,
    clause: tuple[int, int],
    negators: list[tuple[int, int]],
    post_negators: list[tuple[int, int]],
    breakers: list[tuple[int, int]],
    fillers: list[tuple[int, int]],
    folded: str,
) -> bool:
    for n_start, n_end in reversed(negators):
        if n_end > start or n_start < clause[0]:
            continue
        if any(n_end <= b_start and b_end <= start for b_start, b_end in breakers):
            return False
        return _gap_units(folded[n_end:start], fillers, n_end) <= _MAX_NEGATION_GAP
    for p_start, _p_end in post_negators:
        if end <= p_start < clause[1] and _gap_units(folded[end:p_start], fillers, end) <= _MAX_POST_NEGATION_GAP:
            return True
    return False


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
