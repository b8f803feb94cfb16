"""Interview scoring: nulls, soft dimensions, evidence offsets, totals, recommendations, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.rubric import Dimension, Level, Rubric, default_rubrics, load_default_rubric
from engines.scoring import (
    MUST_HAVE_FLOOR,
    Answer,
    AnswerEvidence,
    EvaluationReport,
    score_interview,
)
from engines.transcripts import generate_interviews

MECH = load_default_rubric("mechanical_designer")


def _answer(text: str, *keys: str, qid: str = "q") -> Answer:
    return Answer(qid, "question", text, tuple(keys))


def test_unaddressed_dimensions_are_null_not_zero() -> None:
    report = score_interview([_answer("三维建模基本都是我独立完成的，用的SW。", "modeling_3d")], MECH)
    assert report.score_for("modeling_3d").score == 5.0
    for key in ("engineering_drawings", "structural_design", "manufacturing", "communication", "teamwork"):
        score = report.score_for(key)
        assert score.score is None
        assert score.level_anchor is None
        assert score.evidence == ()


def test_off_topic_answer_to_a_question_is_still_null() -> None:
    report = score_interview([_answer("不好意思，刚才信号不太好，能再说一遍吗", "structural_design")], MECH)
    assert report.score_for("structural_design").score is None


def test_no_answers_at_all() -> None:
    report = score_interview([], MECH)
    assert all(s.score is None for s in report.dimension_scores)
    assert report.total is None
    assert report.coverage == 0
    assert report.recommendation == "needs_review"
    assert set(report.missing_must_have) == {d.key for d in MECH.dimensions if d.must_have}


def test_soft_dimensions_are_low_confidence_suggestions() -> None:
    report = score_interview(
        [_answer("跨部门沟通这块是我主导的，每周我来组织评审会，把设计方案讲给工艺和采购听。", "communication")], MECH
    )
    communication = report.score_for("communication")
    assert communication.score is not None
    assert communication.confidence == "low"
    assert communication.needs_human
    assert "soft" in communication.rationale


def test_hard_dimension_with_explicit_cue_is_high_confidence() -> None:
    report = score_interview(
        [_answer("I built most of our REST APIs in Django myself.", "backend_development")],
        load_default_rubric("backend_engineer"),
    )
    backend = report.score_for("backend_development")
    assert backend.confidence == "high"
    assert not backend.needs_human


def test_hedged_claim_is_low_confidence() -> None:
    report = score_interview([_answer("三维建模应该算是我独立做的吧", "modeling_3d")], MECH)
    assert report.score_for("modeling_3d").confidence == "low"


def test_anchor_of_the_rubric_decides_the_level() -> None:
    participated = score_interview([_answer("三维建模我参与过，不过主要是配合组长，没有主导。", "modeling_3d")], MECH)
    assert participated.score_for("modeling_3d").score == 3.0
    assert participated.score_for("modeling_3d").level_anchor == "参与过项目但未主导"
    denied = score_interview([_answer("三维建模说实话没接触过。", "modeling_3d")], MECH)
    assert denied.score_for("modeling_3d").score == 1.0


def test_mentions_in_other_answers_count_for_their_dimension() -> None:
    report = score_interview(
        [
            _answer(
                "出图都是我自己出，形位公差也是我标的。另外SolidWorks建模我在学校学过一点，没有实际做过。",
                "engineering_drawings",
            )
        ],
        MECH,
    )
    assert report.score_for("engineering_drawings").score == 4.0
    assert report.score_for("modeling_3d").score == 2.0


def test_keywords_and_evidence_come_from_the_answers() -> None:
    answers = [
        _answer("嗯，那个，SW建模基本是我一个人搞定的。", "modeling_3d", qid="q1"),
        _answer("Tolerances? I assisted my lead with GD&T on a gearbox housing.", "engineering_drawings", qid="q2"),
    ]
    report = score_interview(answers, MECH)
    modeling = report.score_for("modeling_3d")
    assert "SW" in modeling.keywords
    drawings = report.score_for("engineering_drawings")
    assert drawings.score == 3.0
    assert {e.question_id for e in drawings.evidence} == {"q2"}
    assert all(e.answer_index == 1 for e in drawings.evidence)


def _check_evidence(answers: tuple[Answer, ...] | list[Answer], report: EvaluationReport) -> None:
    for dimension in report.dimension_scores:
        for item in dimension.evidence:
            answer = answers[item.answer_index]
            assert item.question_id == answer.question_id
            assert item.evidence.is_valid_for(answer.transcript), (dimension.key, item)
            assert item.evidence.end > item.evidence.start


def test_every_evidence_item_is_valid_on_generated_interviews() -> None:
    for interview in generate_interviews(120, seed=11):
        report = score_interview(interview.answers, default_rubrics()[interview.rubric_id])
        _check_evidence(interview.answers, report)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=120), max_size=4))
def test_arbitrary_text_never_breaks_scoring_or_offsets(texts: list[str]) -> None:
    answers = [_answer(text, "modeling_3d", qid=f"q{i}") for i, text in enumerate(texts)]
    report = score_interview(answers, MECH)
    _check_evidence(answers, report)
    assert report.recommendation in ("advance", "hold", "needs_review")


def test_full_width_and_odd_case_keep_offsets() -> None:
    answers = [_answer("İ ＳＯＬＩＤＷＯＲＫＳ建模都是我独立完成的，效率提升了３０％。", "modeling_3d")]
    report = score_interview(answers, MECH)
    assert report.score_for("modeling_3d").score == 5.0
    _check_evidence(answers, report)


def test_weighted_total_and_coverage_arithmetic() -> None:
    for interview in generate_interviews(40, seed=3):
        rubric = default_rubrics()[interview.rubric_id]
        report = score_interview(interview.answers, rubric)
        weights = {d.key: d.weight for d in rubric.dimensions}
        scored = [s for s in report.dimension_scores if s.score is not None]
        if not scored:
            assert report.total is None
            continue
        expected = sum(weights[s.key] * (s.score or 0) for s in scored) / sum(weights[s.key] for s in scored) * 20
        assert report.total == pytest.approx(expected, abs=0.01)
        assert 0 <= (report.total or 0) <= 100
        assert report.coverage == pytest.approx(sum(weights[s.key] for s in scored) / rubric.total_weight, abs=1e-4)


def test_total_on_a_small_rubric() -> None:
    rubric = Rubric(
        "tiny",
        "1",
        (
            Dimension("python", "Python", 3, "hard", False, (Level(5, "主导过Python项目"), Level(1, "没用过Python"))),
            Dimension("sql", "SQL", 1, "hard", False, (Level(5, "主导过SQL优化"), Level(1, "没写过SQL"))),
            Dimension("go", "Go语言", 1, "hard", False, (Level(5, "主导过Go项目"), Level(1, "没用过Go"))),
        ),
    )
    report = score_interview([_answer("Python项目是我主导的。", "python"), _answer("SQL我没写过。", "sql")], rubric)
    assert report.score_for("python").score == 5.0
    assert report.score_for("sql").score == 1.0
    assert report.score_for("go").score is None
    assert report.total == pytest.approx((3 * 5 + 1 * 1) / 4 * 20)
    assert report.coverage == pytest.approx(4 / 5)


def test_recommendation_is_never_reject() -> None:
    seen = set()
    for interview in generate_interviews(150, seed=5):
        report = score_interview(interview.answers, default_rubrics()[interview.rubric_id])
        seen.add(report.recommendation)
        assert report.recommendation in ("advance", "hold", "needs_review")
    assert "reject" not in seen
    assert seen == {"advance", "hold", "needs_review"}


def test_recommendation_rules() -> None:
    strong = [
        _answer("三维建模都是我独立完成的，整机两百多个零件。", "modeling_3d"),
        _answer("工程图我自己出，公差也是我独立标注的。", "engineering_drawings"),
        _answer("结构设计我独立完成过，强度校核也是我做的。", "structural_design"),
        _answer("试产问题是我主导解决的，良率提升了20%。", "manufacturing"),
    ]
    assert score_interview(strong, MECH).recommendation == "advance"
    weak_must_have = [*strong[1:], _answer("三维建模我只在课上学过。", "modeling_3d")]
    report = score_interview(weak_must_have, MECH)
    assert report.missing_must_have == ("modeling_3d",)
    assert (report.score_for("modeling_3d").score or 0) <= MUST_HAVE_FLOOR
    assert report.recommendation == "needs_review"
    middling = [
        _answer(text.replace("独立", "协助同事").replace("主导", "参与"), *a.dimension_keys)
        for a in strong
        for text in [a.transcript]
    ]
    assert score_interview(middling, MECH).recommendation == "hold"
    assert score_interview(strong[:1], MECH).recommendation == "needs_review"  # too little covered


def test_advance_threshold_is_configurable() -> None:
    answers = [
        _answer("三维建模我参与过，主要是配合组长。", "modeling_3d"),
        _answer("工程图我参与过，主要是配合同事。", "engineering_drawings"),
        _answer("结构设计我参与过。", "structural_design"),
    ]
    assert score_interview(answers, MECH).recommendation == "hold"
    assert score_interview(answers, MECH, advance_at=50).recommendation == "advance"


def test_scoring_is_deterministic() -> None:
    interview = generate_interviews(1, seed=21)[0]
    rubric = default_rubrics()[interview.rubric_id]
    assert score_interview(interview.answers, rubric) == score_interview(list(interview.answers), rubric)


def test_unknown_dimension_keys_on_answers_are_ignored() -> None:
    report = score_interview([_answer("三维建模都是我独立做的", "modeling_3d", "no_such_dimension")], MECH)
    assert report.score_for("modeling_3d").score == 5.0


def test_report_round_trips_through_dict() -> None:
    for interview in generate_interviews(10, seed=8):
        report = score_interview(interview.answers, default_rubrics()[interview.rubric_id])
        assert EvaluationReport.from_dict(report.to_dict()) == report
    answer = _answer("text", "a", "b")
    assert Answer.from_dict(answer.to_dict()) == answer


def test_answer_evidence_dict_is_flat() -> None:
    report = score_interview([_answer("三维建模都是我独立做的", "modeling_3d")], MECH)
    item = report.score_for("modeling_3d").evidence[0]
    data = item.to_dict()
    assert {"answer_index", "question_id", "signal", "text", "start", "end"} == set(data)
    assert AnswerEvidence.from_dict(data) == item


def test_engine_version_names_its_parts() -> None:
    report = score_interview([], MECH)
    assert report.engine_version.startswith("interview-scoring-")
    assert "+cues." in report.engine_version and "+gazetteer." in report.engine_version


BACKEND = load_default_rubric("backend_engineer")


@pytest.mark.parametrize(
    ("question", "text", "level"),
    [
        ("SolidWorks你用了几年？", "三年多吧。", 4.0),
        ("会用SolidWorks吗？", "会的。", 3.0),
        ("会用SolidWorks吗？", "没有。", 1.0),
        ("Have you used SolidWorks?", "Not really, no.", 1.0),
    ],
)
def test_short_answers_answer_the_question_asked(question: str, text: str, level: float) -> None:
    report = score_interview([Answer("q", question, text, ("modeling_3d",))], MECH)
    assert report.score_for("modeling_3d").score == level
    assert report.score_for("modeling_3d").confidence == "low"


def test_a_hypothetical_shows_knowledge_not_experience() -> None:
    text = "If I were to design it, I would put a message queue in front and cache the hot keys in Redis."
    report = score_interview([_answer(text, "system_design")], BACKEND)
    assert report.score_for("system_design").score == 2.0


def test_an_account_in_unknown_words_is_scored_low_confidence_not_null() -> None:
    text = "呃，线上有一次CPU打满了，我先看了监控，然后dump了线程栈，最后把那段正则回溯的代码重写了一遍。"
    report = score_interview([_answer(text, "problem_solving")], BACKEND)
    score = report.score_for("problem_solving")
    assert score.score is not None
    assert score.confidence == "low"
    assert score.needs_human


@pytest.mark.parametrize(
    "text",
    ["Can we come back to this one later?", "不好意思，刚才信号不太好，能再说一遍吗", "这个我们能不能换一个问题"],
)
def test_deflections_stay_null(text: str) -> None:
    report = score_interview([_answer(text, "system_design")], BACKEND)
    assert report.score_for("system_design").score is None


def test_behaviour_in_another_dimensions_words_still_answers_the_question() -> None:
    text = (
        "We had a problem with the checkout service. We found the bottleneck was in the database, so we added "
        "caching with Redis. I wrote the caching layer."
    )
    report = score_interview([_answer(text, "backend_development")], BACKEND)
    assert report.score_for("backend_development").score == 4.0


def test_english_evidence_is_cut_on_word_boundaries() -> None:
    text = (
        "Sure. So at our company we were splitting the order system into microservices and my part was the "
        "inventory service, where I proposed an outbox table plus Kafka instead of distributed transactions, "
        "wrote the design doc, got it approved, and then led two other engineers to build it."
    )
    report = score_interview([_answer(text, "system_design")], BACKEND)
    for item in report.score_for("system_design").evidence:
        start, end = item.evidence.start, item.evidence.end
        assert start == 0 or not text[start - 1].isalnum()
        assert end == len(text) or not text[end].isalnum()
