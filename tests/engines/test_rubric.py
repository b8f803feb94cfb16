"""Rubrics: the data model, validation, shipped defaults, cue analysis and compilation."""

from __future__ import annotations

from typing import Any

import pytest

from engines.rubric import (
    DEFAULT_RUBRIC_IDS,
    Dimension,
    Level,
    Rubric,
    RubricError,
    analyze_behaviour,
    compile_rubric,
    default_rubrics,
    fold_text,
    load_default_rubric,
)


def _levels() -> tuple[Level, ...]:
    return (Level(5, "能独立完成三维建模"), Level(3, "参与过项目但未主导"), Level(1, "没有三维建模经验"))


def _dimension(**overrides: Any) -> Dimension:
    fields: dict[str, Any] = {
        "key": "modeling",
        "name": "三维建模",
        "weight": 2.0,
        "kind": "hard",
        "must_have": True,
        "levels": _levels(),
    }
    fields.update(overrides)
    return Dimension(**fields)


def test_default_rubrics_load_and_round_trip() -> None:
    rubrics = default_rubrics()
    assert set(rubrics) == set(DEFAULT_RUBRIC_IDS)
    for rubric in rubrics.values():
        assert Rubric.from_dict(rubric.to_dict()) == rubric
        assert any(d.kind == "soft" for d in rubric.dimensions)
        assert any(d.must_have for d in rubric.dimensions)


def test_levels_are_stored_highest_first() -> None:
    dimension = _dimension(levels=(Level(1, "a"), Level(5, "b"), Level(3, "c")))
    assert [level.score for level in dimension.levels] == [5, 3, 1]
    assert dimension.level(3) == Level(3, "c")
    assert dimension.level(4) is None


@pytest.mark.parametrize("weight", [0, -1.5, float("nan"), float("inf")])
def test_weights_must_be_positive_and_finite(weight: float) -> None:
    with pytest.raises(RubricError, match="weight"):
        _dimension(weight=weight)


def test_level_scores_must_be_unique() -> None:
    with pytest.raises(RubricError, match="unique"):
        _dimension(levels=(Level(3, "参与过"), Level(3, "协助过")))


def test_level_anchors_must_be_unique() -> None:
    with pytest.raises(RubricError, match="anchors"):
        _dimension(levels=(Level(3, "参与过"), Level(2, "参与过")))


@pytest.mark.parametrize("score", [0, 6, -1])
def test_level_scores_are_one_to_five(score: int) -> None:
    with pytest.raises(RubricError):
        Level(score, "anything")


def test_empty_anchor_and_bad_kind_are_refused() -> None:
    with pytest.raises(RubricError):
        Level(3, "   ")
    with pytest.raises(RubricError, match="kind"):
        _dimension(kind="medium")


def test_dimension_keys_must_be_unique() -> None:
    with pytest.raises(RubricError, match="unique"):
        Rubric("r", "1", (_dimension(), _dimension(name="other")))


def test_from_dict_reports_malformed_input() -> None:
    good = load_default_rubric("sales").to_dict()
    broken = {**good, "dimensions": [{**good["dimensions"][0], "weight": "heavy"}]}
    with pytest.raises(RubricError, match="weight"):
        Rubric.from_dict(broken)
    with pytest.raises(RubricError):
        Rubric.from_dict({**good, "dimensions": "none"})
    with pytest.raises(RubricError):
        Rubric.from_dict({**good, "dimensions": [{**good["dimensions"][0], "must_have": "yes"}]})


def test_total_weight_and_lookup() -> None:
    rubric = load_default_rubric("mechanical_designer")
    assert rubric.total_weight == pytest.approx(sum(d.weight for d in rubric.dimensions))
    assert rubric.dimension("modeling_3d").name.startswith("三维建模")
    with pytest.raises(KeyError):
        rubric.dimension("nope")


def test_fold_text_keeps_offsets() -> None:
    text = "ＳｏｌｉｄＷｏｒｋｓ İstanbul 主导"
    folded = fold_text(text)
    assert len(folded) == len(text)
    assert folded.startswith("solidworks")


# --- behaviour cues -------------------------------------------------------------------------------------


def _cues(text: str) -> list[tuple[str, str, bool, int]]:
    return [(text[c.start : c.end], c.cls, c.negated, c.level) for c in analyze_behaviour(text).cues]


def test_negation_before_a_cue() -> None:
    assert _cues("参与过项目但未主导") == [("参与", "participated", False, 3), ("主导", "led", True, 3)]
    assert ("used", True) in [(cls, neg) for _t, cls, neg, _l in _cues("Docker我没用过")]


def test_negation_carries_across_a_short_object_but_not_a_new_subject() -> None:
    found = _cues("I haven't really designed a system from scratch. I took part in the design reviews.")
    assert ("from scratch", "led", True, 3) in found
    assert ("took part", "participated", False, 3) in found
    assert ("studied", "aware", False, 2) in _cues("never touched it, uh, I studied it in a course")


def test_contrast_word_stops_negation() -> None:
    found = _cues("没有主导，只是参与")
    assert ("参与", "participated", False, 3) in found


def test_post_negator_denies_the_cue_before_it() -> None:
    assert ("主导", "led", True, 3) in _cues("主导谈不上，主要是配合")


def test_self_correction_voids_the_claim_before_it() -> None:
    zh = _cues("这个项目是我主导的，呃不对，应该说是我参与的")
    assert [cls for _t, cls, _n, _l in zh] == ["participated"]
    en = _cues("I led the migration, sorry, I mean I helped with it")
    assert [cls for _t, cls, _n, _l in en] == ["participated"]


def test_we_instead_of_i_is_team_participation() -> None:
    assert _cues("We built the API in Django") == [("built", "used", False, 3)]
    assert _cues("I built the API in Django") == [("built", "used", False, 4)]


def test_someone_elses_behaviour_is_not_the_candidates() -> None:
    found = _cues("我协助过同事，他主要负责")
    assert [cls for _t, cls, _n, _l in found] == ["assisted"]
    # ...but a person after a preposition is an object, not the actor.
    assert [level for *_x, level in _cues("向领导汇报说实话没接触过")] == [1]


def test_academic_context_and_guidance_cap_at_participation() -> None:
    assert max(level for *_x, level in _cues("在学校做过一个小组作业")) <= 3
    assert max(level for *_x, level in _cues("在同事帮助下使用过客服系统")) == 3
    assert max(level for *_x, level in _cues("I built the API independently")) == 4


def test_role_nouns_count_only_when_claimed() -> None:
    assert ("负责人", "role", False, 5) in _cues("我是这个项目的负责人")
    assert all(cls != "role" for _t, cls, _n, _l in _cues("main owner是我leader"))


def test_headcount_is_leadership() -> None:
    assert ("led", 5) in [(cls, level) for _t, cls, _n, level in _cues("我现在带12个人的客服组")]
    assert ("led", 5) in [(cls, level) for _t, cls, _n, level in _cues("I managed 8 agents on the night shift")]


def test_fillers_do_not_widen_the_gap() -> None:
    assert ("独立", "independent", True, 3) in _cues("没有嗯那个就是独立做过")
    assert ("independent", False) in [
        (cls, neg) for _t, cls, neg, _l in _cues("没有人让我做这个嗯那个我就是独立做的呀")
    ]


def test_results_are_found() -> None:
    assert analyze_behaviour("出图效率提升了30%").results
    assert analyze_behaviour("reduced p99 latency by 40%").results
    assert analyze_behaviour("响应时间从2秒降到300毫秒").results
    assert not analyze_behaviour("我有3年经验，2018年开始工作").results


# --- compilation -----------------------------------------------------------------------------------------


def test_anchors_compile_to_behaviour_classes_and_ranks() -> None:
    compiled = compile_rubric(load_default_rubric("mechanical_designer"))
    levels = {level.score: level for level in compiled.dimension("modeling_3d").levels}
    assert levels[5].classes == frozenset({"independent"})
    assert levels[3].classes == frozenset({"participated"})
    assert "led" in levels[3].negated_classes
    assert levels[3].rank == 3
    assert levels[1].rank == 1


def test_rubric_level_5_for_independent_when_the_rubric_says_so() -> None:
    modeling = compile_rubric(load_default_rubric("mechanical_designer")).dimension("modeling_3d")
    assert modeling.level_for(4, frozenset({"independent"})).score == 5
    assert modeling.level_for(3, frozenset({"participated"})).score == 3
    assert modeling.level_for(5, frozenset({"led"})).score == 5


def test_topics_include_gazetteer_aliases() -> None:
    compiled = compile_rubric(load_default_rubric("mechanical_designer"))
    assert "solidworks" in compiled.dimension("modeling_3d").skill_ids
    for spelling in ("SW", "solid works", "三维建模"):
        hits = compiled.find_topics(f"我用{spelling}画过零件")
        assert any("modeling_3d" in hit.dimension_keys for hit in hits), spelling


def test_soft_dimensions_get_concept_words() -> None:
    compiled = compile_rubric(load_default_rubric("backend_engineer"))
    hits = compiled.find_topics("I explained the trade-offs to the product manager")
    assert any("communication" in hit.dimension_keys for hit in hits)


def test_custom_rubric_compiles_from_names_alone() -> None:
    rubric = Rubric(
        "custom",
        "1",
        (
            Dimension("excel", "Excel数据分析", 1, "hard", False, (Level(5, "独立做过数据透视"), Level(1, "没用过"))),
            Dimension("comm", "沟通能力", 1, "soft", False, (Level(4, "能清楚表达"), Level(2, "表达不清"))),
        ),
    )
    compiled = compile_rubric(rubric)
    assert any("comm" in hit.dimension_keys for hit in compiled.find_topics("我经常跟客户沟通"))
    assert compile_rubric(rubric) is compiled  # cached per rubric value
