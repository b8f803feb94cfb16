"""Interview outlines: must-haves verified, ownership probed, results dug into, every dimension covered."""

from __future__ import annotations

import pytest

from engines.evidence import Evidence
from engines.extract import extract_features
from engines.features import ResumeFeatures, SkillMention
from engines.outline import InterviewOutline, OutlineQuestion, generate_outline, infer_candidate_type
from engines.rubric import Dimension, Level, Rubric, default_rubrics, load_default_rubric
from engines.screening import JobRequirements

ZH_RESUME = """张伟 | 机械设计工程师 | 5年经验
技能：SolidWorks、AutoCAD、不熟悉ANSYS
工作经历
2019.07-至今 某自动化设备公司 机械设计工程师
- 参与了包装机整机结构设计，负责送料机构的三维建模
- 协助完成钣金件出图，出图效率提升了30%
- 主导供应商试产问题整改，试产不良率从8%降到2%
"""

EN_RESUME = """Jane Doe - Backend Engineer
Experience
2018 - Present, Acme Corp
- Participated in the migration of the payments platform to microservices on Kubernetes
- Built REST APIs in Python/Django; reduced p99 latency by 40%
- Assisted the DBA team with MySQL schema changes
Skills: Python, Django, MySQL, Docker. No Java experience.
"""

MECH = load_default_rubric("mechanical_designer")
BACKEND = load_default_rubric("backend_engineer")


def _outline(text: str, rubric: Rubric, must_have: list[str], **kwargs: object) -> InterviewOutline:
    requirements = JobRequirements.build(must_have=must_have)
    return generate_outline(extract_features(text), text, requirements, rubric, **kwargs)  # type: ignore[arg-type]


def _purposes(outline: InterviewOutline, purpose: str) -> list[OutlineQuestion]:
    return [q for q in outline.questions if q.purpose == purpose]


def test_outline_is_deterministic() -> None:
    first = _outline(ZH_RESUME, MECH, ["SolidWorks", "ANSYS", "GD&T"])
    second = _outline(ZH_RESUME, MECH, ["SolidWorks", "ANSYS", "GD&T"])
    assert first == second
    assert first.to_dict() == second.to_dict()


@pytest.mark.parametrize(("text", "rubric_id"), [(ZH_RESUME, "mechanical_designer"), (EN_RESUME, "backend_engineer")])
def test_every_weighted_dimension_is_covered(text: str, rubric_id: str) -> None:
    rubric = load_default_rubric(rubric_id)
    outline = _outline(text, rubric, [])
    assert outline.covered_dimensions() == {d.key for d in rubric.dimensions}
    assert outline.coverage == 1.0
    known = {d.key for d in rubric.dimensions}
    for question in outline.questions:
        assert question.dimension_keys, question
        assert set(question.dimension_keys) <= known
        assert question.listen_for


def test_every_missing_must_have_is_verified() -> None:
    outline = _outline(ZH_RESUME, MECH, ["SolidWorks", "ANSYS", "GD&T"])
    assert set(outline.missing_must_have) == {"ansys", "gdt"}
    verified = {q.skill_id for q in _purposes(outline, "verify_must_have")}
    assert verified == {"ansys", "gdt"}
    denied = next(q for q in outline.questions if q.skill_id == "ansys")
    assert denied.resume_evidence is not None
    assert "不熟悉ANSYS" in denied.resume_evidence.text
    absent = next(q for q in outline.questions if q.skill_id == "gdt")
    assert absent.resume_evidence is None
    assert "形位公差" in absent.text
    assert absent.dimension_keys == ("engineering_drawings",)


def test_must_haves_the_resume_shows_are_not_questioned() -> None:
    outline = _outline(ZH_RESUME, MECH, ["SolidWorks"])
    assert outline.missing_must_have == ()
    assert not _purposes(outline, "verify_must_have")


def test_ownership_is_probed_where_the_resume_only_participated() -> None:
    outline = _outline(EN_RESUME, BACKEND, ["Python"])
    probes = _purposes(outline, "probe_ownership")
    assert probes
    quoted = " ".join(q.resume_evidence.text for q in probes if q.resume_evidence is not None)
    assert "Participated in the migration" in quoted
    assert "Assisted the DBA team" in quoted
    assert any("system_design" in q.dimension_keys for q in probes)
    # Skills the resume shows as built or led are not probed.
    assert all(q.skill_id not in ("python", "django") for q in probes)


def test_claimed_results_are_dug_into() -> None:
    zh = _purposes(_outline(ZH_RESUME, MECH, []), "dig_into_result")
    assert any("提升了30%" in (q.resume_evidence.text if q.resume_evidence else "") for q in zh)
    assert any("从8%降到2%" in (q.resume_evidence.text if q.resume_evidence else "") for q in zh)
    en = _purposes(_outline(EN_RESUME, BACKEND, []), "dig_into_result")
    assert any("reduced p99 latency by 40%" in q.text for q in en)
    assert all(q.listen_for for q in en)


def test_all_resume_evidence_points_into_the_resume() -> None:
    for text, rubric in ((ZH_RESUME, MECH), (EN_RESUME, BACKEND)):
        outline = _outline(text, rubric, ["Java", "Python", "SolidWorks", "ANSYS"])
        for question in outline.questions:
            if question.resume_evidence is not None:
                assert question.resume_evidence.is_valid_for(text), question


def test_features_from_another_text_are_never_quoted() -> None:
    features = extract_features(ZH_RESUME)
    outline = generate_outline(features, "完全不同的一段文字", JobRequirements.build(must_have=["ANSYS"]), MECH)
    for question in outline.questions:
        assert question.resume_evidence is None or question.resume_evidence.is_valid_for("完全不同的一段文字")


def test_language_follows_the_resume_unless_given() -> None:
    assert _outline(ZH_RESUME, MECH, []).language == "zh"
    english = _outline(EN_RESUME, BACKEND, ["Java"])
    assert english.language == "en"
    assert all(not any("\u4e00" <= c <= "\u9fff" for c in q.text) for q in english.questions)
    assert _outline(EN_RESUME, BACKEND, [], language="zh").language == "zh"


def test_candidate_type_is_inferred_and_shapes_cover_questions() -> None:
    graduate_text = "应届毕业生\n教育经历\n2021-2025 某大学 机械工程 本科\n课程设计：减速器三维建模"
    features = extract_features(graduate_text)
    assert infer_candidate_type(features, graduate_text) == "graduate"
    assert infer_candidate_type(extract_features(ZH_RESUME), ZH_RESUME) == "experienced"
    manager_text = "客服经理，管理一个20人的团队，负责排班和绩效。"
    assert infer_candidate_type(extract_features(manager_text), manager_text) == "manager"
    grad = _outline(graduate_text, MECH, [])
    assert grad.candidate_type == "graduate"
    covering = {q.dimension_keys[0]: q.text for q in _purposes(grad, "cover_dimension")}
    assert "学校" in covering["modeling_3d"] or "实习" in covering["modeling_3d"]


def test_explicit_candidate_type_wins() -> None:
    assert _outline(ZH_RESUME, MECH, [], candidate_type="manager").candidate_type == "manager"
    with pytest.raises(ValueError, match="candidate type"):
        _outline(ZH_RESUME, MECH, [], candidate_type="intern")


def test_custom_rubric_dimensions_get_generic_questions() -> None:
    rubric = Rubric(
        "custom",
        "1",
        (
            Dimension("excel", "Excel数据分析", 2, "hard", True, (Level(5, "独立做过数据透视"), Level(1, "没用过"))),
            Dimension("care", "客户意识", 1, "soft", False, (Level(4, "主动跟进客户"), Level(2, "被动回应"))),
        ),
    )
    outline = _outline(ZH_RESUME, rubric, [])
    assert outline.covered_dimensions() == {"excel", "care"}


def test_outline_round_trips_through_dict() -> None:
    outline = _outline(EN_RESUME, BACKEND, ["Java", "Python"])
    assert InterviewOutline.from_dict(outline.to_dict()) == outline


def test_outline_for_every_default_rubric_and_an_empty_resume() -> None:
    empty = ResumeFeatures("zh", (), None, (), None, None, "engines-1.0.0", "x")
    for rubric in default_rubrics().values():
        outline = generate_outline(empty, "", JobRequirements(), rubric)
        assert outline.covered_dimensions() == {d.key for d in rubric.dimensions}
        assert outline.candidate_type == "experienced"


def test_negated_mention_without_valid_evidence_falls_back_to_plain_question() -> None:
    mention = SkillMention("ansys", "ANSYS", "listed", True, "skills", Evidence("ANSYS", 100, 105))
    features = ResumeFeatures("zh", (mention,), 3.0, (), None, None, "engines-1.0.0", "x")
    outline = generate_outline(features, "短文本", JobRequirements(must_have=("ansys",)), MECH)
    question = _purposes(outline, "verify_must_have")[0]
    assert question.resume_evidence is None
    assert question.skill_id == "ansys"
