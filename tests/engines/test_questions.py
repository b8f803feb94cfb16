"""Question sets per candidate type and role family, tied to rubric dimensions."""

from __future__ import annotations

import pytest

from engines.questions import CANDIDATE_TYPES, InterviewQuestion, question_bank, question_set, questions_for
from engines.rubric import DEFAULT_RUBRIC_IDS, Dimension, Level, Rubric, load_default_rubric


@pytest.mark.parametrize("rubric_id", DEFAULT_RUBRIC_IDS)
@pytest.mark.parametrize("candidate_type", CANDIDATE_TYPES)
@pytest.mark.parametrize("language", ["zh", "en"])
def test_question_sets_cover_every_dimension(rubric_id: str, candidate_type: str, language: str) -> None:
    rubric = load_default_rubric(rubric_id)
    questions = question_set(rubric, candidate_type=candidate_type, language=language)  # type: ignore[arg-type]
    assert {key for q in questions for key in q.dimension_keys} == {d.key for d in rubric.dimensions}
    has_chinese = [any("\u4e00" <= c <= "\u9fff" for c in q.text) for q in questions]
    assert all(has_chinese) if language == "zh" else not any(has_chinese)
    assert all(q.listen_for for q in questions)
    assert len({q.question_id for q in questions}) == len(questions)


def test_candidate_types_get_different_questions() -> None:
    rubric = load_default_rubric("backend_engineer")
    graduate = question_set(rubric, candidate_type="graduate", language="en")
    experienced = question_set(rubric, candidate_type="experienced", language="en")
    assert graduate[0].question_id == "be.backend.grad"
    assert experienced[0].question_id == "be.backend.exp"
    manager = question_set(load_default_rubric("mechanical_designer"), candidate_type="manager")
    assert any(q.question_id == "gen.team.mgr" for q in manager)


def test_heaviest_dimension_first() -> None:
    rubric = load_default_rubric("sales")
    first = question_set(rubric)[0]
    assert first.dimension_keys == (max(rubric.dimensions, key=lambda d: d.weight).key,)


def test_generic_question_for_an_unknown_dimension() -> None:
    dimension = Dimension(
        "excel", "Excel数据分析 / Excel analysis", 1, "hard", False, (Level(5, "独立做过数据透视表"),)
    )
    zh = questions_for(dimension, candidate_type="graduate", language="zh")
    assert len(zh) == 1 and "Excel数据分析" in zh[0].text
    assert zh[0].dimension_keys == ("excel",)
    assert any("独立做过数据透视表" in item for item in zh[0].listen_for)
    en = questions_for(dimension, candidate_type="manager", language="en")
    assert "Excel analysis" in en[0].text


def test_generic_bank_questions_match_by_trigger() -> None:
    rubric = Rubric(
        "custom", "1", (Dimension("talk", "沟通能力", 1, "soft", False, (Level(4, "表达清楚"), Level(2, "表达含糊"))),)
    )
    assert question_set(rubric)[0].question_id.startswith("gen.comm")


def test_per_dimension_and_bad_type() -> None:
    rubric = load_default_rubric("customer_service_lead")
    assert len(question_set(rubric, per_dimension=2)) >= len(rubric.dimensions)
    with pytest.raises(ValueError, match="candidate type"):
        question_set(rubric, candidate_type="intern")  # type: ignore[arg-type]


def test_bank_is_well_formed_and_round_trips() -> None:
    bank = question_bank()
    assert len({q.question_id for q in bank}) == len(bank)
    for entry in bank:
        assert entry.text_zh and entry.text_en and entry.candidate_types
    question = question_set(load_default_rubric("sales"))[0]
    assert InterviewQuestion.from_dict(question.to_dict()) == question
