"""Interview outlines: targeted questions from a resume, a job's requirements and its rubric.

An outline holds, in this order:

1. ``verify_must_have``: a must-have skill the resume does not show, or denies (不熟悉Go);
2. ``probe_ownership``: where the resume says only "participated" (参与, 协助, assisted), ask what the
   candidate personally owned;
3. ``dig_into_result``: a claimed result with a number (提升了30%, reduced latency by 40%): how was it
   measured, against what baseline, and whose contribution was it;
4. ``cover_dimension``: a question for every weighted rubric dimension not yet asked about, fitted to the
   candidate type (graduate, experienced, manager).

Each question names the rubric dimensions it serves, the resume text that prompted it (evidence with
offsets into the resume) and what the interviewer should listen for. The outline is deterministic: the
same inputs give the same outline. Its language follows the resume unless one is given.

Example:
    >>> from engines.extract import extract_features
    >>> from engines.rubric import load_default_rubric
    >>> from engines.screening import JobRequirements
    >>> text = "项目经验\\n参与了减速机外壳的三维建模，出图效率提升了30%"
    >>> outline = generate_outline(
    ...     extract_features(text), text, JobRequirements.build(must_have=["SolidWorks", "AutoCAD"]),
    ...     load_default_rubric("mechanical_designer"))
    >>> [q.purpose for q in outline.questions][:3]
    ['verify_must_have', 'probe_ownership', 'dig_into_result']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from engines.evidence import Evidence
from engines.features import ResumeFeatures, SkillMention
from engines.gazetteer import get_gazetteer
from engines.questions import CANDIDATE_TYPES, CandidateType, QuestionLanguage, questions_for
from engines.rubric import CompiledRubric, Rubric, TopicHit, analyze_behaviour, compile_rubric, fold_text
from engines.screening import JobRequirements

__all__ = [
    "OUTLINE_VERSION",
    "InterviewOutline",
    "OutlinePurpose",
    "OutlineQuestion",
    "generate_outline",
    "infer_candidate_type",
]

#: Bump when outlines can change for the same inputs.
OUTLINE_VERSION = "interview-outline-1.0.0"

OutlinePurpose = Literal["verify_must_have", "probe_ownership", "dig_into_result", "cover_dimension"]

_MAX_PROBES = 4
_MAX_RESULTS = 3
_QUOTE_CHARS = 120
_MANAGER_RE = re.compile(
    r"管理\S{0,6}团队|带领\S{0,8}(?:人|团队)|团队负责人|部门负责人|下属\d|\d+\s*人(?:的)?团队|总监|经理(?!助理)"
    r"|managed\s+(?:a\s+)?team|team\s+of\s+\d+|direct\s+reports|people\s+manager|head\s+of|director|manager\b"
)
_GRADUATE_RE = re.compile(r"应届|在校|毕业生|实习|校园|graduate|intern(?:ship)?\b|student|class\s+of\s+20\d\d")
_EDGE_RE = re.compile(r"^[\s,，、。.!！?？;；:：•●▪■◆\-*·]+|[\s,，、。.!！?？;；:：]+$")

_TEXT: dict[str, dict[QuestionLanguage, str]] = {
    "missing": {
        "zh": (
            "岗位要求{name}，但简历中没有看到相关经历。你用{name}做过什么？请讲一个具体例子，以及你本人做了哪些部分。"
        ),
        "en": (
            "The role requires {name}, but I did not see it on your resume. What have you done with {name}? "
            "Walk me through a specific example and your own part in it."
        ),
    },
    "negated": {
        "zh": "简历里写到「{quote}」。岗位需要{name}：你目前掌握到什么程度？如果入职后马上要用，你打算怎么补上？",
        "en": (
            "Your resume says \u201c{quote}\u201d. The role needs {name}: how far along are you, and how would "
            "you close the gap if you needed it from day one?"
        ),
    },
    "probe": {
        "zh": "简历中写到「{quote}」。在这件事里你本人具体负责哪一部分？哪些决定是你做的，哪些是团队或别人做的？",
        "en": (
            "Your resume says \u201c{quote}\u201d. What exactly was your part? Which decisions did you make "
            "yourself, and which were the team's or someone else's?"
        ),
    },
    "result": {
        "zh": "简历中提到「{quote}」。这个结果是怎么衡量的？基线是多少、用了多长时间？其中你本人的贡献是什么？",
        "en": (
            "Your resume says \u201c{quote}\u201d. How was that measured, what was the baseline and time frame, "
            "and what was your own contribution?"
        ),
    },
}
_LISTEN: dict[str, dict[QuestionLanguage, tuple[str, ...]]] = {
    "missing": {
        "zh": ("能否说出具体项目和本人职责", "实际深度：独立完成、参与还是只了解", "坦诚说明差距，并有可行的补足计划"),
        "en": (
            "a specific project and their own responsibilities",
            "real depth: did it alone, took part, or only knows of it",
            "honesty about gaps and a credible plan to close them",
        ),
    },
    "probe": {
        "zh": ("用“我”还是“我们”描述", "能说出本人做的具体决定和产出", "主导：讲得清取舍；协助：讲得清分工"),
        "en": (
            "\u201cI\u201d versus \u201cwe\u201d",
            "specific decisions and deliverables of their own",
            "if they led: the trade-offs; if they assisted: the split of work",
        ),
    },
    "result": {
        "zh": ("说得出基线、测量方法和时间范围", "区分个人贡献与团队或外部因素", "数字前后一致，经得起追问"),
        "en": (
            "baseline, measurement method and time frame",
            "their contribution versus the team's or outside factors",
            "numbers that stay consistent under follow-up questions",
        ),
    },
}


@dataclass(frozen=True, slots=True)
class OutlineQuestion:
    """One question of an outline.

    Attributes:
        text: the question, in the outline's language.
        purpose: ``verify_must_have``, ``probe_ownership``, ``dig_into_result`` or ``cover_dimension``.
        dimension_keys: the rubric dimensions the answer is scored on.
        resume_evidence: the resume text that prompted the question (offsets into the resume), if any.
        listen_for: what the interviewer should listen for.
        skill_id: the gazetteer skill the question is about, if any.
    """

    text: str
    purpose: OutlinePurpose
    dimension_keys: tuple[str, ...]
    resume_evidence: Evidence | None
    listen_for: tuple[str, ...]
    skill_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "text": self.text,
            "purpose": self.purpose,
            "dimension_keys": list(self.dimension_keys),
            "resume_evidence": None if self.resume_evidence is None else self.resume_evidence.to_dict(),
            "listen_for": list(self.listen_for),
            "skill_id": self.skill_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutlineQuestion:
        """Inverse of :meth:`to_dict`."""
        evidence = data.get("resume_evidence")
        skill = data.get("skill_id")
        return cls(
            text=str(data["text"]),
            purpose=cast(OutlinePurpose, data["purpose"]),
            dimension_keys=tuple(str(k) for k in data["dimension_keys"]),
            resume_evidence=None if evidence is None else Evidence.from_dict(evidence),
            listen_for=tuple(str(x) for x in data.get("listen_for", ())),
            skill_id=None if skill is None else str(skill),
        )


@dataclass(frozen=True, slots=True)
class InterviewOutline:
    """Questions for one candidate and job, with what they cover.

    Attributes:
        questions: in asking order (must-haves, ownership, results, then the remaining dimensions).
        coverage: fraction of the rubric's weight with at least one question (1.0 by construction).
        language: ``zh`` or ``en``.
        candidate_type: ``graduate``, ``experienced`` or ``manager``.
        missing_must_have: must-have skill ids the resume does not show (absent or denied).
        rubric_id: the rubric the questions serve.
        rubric_version: its version.
        engine_version: :data:`OUTLINE_VERSION`.
    """

    questions: tuple[OutlineQuestion, ...]
    coverage: float
    language: QuestionLanguage
    candidate_type: CandidateType
    missing_must_have: tuple[str, ...]
    rubric_id: str
    rubric_version: str
    engine_version: str = OUTLINE_VERSION

    def covered_dimensions(self) -> frozenset[str]:
        """Keys of the rubric dimensions some question serves."""
        return frozenset(key for q in self.questions for key in q.dimension_keys)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form (what the hub stores as an InterviewOutline)."""
        return {
            "questions": [q.to_dict() for q in self.questions],
            "coverage": self.coverage,
            "language": self.language,
            "candidate_type": self.candidate_type,
            "missing_must_have": list(self.missing_must_have),
            "rubric_id": self.rubric_id,
            "rubric_version": self.rubric_version,
            "engine_version": self.engine_version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InterviewOutline:
        """Inverse of :meth:`to_dict`."""
        return cls(
            questions=tuple(OutlineQuestion.from_dict(q) for q in data["questions"]),
            coverage=float(data["coverage"]),
            language=cast(QuestionLanguage, data["language"]),
            candidate_type=cast(CandidateType, data["candidate_type"]),
            missing_must_have=tuple(str(s) for s in data.get("missing_must_have", ())),
            rubric_id=str(data["rubric_id"]),
            rubric_version=str(data["rubric_version"]),
            engine_version=str(data.get("engine_version", OUTLINE_VERSION)),
        )


def infer_candidate_type(features: ResumeFeatures, resume_text: str) -> CandidateType:
    """``manager`` when the resume shows people management, ``graduate`` under a year of experience
    (or a student or intern profile with no stated years), else ``experienced``."""
    folded = fold_text(resume_text)
    if _MANAGER_RE.search(folded):
        return "manager"
    years = features.years_experience
    if (years is not None and years < 1) or (years is None and _GRADUATE_RE.search(folded)):
        return "graduate"
    return "experienced"


def generate_outline(
    features: ResumeFeatures,
    resume_text: str,
    requirements: JobRequirements,
    rubric: Rubric,
    *,
    language: QuestionLanguage | None = None,
    candidate_type: CandidateType | None = None,
) -> InterviewOutline:
    """Questions aimed at this candidate for this job, each tied to rubric dimensions and resume evidence.

    Args:
        features: the resume's extracted features (their evidence must point into ``resume_text``).
        resume_text: the resume text the features were extracted from.
        requirements: the job's requirements (must-haves are verified).
        rubric: the job's rubric (every dimension gets at least one question).
        language: ``zh`` or ``en``; defaults to the resume's language (Chinese for mixed resumes).
        candidate_type: defaults to :func:`infer_candidate_type`.
    """
    lang: QuestionLanguage = language if language is not None else ("en" if features.language == "en" else "zh")
    ctype = candidate_type if candidate_type is not None else infer_candidate_type(features, resume_text)
    if ctype not in CANDIDATE_TYPES:
        raise ValueError(f"unknown candidate type {ctype!r}; expected one of {CANDIDATE_TYPES}")
    compiled = compile_rubric(rubric)
    builder = _Builder(compiled, resume_text, lang)

    missing = builder.verify_must_haves(features, requirements)
    builder.probe_ownership(features, requirements)
    builder.dig_into_results(requirements)
    builder.cover_dimensions(ctype)

    covered = {key for q in builder.questions for key in q.dimension_keys}
    weight = sum(d.weight for d in rubric.dimensions if d.key in covered)
    return InterviewOutline(
        questions=tuple(builder.questions),
        coverage=round(weight / rubric.total_weight, 4),
        language=lang,
        candidate_type=ctype,
        missing_must_have=missing,
        rubric_id=rubric.rubric_id,
        rubric_version=rubric.version,
    )


class _Builder:
    """Accumulates questions, skipping duplicates, for one resume and rubric."""

    def __init__(self, compiled: CompiledRubric, resume_text: str, language: QuestionLanguage) -> None:
        self.compiled = compiled
        self.text = resume_text
        self.language = language
        self.analysis = analyze_behaviour(resume_text)
        self.questions: list[OutlineQuestion] = []
        self._asked_spans: set[tuple[int, int]] = set()
        self._resume_topics: list[TopicHit] | None = None  # found once, on first use

    # --- helpers ----------------------------------------------------------------------------------------

    def _add(self, question: OutlineQuestion) -> None:
        if any(q.text == question.text for q in self.questions):
            return
        self.questions.append(question)
        if question.resume_evidence is not None:
            self._asked_spans.add((question.resume_evidence.start, question.resume_evidence.end))

    def _clause(self, start: int, end: int) -> Evidence:
        """The resume sentence around ``[start, end)``, trimmed to a quotable length."""
        low, high = self.analysis.sentence_of(start)
        if high - low > _QUOTE_CHARS:
            half = _QUOTE_CHARS // 2
            low = max(low, min(start - half, high - _QUOTE_CHARS))
            high = min(high, max(end, low + _QUOTE_CHARS))
            low, high = _snap_to_words(self.text, low, high, start, end)
        piece = self.text[low:high]
        lead = _EDGE_RE.match(piece)
        if lead is not None:
            low += lead.end()
        tail = _EDGE_RE.search(self.text[low:high])
        if tail is not None and tail.start() > 0:
            high = low + tail.start()
        if high <= low:
            low, high = start, end
        return Evidence.from_span(self.text, low, high)

    def _mention_evidence(self, mention: SkillMention) -> Evidence | None:
        evidence = mention.evidence
        if not evidence.is_valid_for(self.text):
            return None  # features from another text: never quote a span that is not in this resume
        return self._clause(evidence.start, evidence.end)

    def _skill_dimensions(self, skill_id: str) -> tuple[str, ...]:
        keys = [d.key for d in self.compiled.dimensions if skill_id in d.skill_ids]
        if not keys and skill_id in get_gazetteer().skills:
            skill = get_gazetteer().get(skill_id)
            hits = self.compiled.find_topics(f"{skill.name} / {skill.name_zh}")
            keys = sorted({key for hit in hits for key in hit.dimension_keys})
        return tuple(keys)

    def _text_dimensions(self, evidence: Evidence) -> tuple[str, ...]:
        hits = self.compiled.find_topics(evidence.text)
        order = [d.key for d in self.compiled.dimensions]
        found = {key for hit in hits for key in hit.dimension_keys}
        return tuple(key for key in order if key in found)

    def _fallback_dimensions(self) -> tuple[str, ...]:
        """The heaviest must-have hard dimension, else the heaviest hard one, else the heaviest one."""
        dims = list(self.compiled.rubric.dimensions)
        for pool in (
            [d for d in dims if d.must_have and d.kind == "hard"],
            [d for d in dims if d.kind == "hard"],
            dims,
        ):
            if pool:
                return (max(pool, key=lambda d: (d.weight, -dims.index(d))).key,)
        return ()

    def _skill_name(self, skill_id: str) -> str:
        return get_gazetteer().name(skill_id, self.language)

    # --- the four kinds of question ------------------------------------------------------------------------

    def verify_must_haves(self, features: ResumeFeatures, requirements: JobRequirements) -> tuple[str, ...]:
        missing: list[str] = []
        for skill_id in requirements.must_have:
            if features.has_skill(skill_id):
                continue
            missing.append(skill_id)
            name = self._skill_name(skill_id)
            denied = [m for m in features.skill(skill_id) if m.negated]
            evidence = self._mention_evidence(denied[0]) if denied else None
            if evidence is not None:
                text = _TEXT["negated"][self.language].format(name=name, quote=evidence.text)
            else:
                text = _TEXT["missing"][self.language].format(name=name)
            self._add(
                OutlineQuestion(
                    text=text,
                    purpose="verify_must_have",
                    dimension_keys=self._skill_dimensions(skill_id) or self._fallback_dimensions(),
                    resume_evidence=evidence,
                    listen_for=_LISTEN["missing"][self.language],
                    skill_id=skill_id,
                )
            )
        return tuple(missing)

    def probe_ownership(self, features: ResumeFeatures, requirements: JobRequirements) -> None:
        """Skills the resume only "participated" in (job skills first), then participation phrases."""
        wanted = list(requirements.must_have) + [w.skill_id for w in requirements.nice_to_have]
        priority = {skill_id: i for i, skill_id in enumerate(wanted)}
        candidates: dict[str, SkillMention] = {}
        for mention in features.skills:
            if mention.negated or mention.involvement != "participated":
                continue
            if features.best_involvement(mention.skill_id) != "participated":
                continue  # led or used elsewhere in the resume: ownership is already claimed
            candidates.setdefault(mention.skill_id, mention)
        ordered = sorted(candidates.values(), key=lambda m: (priority.get(m.skill_id, len(priority)), m.evidence.start))
        probes = 0
        for mention in ordered:
            if probes >= _MAX_PROBES:
                return
            evidence = self._mention_evidence(mention)
            if evidence is None or (evidence.start, evidence.end) in self._asked_spans:
                continue
            keys = self._skill_dimensions(mention.skill_id) or self._text_dimensions(evidence)
            self._add(self._probe(evidence, keys, mention.skill_id))
            probes += 1
        # Participation without a known skill ("参与了支付系统重构") deserves the same question.
        for cue in self.analysis.cues:
            if probes >= _MAX_PROBES:
                return
            if cue.negated or cue.cls not in ("participated", "assisted"):
                continue
            evidence = self._clause(cue.start, cue.end)
            if any(_overlaps(evidence, span) for span in self._asked_spans):
                continue
            self._add(self._probe(evidence, self._text_dimensions(evidence), None))
            probes += 1

    def _probe(self, evidence: Evidence, keys: tuple[str, ...], skill_id: str | None) -> OutlineQuestion:
        return OutlineQuestion(
            text=_TEXT["probe"][self.language].format(quote=evidence.text),
            purpose="probe_ownership",
            dimension_keys=keys or self._fallback_dimensions(),
            resume_evidence=evidence,
            listen_for=_LISTEN["probe"][self.language],
            skill_id=skill_id,
        )

    def dig_into_results(self, requirements: JobRequirements) -> None:
        """Quantified claims, those about the job's skills or rubric topics first, then in resume order."""
        seen: set[tuple[int, int]] = set()
        claims: list[tuple[int, int, Evidence, tuple[str, ...]]] = []
        for start, end in self.analysis.results:
            evidence = self._clause(start, end)
            if (evidence.start, evidence.end) in seen:
                continue
            seen.add((evidence.start, evidence.end))
            keys = self._text_dimensions(evidence)
            claims.append((0 if keys else 1, evidence.start, evidence, keys))
        claims.sort(key=lambda item: (item[0], item[1]))
        for _rank, _start, evidence, keys in claims[:_MAX_RESULTS]:
            self._add(
                OutlineQuestion(
                    text=_TEXT["result"][self.language].format(quote=evidence.text),
                    purpose="dig_into_result",
                    dimension_keys=keys or self._fallback_dimensions(),
                    resume_evidence=evidence,
                    listen_for=_LISTEN["result"][self.language],
                )
            )

    def cover_dimensions(self, candidate_type: CandidateType) -> None:
        """A question for every dimension no question serves yet, heaviest first."""
        covered = {key for q in self.questions for key in q.dimension_keys}
        dims = list(self.compiled.rubric.dimensions)
        for dimension in sorted(dims, key=lambda d: (-d.weight, dims.index(d))):
            if dimension.key in covered:
                continue
            bank = questions_for(
                dimension,
                candidate_type=candidate_type,
                language=self.language,
                role_family=self.compiled.rubric.rubric_id,
            )[0]
            top = dimension.levels[0]
            anchor = f"5分表现：{top.anchor}" if self.language == "zh" else f"level 5 looks like: {top.anchor}"
            self._add(
                OutlineQuestion(
                    text=bank.text,
                    purpose="cover_dimension",
                    dimension_keys=(dimension.key,),
                    resume_evidence=self._topic_evidence(dimension.key),
                    listen_for=(*bank.listen_for, anchor),
                )
            )
            covered.add(dimension.key)

    def _topic_evidence(self, key: str) -> Evidence | None:
        """The first resume sentence that shows behaviour about dimension ``key``, as interviewer context."""
        active = {cue.sentence for cue in self.analysis.cues if not cue.negated}
        if self._resume_topics is None:
            self._resume_topics = self.compiled.find_topics(self.analysis)
        for hit in self._resume_topics:
            if key in hit.dimension_keys and self.analysis.sentence_of(hit.start) in active:
                return self._clause(hit.start, hit.end)
        return None


def _snap_to_words(text: str, low: int, high: int, start: int, end: int) -> tuple[int, int]:
    """Move a cut window inwards to word boundaries so a quote never starts or ends mid-word."""
    while low < start and text[low - 1 : low].isascii() and text[low - 1 : low].isalnum():
        low += 1
    while high > end and text[high : high + 1].isascii() and text[high : high + 1].isalnum():
        high -= 1
    return low, high


def _overlaps(evidence: Evidence, span: tuple[int, int]) -> bool:
    return evidence.start < span[1] and span[0] < evidence.end
