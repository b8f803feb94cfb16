"""Behaviour cues: how a text says a person relates to a topic (the scale rubric anchors and answers share).

Two kinds of cue come out of a rubric. Topic cues say what a dimension is about (the dimension's name,
its keywords, concept words for common soft skills, skills from the gazetteer with all their aliases).
Behaviour cues say how the candidate relates to it, on one canonical 1..5 scale shared by anchors and
answers: none (1) < aware (2, courses, reading) < participated/assisted (3) < used/independent (4) <
led (5), with negation ("没有主导" implies 3, "没用过" implies 1), "we" instead of "I", academic context
and "under guidance" capping a clause at 3. Each anchor compiles to its behaviour classes and rank, so
a rubric whose level 5 reads "能独立完成三维建模" maps "independent" evidence to 5, not to the canonical 4.

Phrases match as token sequences over the mixed Chinese/English tokenizer of the NLP core (one token
per Chinese character, tech names such as C++ or Node.js kept whole), through a dictionary keyed by the
first token: a few thousand phrases cost one lookup per token instead of a regex alternation.

:func:`analyze_behaviour` finds the cues in a text; :func:`fold_text` is the normalization both sides use.
Import them from :mod:`engines.rubric`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Generic, TypeVar

from engines.normalize import normalize_width
from engines.tokenizer import split_tokens

__all__ = ["BEHAVIOUR_CLASSES", "BehaviourAnalysis", "BehaviourCue", "analyze_behaviour", "fold_text"]


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
