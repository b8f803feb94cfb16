"""Interview scoring: each rubric dimension scored from transcribed answers, with evidence.

The engine reads spoken answers (fillers, self-corrections, mixed Chinese and English, ASR slips) and,
per dimension of a compiled rubric (:func:`engines.rubric.compile_rubric`):

1. finds where the answers talk about the dimension: its topic terms (name, keywords, gazetteer skills
   with every alias) and, in answers to questions asked about it, behaviour that is not about another
   dimension's topic;
2. reads the behaviour cues there (led, independent, used, assisted, participated, aware, none, with
   negation, "we" versus "I", academic context, self-corrections and quantified results) as a level on
   the canonical 1..5 scale;
3. maps that level to the rubric's own anchor (:meth:`engines.rubric.CompiledDimension.level_for`).

A dimension the answers say nothing about scores ``None`` ("insufficient evidence"), never 0. Soft
dimensions (communication, teamwork...) are always low-confidence suggestions that need a human. The
recommendation is ``advance``, ``hold`` or ``needs_review``: the engine never rejects, people decide.

Example:
    >>> from engines.rubric import load_default_rubric
    >>> report = score_interview(
    ...     [Answer("q1", "讲讲你的三维建模经验", "嗯，我们那个项目的三维建模基本都是我独立完成的，用的SW。",
    ...             ("modeling_3d",))],
    ...     load_default_rubric("mechanical_designer"),
    ... )
    >>> report.score_for("modeling_3d").score, report.score_for("teamwork").score
    (5.0, None)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from engines.evidence import Evidence
from engines.rubric import (
    BEHAVIOUR_CLASSES,
    BehaviourAnalysis,
    BehaviourCue,
    CompiledDimension,
    CompiledRubric,
    Rubric,
    TopicHit,
    analyze_behaviour,
    compile_rubric,
    fold_text,
)

__all__ = [
    "SCORING_VERSION",
    "Answer",
    "AnswerEvidence",
    "Confidence",
    "DimensionScore",
    "EvaluationReport",
    "Recommendation",
    "score_interview",
]

#: Bump when scores can change for the same answers and rubric.
SCORING_VERSION = "interview-scoring-1.0.0"

Confidence = Literal["high", "low"]
Recommendation = Literal["advance", "hold", "needs_review"]

#: Default total (0..100) from which a fully reviewed interview is recommended to advance.
DEFAULT_ADVANCE_AT = 70.0
#: Below this fraction of rubric weight scored, the report goes to a human for review.
DEFAULT_MIN_COVERAGE = 0.5
#: A must-have scored at or below this level counts as missing.
MUST_HAVE_FLOOR = 2

_NEAR_UNITS = 15  # a cue and a topic term this close (CJK characters plus English words) belong together
_DESCRIBED_LEVEL = 3  # the answer is about the dimension but shows no behaviour cue
_DENIAL_UNITS = 4  # a negator this close to a topic term, with no known verb, denies it
_TIE_UNITS = 3  # a topic this much farther from a cue than the nearest topic still shares the cue
_EVIDENCE_MAX_CHARS = 120
_MAX_EVIDENCE = 3
_MAX_KEYWORDS = 10
_UNITS_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[A-Za-z0-9]+")
_EDGE_RE = re.compile(r"^[\s,，、。.!！?？;；:：]+|[\s,，、。.!！?？;；:：]+$")


@dataclass(frozen=True, slots=True)
class Answer:
    """One transcribed answer.

    Attributes:
        question_id: id of the question asked.
        question: the question text (kept for the report; not scored).
        transcript: what the candidate said, as transcribed.
        dimension_keys: the rubric dimensions the question was asked about. Optional: untagged answers
            still count wherever they talk about a dimension's topic.
    """

    question_id: str
    question: str
    transcript: str
    dimension_keys: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "question_id": self.question_id,
            "question": self.question,
            "transcript": self.transcript,
            "dimension_keys": list(self.dimension_keys),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """Inverse of :meth:`to_dict`."""
        return cls(
            question_id=str(data["question_id"]),
            question=str(data.get("question", "")),
            transcript=str(data["transcript"]),
            dimension_keys=tuple(str(k) for k in data.get("dimension_keys", ())),
        )


@dataclass(frozen=True, slots=True)
class AnswerEvidence:
    """A span of one answer's transcript backing a dimension score.

    ``evidence.text == answers[answer_index].transcript[evidence.start:evidence.end]``.

    Attributes:
        answer_index: position of the answer in the sequence passed to :func:`score_interview`.
        question_id: that answer's question id.
        evidence: the span (matched text and offsets into that answer's transcript).
        signal: what the span shows: a behaviour class (``led``, ``independent``, ``used``, ``assisted``,
            ``participated``, ``aware``, ``none``), ``not_<class>`` for a negated one, ``result`` for a
            quantified result, ``topic`` for an answer about the dimension without a behaviour cue.
    """

    answer_index: int
    question_id: str
    evidence: Evidence
    signal: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "answer_index": self.answer_index,
            "question_id": self.question_id,
            "signal": self.signal,
            **self.evidence.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerEvidence:
        """Inverse of :meth:`to_dict`."""
        return cls(
            answer_index=int(data["answer_index"]),
            question_id=str(data["question_id"]),
            evidence=Evidence.from_dict(data),
            signal=str(data["signal"]),
        )


@dataclass(frozen=True, slots=True)
class DimensionScore:
    """The score of one rubric dimension.

    Attributes:
        key: the dimension key.
        score: the rubric level (1..5) the answers support, or ``None`` for insufficient evidence.
        level_anchor: the anchor of that level, ``None`` when unscored.
        confidence: ``high`` only for a hard dimension with an explicit behaviour cue about its topic.
        needs_human: soft dimension, low confidence, or an unscored must-have.
        evidence: spans of the answers that back the score.
        keywords: topic terms and behaviour cues found, as said by the candidate.
        rationale: one line on how the score was reached.
    """

    key: str
    score: float | None
    level_anchor: str | None
    confidence: Confidence
    needs_human: bool
    evidence: tuple[AnswerEvidence, ...]
    keywords: tuple[str, ...]
    rationale: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "key": self.key,
            "score": self.score,
            "level_anchor": self.level_anchor,
            "confidence": self.confidence,
            "needs_human": self.needs_human,
            "evidence": [e.to_dict() for e in self.evidence],
            "keywords": list(self.keywords),
            "rationale": self.rationale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DimensionScore:
        """Inverse of :meth:`to_dict`."""
        score = data.get("score")
        anchor = data.get("level_anchor")
        return cls(
            key=str(data["key"]),
            score=None if score is None else float(score),
            level_anchor=None if anchor is None else str(anchor),
            confidence=cast(Confidence, data["confidence"]),
            needs_human=bool(data["needs_human"]),
            evidence=tuple(AnswerEvidence.from_dict(e) for e in data.get("evidence", ())),
            keywords=tuple(str(k) for k in data.get("keywords", ())),
            rationale=str(data.get("rationale", "")),
        )


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """The evaluation of one interview against one rubric.

    Attributes:
        rubric_id: the rubric scored against.
        rubric_version: its version.
        dimension_scores: one per rubric dimension, in rubric order.
        total: weighted mean over the scored dimensions on 0..100 (level 5 = 100, level 4 = 80), or
            ``None`` when nothing could be scored.
        coverage: fraction of the rubric's weight that could be scored (0..1).
        recommendation: ``advance``, ``hold`` or ``needs_review``; never a rejection.
        missing_must_have: must-have dimension keys with no evidence or scored at level 2 or below.
        engine_version: scoring engine, cue lexicon and gazetteer versions.
    """

    rubric_id: str
    rubric_version: str
    dimension_scores: tuple[DimensionScore, ...]
    total: float | None
    coverage: float
    recommendation: Recommendation
    missing_must_have: tuple[str, ...]
    engine_version: str

    def score_for(self, key: str) -> DimensionScore:
        """The score of dimension ``key``; ``KeyError`` when the rubric has no such dimension."""
        for score in self.dimension_scores:
            if score.key == key:
                return score
        raise KeyError(key)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (what the hub stores as an Evaluation)."""
        return {
            "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version,
            "dimension_scores": [s.to_dict() for s in self.dimension_scores],
            "total": self.total,
            "coverage": self.coverage,
            "recommendation": self.recommendation,
            "missing_must_have": list(self.missing_must_have),
            "engine_version": self.engine_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Inverse of :meth:`to_dict`."""
        total = data.get("total")
        return cls(
            rubric_id=str(data["rubric_id"]),
            rubric_version=str(data["rubric_version"]),
            dimension_scores=tuple(DimensionScore.from_dict(s) for s in data["dimension_scores"]),
            total=None if total is None else float(total),
            coverage=float(data["coverage"]),
            recommendation=cast(Recommendation, data["recommendation"]),
            missing_must_have=tuple(str(k) for k in data.get("missing_must_have", ())),
            engine_version=str(data["engine_version"]),
        )


@dataclass(frozen=True, slots=True)
class _Read:
    """One answer, analysed once and shared by every dimension."""

    index: int
    answer: Answer
    analysis: BehaviourAnalysis
    topics: tuple[TopicHit, ...]


@dataclass(slots=True)
class _Found:
    """What the answers say about one dimension."""

    cues: list[tuple[_Read, BehaviourCue, bool]]  # (answer, cue, next to an explicit topic term)
    hits: list[tuple[_Read, TopicHit]]
    described: list[_Read]  # tagged answers about the topic with no behaviour cue
    denials: list[tuple[_Read, tuple[int, int]]]  # a negator next to the topic, verb unknown (没touch过)
    results: list[tuple[_Read, tuple[int, int]]]


def score_interview(
    answers: Sequence[Answer],
    rubric: Rubric,
    *,
    advance_at: float = DEFAULT_ADVANCE_AT,
    min_coverage: float = DEFAULT_MIN_COVERAGE,
) -> EvaluationReport:
    """Score every dimension of ``rubric`` from ``answers`` and write the evaluation report.

    Args:
        answers: the transcribed answers, in interview order.
        rubric: the job's rubric (compiled once and cached).
        advance_at: total from which the recommendation is ``advance``.
        min_coverage: below this fraction of weight scored the recommendation is ``needs_review``.

    Deterministic: the same answers and rubric always give the same report.
    """
    compiled = compile_rubric(rubric)
    reads: list[_Read] = []
    for index, answer in enumerate(answers):
        analysis = analyze_behaviour(answer.transcript)
        reads.append(_Read(index, answer, analysis, tuple(compiled.find_topics(analysis))))
    soft = frozenset(d.key for d in rubric.dimensions if d.kind == "soft")
    scores = tuple(_score_dimension(dimension, reads, soft) for dimension in compiled.dimensions)
    return _report(compiled, scores, advance_at=advance_at, min_coverage=min_coverage)


def _units_between(text: str, a: tuple[int, int], b: tuple[int, int]) -> int:
    """Distance between two spans in CJK characters plus words (0 when they touch or overlap)."""
    low, high = (a[1], b[0]) if a[1] <= b[0] else (b[1], a[0])
    if high <= low:
        return 0
    return len(_UNITS_RE.findall(text, low, high))


def _near(read: _Read, cue: BehaviourCue, hit: TopicHit) -> bool:
    if read.analysis.sentence_of(hit.start) != cue.sentence:
        return False
    return _units_between(read.answer.transcript, (cue.start, cue.end), (hit.start, hit.end)) <= _NEAR_UNITS


def _explicit(read: _Read, cue: BehaviourCue, own: list[TopicHit], other: list[TopicHit]) -> bool:
    """True when ``cue`` is about one of ``own`` hits: close by, about as close as any other topic, and
    with no other dimension's topic in between (unpunctuated speech runs statements together)."""
    text = read.answer.transcript
    span = (cue.start, cue.end)
    close = [(h, _units_between(text, span, (h.start, h.end))) for h in (*own, *other) if _near(read, cue, h)]
    if not close:
        return False
    nearest = min(distance for _h, distance in close)
    return any(
        hit in own and distance <= nearest + _TIE_UNITS and not _blocked(cue, hit, other) for hit, distance in close
    )


def _about_other(
    read: _Read, cue: BehaviourCue, own: list[TopicHit], other_hard: list[TopicHit], other_soft: list[TopicHit]
) -> bool:
    """True when the topics nearest ``cue`` in its sentence belong only to other dimensions.

    Another soft dimension's word (沟通, team) competes only inside the cue's own clause; an own topic about
    as near as the nearest one keeps the cue ("distributed transactions": both dimensions' words).
    """
    other = [*other_hard, *(h for h in other_soft if read.analysis.clause_of(h.start) == cue.clause)]
    text = read.answer.transcript
    span = (cue.start, cue.end)
    distances = [
        (h in own, _units_between(text, span, (h.start, h.end)))
        for h in (*own, *other)
        if read.analysis.sentence_of(h.start) == cue.sentence
    ]
    if not distances:
        return False
    nearest = min(distance for _own, distance in distances)
    return not any(is_own and distance <= nearest + _TIE_UNITS for is_own, distance in distances)


def _blocked(cue: BehaviourCue, hit: TopicHit, other: list[TopicHit]) -> bool:
    """True when another dimension's topic sits between ``cue`` and ``hit``."""
    low, high = (cue.end, hit.start) if cue.end <= hit.start else (hit.end, cue.start)
    return any(low <= o.start and o.end <= high for o in other)


def _near_span(read: _Read, span: tuple[int, int], hit: TopicHit) -> bool:
    """A bare negator governs a topic only inside its clause and within a few units of it."""
    if read.analysis.clause_of(span[0]) != read.analysis.clause_of(hit.start):
        return False
    return _units_between(read.answer.transcript, span, (hit.start, hit.end)) <= _DENIAL_UNITS


def _collect(dimension: CompiledDimension, reads: list[_Read], soft: frozenset[str]) -> _Found:
    key = dimension.key
    found = _Found(cues=[], hits=[], described=[], denials=[], results=[])
    for read in reads:
        tagged = key in read.answer.dimension_keys
        own = [hit for hit in read.topics if key in hit.dimension_keys]
        other = [hit for hit in read.topics if key not in hit.dimension_keys]
        # Soft dimensions' words (沟通, 团队, pressure) are too common to pull a cue away from the
        # dimension a question asked about.
        other_hard = [hit for hit in other if not hit.dimension_keys <= soft]
        other_soft = [hit for hit in other if hit.dimension_keys <= soft]
        found.hits.extend((read, hit) for hit in own)
        counted: list[BehaviourCue] = []
        elsewhere: list[BehaviourCue] = []
        for cue in read.analysis.cues:
            explicit = _explicit(read, cue, own, other)
            if explicit and not tagged and dimension.dimension.kind == "soft":
                # An aside counts for a soft dimension only inside the clause that names it.
                explicit = any(read.analysis.clause_of(h.start) == cue.clause for h in own)
            # In an answer to a question about this dimension, behaviour counts unless it is about
            # another dimension's topic; elsewhere it must sit next to this dimension's topic, with no
            # other dimension's topic in between (unpunctuated speech runs statements together).
            if explicit or (tagged and not _about_other(read, cue, own, other_hard, other_soft)):
                found.cues.append((read, cue, explicit))
                counted.append(cue)
            elif tagged:
                elsewhere.append(cue)
        if tagged and not counted and elsewhere:
            # Nothing in the answer to this question is about it alone, yet it shows behaviour in another
            # dimension's words (caching for a backend question): that behaviour still answers the question.
            found.cues.extend((read, cue, False) for cue in elsewhere)
            counted.extend(elsewhere)
        if tagged and not counted:
            short = not own and not read.topics
            denial = next((n for n in read.analysis.negations if any(_near_span(read, n, h) for h in own)), None)
            if denial is None and short and read.analysis.short and read.analysis.negations:
                denial = read.analysis.negations[0]  # "没有。", "Not really, no."
            if denial is not None:
                found.denials.append((read, denial))
            elif own or (short and read.analysis.affirmed) or read.analysis.narrative:
                # About the topic, a bare "会的" / "Yes, I have", or a real account in words we do not know.
                found.described.append(read)
        sentences = {cue.sentence for cue in counted}
        sentences.update(read.analysis.sentence_of(hit.start) for hit in own)
        for span in read.analysis.results:
            if read.analysis.sentence_of(span[0]) in sentences:
                found.results.append((read, span))
    return found


def _score_dimension(dimension: CompiledDimension, reads: list[_Read], soft: frozenset[str]) -> DimensionScore:
    found = _collect(dimension, reads, soft)
    spec = dimension.dimension
    positive = [(r, c, e) for r, c, e in found.cues if not c.negated and c.cls != "none"]
    negative = [(r, c, e) for r, c, e in found.cues if c.negated or c.cls == "none"]

    decisive: list[tuple[_Read, BehaviourCue, bool]]
    result_used: list[tuple[_Read, tuple[int, int]]] = []  # quantified results shown as evidence
    if positive:
        rank = max(c.level for _r, c, _e in positive)
        decisive = [item for item in positive if item[1].level == rank]
        result_used = found.results[:1]
        rationale = f"strongest behaviour: {decisive[0][1].cls}"
    elif negative:
        rank = min(c.level for _r, c, _e in negative)
        decisive = [item for item in negative if item[1].level == rank]
        rationale = f"only denied or absent experience: not {decisive[0][1].cls}"
    elif found.denials:
        rank = 1
        decisive = []
        rationale = "denies the topic in words without a known behaviour cue"
    elif found.described:
        rank = _DESCRIBED_LEVEL
        decisive = []
        rationale = "talks about the topic without saying what they did"
    else:
        return DimensionScore(
            key=spec.key,
            score=None,
            level_anchor=None,
            confidence="low",
            needs_human=spec.kind == "soft" or spec.must_have,
            evidence=(),
            keywords=(),
            rationale="insufficient evidence: the answers do not address this dimension",
        )

    # The most specific class among equally strong cues speaks for the evidence ("都是我独立做的" is
    # independent work, not merely use).
    shown = [c.cls for _r, c, _e in decisive if not c.negated]
    classes = frozenset(sorted(shown, key=BEHAVIOUR_CLASSES.index)[:1])
    words = " ".join(fold_text(r.answer.transcript[c.sentence[0] : c.sentence[1]]) for r, c, _e in decisive)
    level = dimension.level_for(rank, classes, words)

    confident = (
        spec.kind == "hard" and bool(decisive) and any(explicit and not cue.hedged for _r, cue, explicit in decisive)
    )
    confidence: Confidence = "high" if confident else "low"
    if spec.kind == "soft":
        rationale += "; soft dimension: a suggestion for the interviewer"
    return DimensionScore(
        key=spec.key,
        score=float(level.score),
        level_anchor=level.anchor,
        confidence=confidence,
        needs_human=spec.kind == "soft" or confidence == "low",
        evidence=_evidence(found, decisive, result_used),
        keywords=_keywords(found, decisive),
        rationale=rationale,
    )


def _trimmed(text: str, span: tuple[int, int], focus: tuple[int, int]) -> tuple[int, int]:
    """``span`` without edge punctuation and at most :data:`_EVIDENCE_MAX_CHARS` long around ``focus``."""
    start, end = span
    if end - start > _EVIDENCE_MAX_CHARS:
        half = _EVIDENCE_MAX_CHARS // 2
        start = max(start, min(focus[0] - half, end - _EVIDENCE_MAX_CHARS))
        end = min(end, max(start + _EVIDENCE_MAX_CHARS, focus[1]))
        # Never cut an English word in two.
        while start < focus[0] and _is_word_char(text[start - 1 : start]):
            start += 1
        while end > focus[1] and _is_word_char(text[end : end + 1]):
            end -= 1
    piece = text[start:end]
    lead = _EDGE_RE.match(piece)
    if lead is not None:
        start += lead.end()
    tail = _EDGE_RE.search(text[start:end])
    if tail is not None and tail.start() > 0:
        end = start + tail.start()
    if end <= start:
        return focus
    return start, end


def _is_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _evidence(
    found: _Found,
    decisive: list[tuple[_Read, BehaviourCue, bool]],
    results: list[tuple[_Read, tuple[int, int]]],
) -> tuple[AnswerEvidence, ...]:
    items: list[AnswerEvidence] = []
    seen: set[tuple[int, int, int]] = set()

    def add(read: _Read, span: tuple[int, int], focus: tuple[int, int], signal: str) -> None:
        start, end = _trimmed(read.answer.transcript, span, focus)
        if (read.index, start, end) in seen or len(items) >= _MAX_EVIDENCE:
            return
        seen.add((read.index, start, end))
        items.append(
            AnswerEvidence(
                answer_index=read.index,
                question_id=read.answer.question_id,
                evidence=Evidence.from_span(read.answer.transcript, start, end),
                signal=signal,
            )
        )

    ordered = sorted(decisive, key=lambda item: (not item[2], item[0].index, item[1].start))
    for read, cue, _explicit in ordered:
        add(read, cue.sentence, (cue.start, cue.end), f"not_{cue.cls}" if cue.negated else cue.cls)
    for read, span in results:
        add(read, read.analysis.sentence_of(span[0]), span, "result")
    if not items:
        for read, span in found.denials:
            add(read, read.analysis.clause_of(span[0]), span, "negated")
    if not items:
        for read in found.described:
            hit = next((h for r, h in found.hits if r is read), None)
            span = (hit.start, hit.end) if hit is not None else (0, len(read.answer.transcript))
            add(read, read.analysis.sentence_of(span[0]), span, "topic" if hit is not None else "affirmed")
    return tuple(items)


def _keywords(found: _Found, decisive: list[tuple[_Read, BehaviourCue, bool]]) -> tuple[str, ...]:
    words: dict[str, None] = {}
    for read, hit in found.hits:
        words.setdefault(read.answer.transcript[hit.start : hit.end].strip(), None)
    for read, cue, _explicit in decisive:
        words.setdefault(read.answer.transcript[cue.start : cue.end].strip(), None)
    return tuple(w for w in words if w)[:_MAX_KEYWORDS]


def _report(
    compiled: CompiledRubric,
    scores: tuple[DimensionScore, ...],
    *,
    advance_at: float,
    min_coverage: float,
) -> EvaluationReport:
    rubric = compiled.rubric
    weights = {d.key: d.weight for d in rubric.dimensions}
    scored = [s for s in scores if s.score is not None]
    scored_weight = sum(weights[s.key] for s in scored)
    total: float | None = None
    if scored_weight > 0:
        weighted = sum(weights[s.key] * (s.score or 0.0) for s in scored)
        total = round(weighted / scored_weight * 20.0, 2)
    coverage = round(scored_weight / rubric.total_weight, 4)
    by_key = {s.key: s for s in scores}
    missing = tuple(
        d.key
        for d in rubric.dimensions
        if d.must_have and (by_key[d.key].score is None or (by_key[d.key].score or 0.0) <= MUST_HAVE_FLOOR)
    )
    recommendation: Recommendation
    if total is None or coverage < min_coverage or missing:
        recommendation = "needs_review"
    elif total >= advance_at:
        recommendation = "advance"
    else:
        recommendation = "hold"
    return EvaluationReport(
        rubric_id=rubric.rubric_id,
        rubric_version=rubric.version,
        dimension_scores=scores,
        total=total,
        coverage=coverage,
        recommendation=recommendation,
        missing_must_have=missing,
        engine_version=(f"{SCORING_VERSION}+cues.{compiled.lexicon_version}+gazetteer.{compiled.gazetteer_version}"),
    )
