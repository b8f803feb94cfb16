"""A seeded, deterministic generator of interview transcripts with known truth, for tests and benchmarks.

Each generated interview answers questions of one rubric in Chinese, English or mixed speech and records,
per dimension, the level (1..5) the answers express or ``None`` when the dimension is never addressed.
The speech is deliberately untidy: fillers (嗯, 那个, um, like), self-corrections ("我主导的，不对，是参与的"),
hedges, code-switching ("这个project是我lead的"), dimensions mentioned in answers to other questions,
off-topic deflections, lost punctuation, homophone slips and lowercased English, as an ASR would give.

The phrase banks here are written apart from the scoring engine's cue lexicon on purpose, and include
phrasings the engine does not know: the benchmark measures the engine, not the generator's templates.
People's real answers are still richer; hand-written transcripts in the tests cover that.

Example:
    >>> from engines.rubric import load_default_rubric
    >>> a = generate_interviews(3, seed=7, rubrics=[load_default_rubric("sales")])
    >>> b = generate_interviews(3, seed=7, rubrics=[load_default_rubric("sales")])
    >>> a == b
    True
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from engines.questions import CANDIDATE_TYPES, CandidateType, QuestionLanguage, display_name, questions_for
from engines.rubric import Dimension, Rubric, default_rubrics
from engines.scoring import Answer

__all__ = [
    "GeneratedInterview",
    "TranscriptLanguage",
    "generate_interview",
    "generate_interviews",
]

TranscriptLanguage = Literal["zh", "en", "mixed"]
_LANGUAGES: tuple[TranscriptLanguage, ...] = get_args(TranscriptLanguage)

_TOPICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # key or "<rubric id>.<key>": (Chinese topic phrases, English topic phrases); a few are spellings no
    # gazetteer lists.
    "backend_development": (
        ("后端接口", "后端服务", "Java后端", "Python后端开发", "服务端开发", "后台服务"),
        ("backend APIs", "the backend services", "REST endpoints in Django", "server-side code"),
    ),
    "databases": (
        ("数据库", "MySQL优化", "慢查询优化", "表结构设计", "SQL"),
        ("database tuning", "MySQL", "the schema design", "slow queries", "SQL"),
    ),
    "system_design": (
        ("系统架构", "微服务拆分", "高并发设计", "缓存方案"),
        ("system design", "the microservices architecture", "the caching layer", "distributed systems"),
    ),
    "problem_solving": (
        ("线上问题排查", "故障定位", "排查bug"),
        ("troubleshooting production issues", "debugging outages", "root cause analysis"),
    ),
    "communication": (
        ("跟客户沟通", "需求沟通", "向领导汇报", "给新同事讲解"),
        ("explaining things to clients", "stakeholder communication", "presenting to management"),
    ),
    "teamwork": (
        ("团队协作", "和同事协作", "跨部门合作"),
        ("team projects", "working with teammates", "cross-functional collaboration"),
    ),
    "modeling_3d": (
        ("三维建模", "SolidWorks建模", "UG建模", "3D建模", "装配体建模", "三维画图"),
        ("3D modeling", "SolidWorks models", "assemblies in Creo", "solid works parts"),
    ),
    "engineering_drawings": (
        ("出工程图", "图纸和公差", "二维出图", "形位公差"),
        ("engineering drawings", "tolerancing", "GD&T"),
    ),
    "structural_design": (
        ("结构设计", "强度校核", "有限元仿真", "钣金结构"),
        ("structural design", "FEA simulations", "sheet metal parts"),
    ),
    "manufacturing": (
        ("试产", "加工工艺", "跟供应商对接量产"),
        ("trial production", "machining issues", "working with suppliers on production"),
    ),
    "complaint_handling": (
        ("客诉处理", "投诉处理", "处理客户投诉", "售后纠纷"),
        ("customer complaints", "escalated complaints", "refund disputes"),
    ),
    "team_management": (
        ("团队管理", "带客服团队", "排班和培训", "绩效考核"),
        ("managing the support team", "scheduling and coaching", "performance reviews"),
    ),
    "service_metrics": (
        ("满意度指标", "工单数据分析", "首次解决率", "服务质检"),
        ("CSAT", "first contact resolution", "ticket metrics"),
    ),
    "crm_tools": (("CRM系统", "工单系统", "Salesforce", "客户管理系统"), ("the CRM", "Salesforce", "Zendesk tickets")),
    "sales.crm_tools": (("CRM系统", "Salesforce", "客户管理系统", "纷享销客"), ("the CRM", "Salesforce", "HubSpot")),
    "stress_resilience": (
        ("大促高峰期的压力", "被客户拒绝", "加班赶进度"),
        ("pressure during peak season", "rejection", "tight deadlines"),
    ),
    "prospecting": (
        ("开发新客户", "陌拜", "电销拓客", "找客户线索"),
        ("prospecting", "cold calls", "finding new clients"),
    ),
    "negotiation_closing": (
        ("谈判签单", "价格谈判", "合同谈判"),
        ("negotiating deals", "closing contracts", "price negotiations"),
    ),
    "target_achievement": (
        ("业绩指标", "季度销售目标", "销售额"),
        ("my quota", "the quarterly target", "revenue targets"),
    ),
}

_LEVELS_ZH: dict[int, tuple[str, ...]] = {
    5: (
        "{t}这块是我牵头做的，从方案到落地基本都是我拍板",
        "当时{t}是我主导的，带着两个同事一起做，最后{r}",
        "{t}整个是我从零搭起来的，{r}",
        "我是{t}的负责人，整体方案是我定的",
        "这个{t}的项目我来带队，{r}",
        "{t}我带过团队做，还带了三个新人",
    ),
    4: (
        "{t}我自己独立做过好几次",
        "{t}这部分是我一个人完成的",
        "平时{t}都是我自己来做，不需要别人帮忙",
        "{t}基本上没找别人帮忙，自己搞定的",
        "{t}我做了两年了，日常工作就是这个",
        "{t}我用得比较熟练，上一个项目里也是我做的",
    ),
    3: (
        "{t}我参与过，不过主要是配合组长",
        "{t}是我们组一起做的，我在里面打下手",
        "在师傅指导下做过一些{t}",
        "{t}我协助过同事，他主要负责，我帮他做一部分",
        "{t}的话，我们团队做过，我跟着学了不少",
        "这个{t}项目我有参与，但不是我主导的",
    ),
    2: (
        "{t}我在学校学过一点，没有实际做过",
        "{t}我了解一些基本概念，看过几本书",
        "{t}在课上接触过，工作里还没用上",
        "{t}的话我自学过一段时间的网课，但还没有在项目里用过",
        "听说过{t}，大概知道是怎么回事",
    ),
    1: (
        "{t}说实话没接触过",
        "{t}我不太会，之前没有做过",
        "这个{t}我完全没有经验",
        "{t}我不清楚，没碰过",
        "{t}这个我真不懂",
    ),
}
_LEVELS_EN: dict[int, tuple[str, ...]] = {
    5: (
        "I led the {t} work end to end, and {r}",
        "I owned {t}, I made the design calls and {r}",
        "I set up our {t} from scratch and later mentored two juniors on it",
        "I was the lead for {t}, the plan was mine and {r}",
        "I drove the whole {t} effort and {r}",
    ),
    4: (
        "I've done {t} on my own in a couple of projects",
        "I handled {t} myself, I didn't really need help",
        "{t} is something I do independently pretty much every week",
        "I built the {t} part by myself",
        "In my last job I did most of the {t} on my own",
    ),
    3: (
        "I was part of the team doing {t}, mostly supporting the senior engineer",
        "I helped with {t}, but someone else was in charge",
        "Several of us did {t} and I contributed a small part",
        "I assisted my manager with {t}",
        "I participated in {t}, but I didn't lead it",
    ),
    2: (
        "I've read about {t} and took an online course, but haven't done it at work",
        "I learned {t} in school, just the basics",
        "I know the theory behind {t} but I haven't really applied it",
        "I studied {t} in a class project",
        "I've heard of {t} and watched a few tutorials",
    ),
    1: (
        "Honestly I have no experience with {t}",
        "I've never done {t}",
        "{t}? I don't know much about that, never touched it",
        "No, I haven't worked on {t} at all",
        "I'm not familiar with {t}",
    ),
}
_LEVELS_MIXED: dict[int, tuple[str, ...]] = {
    5: ("{t}这个project是我lead的，{r}", "我是{t}的owner，整个方案是我drive的", "{t}是我主导的，from scratch搭起来的"),
    4: ("{t}我自己independently做过", "{t}都是我一个人handle的", "{t}我on my own做过两次"),
    3: ("{t}我主要是support，main owner是我leader", "我在{t}里面只是assist一下", "{t}我participate过，不是我lead的"),
    2: ("{t}我只是在course里学过", "{t}看过一些tutorial，没实际做过"),
    1: ("{t}我no experience", "{t}完全没touch过", "{t}我没有经验"),
}
_CORRECTIONS: dict[TranscriptLanguage, dict[int, tuple[str, ...]]] = {
    "zh": {
        3: ("{t}是我主导的，呃不对，应该说是我参与的，主要是配合",),
        2: ("{t}我做过，说错了，是在课上学过",),
        4: ("{t}我参与过，不对，其实是我一个人独立做的",),
    },
    "en": {
        3: ("I led the {t}, sorry, I mean I helped with it",),
        2: ("I used {t} at work, well actually no, I only studied it in a course",),
        4: ("I helped with {t}, or rather I did it on my own",),
    },
    "mixed": {3: ("{t}是我lead的，不对，应该说我是participate",)},
}
_RESULTS_ZH = (
    "效率提升了30%",
    "人力投入减少了15%",
    "周期从10天缩短到了3天",
    "返工率下降了20个百分点",
    "产出翻了一倍",
    "整体效率提高了不少",
)
_RESULTS_EN = (
    "it cut turnaround time by 40%",
    "we saw a 25% increase in output",
    "costs dropped by a third",
    "it saved about 200 hours a month",
)
_DEFLECT_ZH = (
    "这个问题我可能需要再想想",
    "嗯……我想先说说我为什么想换工作",
    "这个我们能不能换一个问题",
    "不好意思，刚才信号不太好，能再说一遍吗",
)
_DEFLECT_EN = (
    "Can we come back to this one later?",
    "Let me think... could you repeat the question?",
    "I'd rather talk about why I want this job",
    "Sorry, the connection dropped, what was the question?",
)
_FILLERS_ZH = ("嗯，", "那个，", "就是", "呃，", "然后", "怎么说呢，", "对，")
_FILLERS_EN = ("um, ", "uh, ", "like, ", "you know, ", "so ", "well, ")
_OPENERS_ZH = ("嗯，", "这个问题啊，", "好的，", "", "")
_OPENERS_EN = ("Sure. ", "Okay, so ", "Hmm, ", "", "")
_HOMOPHONES = (("主导", "主到"), ("参与", "餐与"), ("负责", "付责"), ("独立", "独力"), ("协助", "写助"))
_EN_ASR = (("SolidWorks", "solid works"), ("MySQL", "my sequel"), ("Salesforce", "sales force"), ("CSAT", "see sat"))
_LEVEL_WEIGHTS: dict[CandidateType, tuple[float, ...]] = {
    "graduate": (0.15, 0.3, 0.3, 0.15, 0.1),
    "experienced": (0.08, 0.12, 0.25, 0.3, 0.25),
    "manager": (0.05, 0.1, 0.2, 0.3, 0.35),
}


@dataclass(frozen=True, slots=True)
class GeneratedInterview:
    """A synthetic interview and the truth it was written to express.

    Attributes:
        interview_id: ``"<seed>-<n>"``.
        rubric_id: the rubric the answers address.
        language: ``zh``, ``en`` or ``mixed``.
        candidate_type: ``graduate``, ``experienced`` or ``manager``.
        answers: the transcribed answers, tagged with the dimensions their questions asked about.
        truth: ``(dimension key, level or None)`` per rubric dimension; ``None`` means not addressed.
    """

    interview_id: str
    rubric_id: str
    language: TranscriptLanguage
    candidate_type: CandidateType
    answers: tuple[Answer, ...]
    truth: tuple[tuple[str, int | None], ...]

    def truth_for(self, key: str) -> int | None:
        """The true level of dimension ``key`` (``None``: not addressed); ``KeyError`` when unknown."""
        for dimension_key, level in self.truth:
            if dimension_key == key:
                return level
        raise KeyError(key)


def _topic(rng: random.Random, rubric_id: str, dimension: Dimension, language: TranscriptLanguage) -> str:
    zh, en = _TOPICS.get(f"{rubric_id}.{dimension.key}", _TOPICS.get(dimension.key, ((), ())))
    pool = en if language == "en" else zh
    if language == "mixed" and en and rng.random() < 0.3:
        pool = en
    if pool:
        return rng.choice(pool)
    return display_name(dimension, "en" if language == "en" else "zh")


def _statement(rng: random.Random, level: int, topic: str, language: TranscriptLanguage) -> str:
    corrections = _CORRECTIONS[language].get(level, ())
    if corrections and rng.random() < 0.15:
        template = rng.choice(corrections)
    elif language == "mixed" and rng.random() < 0.6:
        template = rng.choice(_LEVELS_MIXED[level])
    elif language == "en":
        template = rng.choice(_LEVELS_EN[level])
    else:
        template = rng.choice(_LEVELS_ZH[level])
    result = rng.choice(_RESULTS_EN if language == "en" else _RESULTS_ZH)
    text = template.format(t=topic, r=result)
    return text[0].upper() + text[1:] if language == "en" else text


def _noisy(rng: random.Random, text: str, language: TranscriptLanguage) -> str:
    """Fillers, hedges and ASR slips, as a speech-to-text transcript would carry them."""
    english = language == "en"
    pieces = re.split(r"(?<=[，,。.])\s*", text)
    fillers = _FILLERS_EN if english else _FILLERS_ZH
    out: list[str] = []
    for piece in pieces:
        if piece and rng.random() < 0.35:
            piece = rng.choice(fillers) + piece
        out.append(piece)
    text = (" " if english else "").join(p for p in out if p)
    if not english:
        for right, wrong in _HOMOPHONES:
            if right in text and rng.random() < 0.05:
                text = text.replace(right, wrong, 1)
        if rng.random() < 0.3:
            text = re.sub(r"[，。,.]", " " if rng.random() < 0.5 else "", text)
    else:
        for right, wrong in _EN_ASR:
            if right in text and rng.random() < 0.3:
                text = text.replace(right, wrong)
        if rng.random() < 0.3:
            text = text.lower()
        if rng.random() < 0.2:
            text = re.sub(r"[,.]", "", text)
        if rng.random() < 0.2:
            text = re.sub(r"\bI\b", "I I", text, count=1)
    return text


def _answer_text(rng: random.Random, statements: list[str], language: TranscriptLanguage) -> str:
    english = language == "en"
    opener = rng.choice(_OPENERS_EN if english else _OPENERS_ZH)
    joiner = ". " if english else "。"
    body = opener + joiner.join(statements) + ("." if english else "。")
    return _noisy(rng, body, language)


def generate_interview(
    rng: random.Random,
    rubric: Rubric,
    *,
    interview_id: str,
    language: TranscriptLanguage,
    candidate_type: CandidateType,
    unaddressed_rate: float = 0.2,
) -> GeneratedInterview:
    """One interview against ``rubric`` drawn from ``rng`` (deterministic for a seeded ``rng``)."""
    truth: dict[str, int | None] = {}
    weights = _LEVEL_WEIGHTS[candidate_type]
    for dimension in rubric.dimensions:
        if rng.random() < unaddressed_rate:
            truth[dimension.key] = None
        else:
            truth[dimension.key] = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
    addressed = [d for d in rubric.dimensions if truth[d.key] is not None]
    if not addressed:  # an interview says something about at least one dimension
        first = rubric.dimensions[0]
        truth[first.key] = rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
        addressed = [first]

    # Some dimensions come up inside the answer to another question, with no question of their own.
    riders: dict[str, list[Dimension]] = {}
    asked: list[Dimension] = []
    for dimension in addressed:
        if asked and rng.random() < 0.2:
            riders.setdefault(rng.choice(asked).key, []).append(dimension)
        else:
            asked.append(dimension)

    question_language: QuestionLanguage = "en" if language == "en" else "zh"
    answers: list[Answer] = []
    for dimension in asked:
        level = truth[dimension.key]
        assert level is not None
        statements = [_statement(rng, level, _topic(rng, rubric.rubric_id, dimension, language), language)]
        for rider in riders.get(dimension.key, []):
            rider_level = truth[rider.key]
            assert rider_level is not None
            statements.append(_statement(rng, rider_level, _topic(rng, rubric.rubric_id, rider, language), language))
        question = questions_for(
            dimension, candidate_type=candidate_type, language=question_language, role_family=rubric.rubric_id
        )[0]
        answers.append(
            Answer(question.question_id, question.text, _answer_text(rng, statements, language), (dimension.key,))
        )
    # A question asked about an unaddressed dimension, answered off the point.
    for dimension in rubric.dimensions:
        if truth[dimension.key] is None and rng.random() < 0.3:
            question = questions_for(
                dimension, candidate_type=candidate_type, language=question_language, role_family=rubric.rubric_id
            )[0]
            deflection = rng.choice(_DEFLECT_EN if language == "en" else _DEFLECT_ZH)
            answers.append(Answer(question.question_id, question.text, deflection, (dimension.key,)))
    rng.shuffle(answers)
    return GeneratedInterview(
        interview_id=interview_id,
        rubric_id=rubric.rubric_id,
        language=language,
        candidate_type=candidate_type,
        answers=tuple(answers),
        truth=tuple((d.key, truth[d.key]) for d in rubric.dimensions),
    )


def generate_interviews(
    count: int,
    *,
    seed: int = 0,
    rubrics: Sequence[Rubric] | None = None,
    languages: Sequence[TranscriptLanguage] = _LANGUAGES,
    candidate_types: Sequence[CandidateType] = CANDIDATE_TYPES,
    unaddressed_rate: float = 0.2,
) -> list[GeneratedInterview]:
    """``count`` interviews, the same for the same arguments.

    Args:
        count: how many interviews.
        seed: the seed; interview ``n`` depends only on ``seed`` and ``n``.
        rubrics: rubrics to draw from (default: the shipped ones).
        languages: transcript languages to draw from.
        candidate_types: candidate types to draw from.
        unaddressed_rate: chance that a dimension is never addressed.
    """
    pool = list(rubrics) if rubrics is not None else list(default_rubrics().values())
    if not pool:
        raise ValueError("no rubric to generate interviews for")
    for language in languages:
        if language not in _LANGUAGES:
            raise ValueError(f"unknown transcript language {language!r}")
    interviews: list[GeneratedInterview] = []
    for n in range(count):
        rng = random.Random(f"interview:{seed}:{n}")  # noqa: S311 - reproducible test data, not secrets
        interviews.append(
            generate_interview(
                rng,
                rng.choice(pool),
                interview_id=f"{seed}-{n}",
                language=rng.choice(list(languages)),
                candidate_type=rng.choice(list(candidate_types)),
                unaddressed_rate=unaddressed_rate,
            )
        )
    return interviews
