"""Interview question sets per candidate type and role family, in Chinese and English.

Every question is tied to the rubric dimensions it serves, so answers can be scored per dimension
(:class:`engines.scoring.Answer` carries the keys). Questions come from a bank shipped as data
(``engines/data/questions.json``); a dimension the bank has nothing for gets a behavioural question built
from its name and anchors, so every dimension of any rubric is asked about.

Example:
    >>> from engines.rubric import load_default_rubric
    >>> qs = question_set(load_default_rubric("sales"), candidate_type="graduate", language="en")
    >>> sorted({key for q in qs for key in q.dimension_keys}) == sorted(
    ...     d.key for d in load_default_rubric("sales").dimensions)
    True
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, cast, get_args

from engines.normalize import is_cjk
from engines.rubric import Dimension, Rubric, fold_text

__all__ = [
    "CANDIDATE_TYPES",
    "BankQuestion",
    "CandidateType",
    "InterviewQuestion",
    "QuestionLanguage",
    "display_name",
    "question_bank",
    "question_set",
    "questions_for",
]

CandidateType = Literal["graduate", "experienced", "manager"]
QuestionLanguage = Literal["zh", "en"]
CANDIDATE_TYPES: tuple[CandidateType, ...] = get_args(CandidateType)

_GENERIC: dict[tuple[CandidateType, QuestionLanguage], str] = {
    ("graduate", "zh"): (
        "在课程、实习或项目中，你在「{name}」方面做过什么？请讲一个具体例子：你自己做了什么，结果如何？"
    ),
    ("experienced", "zh"): "请讲一个能体现你「{name}」的具体工作经历：当时的情况、你本人做了什么、结果如何？",
    ("manager", "zh"): "在「{name}」方面，你带团队做过什么？哪些决定是你做的，团队取得了什么结果？",
    ("graduate", "en"): (
        "In coursework, internships or projects, what have you done in {name}? "
        "Give one specific example: what you did yourself and what came of it."
    ),
    ("experienced", "en"): (
        "Tell me about a specific piece of work that shows your {name}: the situation, "
        "what you personally did, and the result."
    ),
    ("manager", "en"): (
        "What has your team done in {name} under your lead? Which decisions were yours, and what did the team achieve?"
    ),
}
_GENERIC_LISTEN: dict[QuestionLanguage, tuple[str, ...]] = {
    "zh": ("本人的贡献还是团队的成果（我 vs 我们）", "具体的例子、做法和结果"),
    "en": ("personal contribution versus the team's (I vs we)", "a concrete example, actions and results"),
}


@dataclass(frozen=True, slots=True)
class BankQuestion:
    """A question of the bank, in both languages, with the dimension it serves."""

    question_id: str
    dimension: str
    triggers: tuple[str, ...]
    families: tuple[str, ...]
    candidate_types: tuple[CandidateType, ...]
    text_zh: str
    text_en: str
    listen_zh: tuple[str, ...]
    listen_en: tuple[str, ...]

    def serves(self, dimension: Dimension) -> bool:
        """True when the question fits ``dimension``: same key, or a trigger in its key or name."""
        if dimension.key == self.dimension:
            return True
        described = fold_text(f"{dimension.key.replace('_', ' ')} {dimension.name}")
        return any(fold_text(trigger) in described for trigger in self.triggers)

    def fits(self, role_family: str | None, candidate_type: CandidateType) -> bool:
        """True when the question is meant for this role family and candidate type."""
        family_ok = "*" in self.families or role_family is None or role_family in self.families
        return family_ok and candidate_type in self.candidate_types


@dataclass(frozen=True, slots=True)
class InterviewQuestion:
    """A question to ask, in one language, tied to the rubric dimensions its answer is scored on."""

    question_id: str
    text: str
    language: QuestionLanguage
    dimension_keys: tuple[str, ...]
    candidate_type: CandidateType
    listen_for: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serializable form."""
        return {
            "question_id": self.question_id,
            "text": self.text,
            "language": self.language,
            "dimension_keys": list(self.dimension_keys),
            "candidate_type": self.candidate_type,
            "listen_for": list(self.listen_for),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InterviewQuestion:
        """Inverse of :meth:`to_dict`."""
        return cls(
            question_id=str(data["question_id"]),
            text=str(data["text"]),
            language=cast(QuestionLanguage, data["language"]),
            dimension_keys=tuple(str(k) for k in data["dimension_keys"]),
            candidate_type=cast(CandidateType, data["candidate_type"]),
            listen_for=tuple(str(x) for x in data.get("listen_for", ())),
        )


@cache
def question_bank() -> tuple[BankQuestion, ...]:
    """The shipped question bank, in file order."""
    raw = json.loads(resources.files("engines").joinpath("data", "questions.json").read_text(encoding="utf-8"))
    bank: list[BankQuestion] = []
    for entry in raw["questions"]:
        types = tuple(entry["types"])
        for candidate_type in types:
            if candidate_type not in CANDIDATE_TYPES:
                raise ValueError(f"question {entry['id']!r}: unknown candidate type {candidate_type!r}")
        bank.append(
            BankQuestion(
                question_id=str(entry["id"]),
                dimension=str(entry["dimension"]),
                triggers=tuple(entry.get("triggers", ())),
                families=tuple(entry["families"]),
                candidate_types=cast(tuple[CandidateType, ...], types),
                text_zh=str(entry["zh"]),
                text_en=str(entry["en"]),
                listen_zh=tuple(entry.get("listen_zh", ())),
                listen_en=tuple(entry.get("listen_en", ())),
            )
        )
    return tuple(bank)


def display_name(dimension: Dimension, language: QuestionLanguage) -> str:
    """The part of a bilingual name (``三维建模 / 3D modeling``) in ``language``, else the whole name."""
    parts = [p.strip() for p in dimension.name.split("/") if p.strip()]
    for part in parts:
        if any(is_cjk(c) for c in part) == (language == "zh"):
            return part
    return dimension.name.strip()


def _generic(dimension: Dimension, candidate_type: CandidateType, language: QuestionLanguage) -> InterviewQuestion:
    """A behavioural question built from the dimension's name, listening for its top anchor."""
    name = display_name(dimension, language)
    top = dimension.levels[0]
    listen = (
        f"达到{top.score}分的表现：{top.anchor}" if language == "zh" else f"level {top.score} looks like: {top.anchor}",
        *_GENERIC_LISTEN[language],
    )
    return InterviewQuestion(
        question_id=f"generic.{dimension.key}.{candidate_type}",
        text=_GENERIC[(candidate_type, language)].format(name=name),
        language=language,
        dimension_keys=(dimension.key,),
        candidate_type=candidate_type,
        listen_for=listen,
    )


def questions_for(
    dimension: Dimension,
    *,
    candidate_type: CandidateType = "experienced",
    language: QuestionLanguage = "zh",
    role_family: str | None = None,
) -> list[InterviewQuestion]:
    """Every bank question for ``dimension`` that fits the role family and candidate type, in bank order.

    Falls back to bank questions for the dimension meant for other candidate types, then to a generic
    behavioural question, so the list is never empty.
    """
    bank = [q for q in question_bank() if q.serves(dimension)]
    chosen = [q for q in bank if q.fits(role_family, candidate_type)]
    if not chosen:
        chosen = [q for q in bank if "*" in q.families or role_family is None or role_family in q.families]
    if not chosen:
        return [_generic(dimension, candidate_type, language)]
    return [
        InterviewQuestion(
            question_id=q.question_id,
            text=q.text_zh if language == "zh" else q.text_en,
            language=language,
            dimension_keys=(dimension.key,),
            candidate_type=candidate_type,
            listen_for=q.listen_zh if language == "zh" else q.listen_en,
        )
        for q in chosen
    ]


def question_set(
    rubric: Rubric,
    *,
    candidate_type: CandidateType = "experienced",
    language: QuestionLanguage = "zh",
    role_family: str | None = None,
    per_dimension: int = 1,
) -> tuple[InterviewQuestion, ...]:
    """Questions covering every dimension of ``rubric``, heaviest dimension first.

    Args:
        rubric: the job's rubric.
        candidate_type: ``graduate``, ``experienced`` or ``manager``.
        language: ``zh`` or ``en``.
        role_family: a family of the bank (the default rubrics' ids); defaults to the rubric id.
        per_dimension: at most this many questions per dimension.
    """
    if candidate_type not in CANDIDATE_TYPES:
        raise ValueError(f"unknown candidate type {candidate_type!r}; expected one of {CANDIDATE_TYPES}")
    family = role_family if role_family is not None else rubric.rubric_id
    ordered = sorted(enumerate(rubric.dimensions), key=lambda item: (-item[1].weight, item[0]))
    questions: list[InterviewQuestion] = []
    seen: set[str] = set()
    for _index, dimension in ordered:
        picked = [
            q
            for q in questions_for(dimension, candidate_type=candidate_type, language=language, role_family=family)
            if q.question_id not in seen
        ][: max(per_dimension, 1)]
        if not picked:
            picked = [_generic(dimension, candidate_type, language)]
        for question in picked:
            seen.add(question.question_id)
            questions.append(question)
    return tuple(questions)
