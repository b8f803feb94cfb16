"""engines/screening.py: arithmetic, reasons with evidence, knock-outs, ranking, serialization."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engines.evidence import Evidence
from engines.extract import extract_features
from engines.features import EDUCATION_LEVELS, ENGINE_VERSION, ResumeFeatures, SkillMention
from engines.screening import (
    INVOLVEMENT_FACTOR,
    JobRequirements,
    Knockout,
    ReasonCode,
    ScreeningOutcome,
    WeightedSkill,
    rank,
    resolve_skill,
    screen,
    screen_cached,
    screen_many,
)

SKILLS = ("python", "java", "golang", "mysql", "redis", "kafka", "docker", "solidworks")
EV = Evidence("", 0, 0)

mentions = st.builds(
    SkillMention,
    skill_id=st.sampled_from(SKILLS),
    name=st.just("n"),
    involvement=st.sampled_from(("led", "used", "participated", "listed")),
    negated=st.booleans(),
    section=st.just("experience"),
    evidence=st.just(EV),
)
features_strategy = st.builds(
    ResumeFeatures,
    language=st.just("en"),
    skills=st.lists(mentions, max_size=12).map(tuple),
    years_experience=st.one_of(st.none(), st.floats(min_value=0, max_value=40, allow_nan=False)),
    years_evidence=st.just(()),
    education=st.one_of(st.none(), st.sampled_from(EDUCATION_LEVELS)),
    education_evidence=st.just(None),
    engine_version=st.just(ENGINE_VERSION),
    gazetteer_version=st.just("g"),
)


@st.composite
def requirements_strategy(draw: st.DrawFn) -> JobRequirements:
    chosen = draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=7))
    split = draw(st.integers(min_value=0, max_value=min(4, len(chosen))))
    weights = draw(st.lists(st.floats(min_value=0.1, max_value=10), min_size=len(chosen), max_size=len(chosen)))
    knockouts = draw(
        st.lists(
            st.one_of(
                st.builds(Knockout, st.just("skill"), st.sampled_from(SKILLS)),
                st.builds(Knockout, st.just("years_below"), st.sampled_from(("1", "2.5"))),
                st.builds(Knockout, st.just("education_below"), st.sampled_from(EDUCATION_LEVELS)),
            ),
            max_size=2,
        )
    )
    return JobRequirements(
        must_have=tuple(chosen[:split]),
        nice_to_have=tuple(WeightedSkill(s, w) for s, w in zip(chosen[split:], weights[split:], strict=True)),
        min_years=draw(st.one_of(st.none(), st.floats(min_value=0, max_value=15, allow_nan=False))),
        min_education=draw(st.one_of(st.none(), st.sampled_from(EDUCATION_LEVELS))),
        knockouts=tuple(knockouts),
        pass_threshold=draw(st.floats(min_value=0, max_value=100)),
    )


@settings(max_examples=400, deadline=None)
@given(features_strategy, requirements_strategy())
def test_points_add_up_exactly_to_the_score(features: ResumeFeatures, requirements: JobRequirements) -> None:
    outcome = screen(features, requirements)
    assert sum(r.points for r in outcome.reasons) == outcome.score
    assert 0.0 <= outcome.score <= 100.0
    assert all(r.points >= 0 for r in outcome.reasons)
    codes = {r.code for r in outcome.reasons}
    blocked = codes & {ReasonCode.MUST_HAVE_MISSING, ReasonCode.MUST_HAVE_NEGATED, ReasonCode.KNOCKOUT_HIT}
    assert outcome.passed == (not blocked and outcome.score >= requirements.pass_threshold)
    # One reason per must-have, in order.
    must = [r.skill_id for r in outcome.reasons if r.code.value.startswith("MUST_HAVE")]
    assert must == list(requirements.must_have)


@settings(max_examples=100, deadline=None)
@given(requirements_strategy())
def test_a_perfect_candidate_scores_100(requirements: JobRequirements) -> None:
    skills = tuple(
        SkillMention(s, s, "led", False, "experience", EV)
        for s in {*requirements.must_have, *(w.skill_id for w in requirements.nice_to_have)}
    )
    features = ResumeFeatures("en", skills, 50.0, (), "phd", None, ENGINE_VERSION, "g")
    plain = JobRequirements(
        requirements.must_have, requirements.nice_to_have, requirements.min_years, requirements.min_education
    )
    outcome = screen(features, plain)
    used = plain.must_have or plain.nice_to_have or plain.min_years or plain.min_education
    assert outcome.score == (100.0 if used else 0.0)


def mention(skill: str, involvement: str = "used", negated: bool = False) -> SkillMention:
    return SkillMention(skill, skill, involvement, negated, "experience", EV)  # type: ignore[arg-type]


def feats(*mentions_: SkillMention, years: float | None = 5.0, education: str | None = "bachelor") -> ResumeFeatures:
    return ResumeFeatures("en", mentions_, years, (), education, None, ENGINE_VERSION, "g")  # type: ignore[arg-type]


def test_involvement_affects_points() -> None:
    requirements = JobRequirements(must_have=("python",))
    scores = {inv: screen(feats(mention("python", inv)), requirements).score for inv in INVOLVEMENT_FACTOR}
    assert scores["led"] > scores["used"] > scores["participated"] > scores["listed"] > 0


def test_missing_and_negated_must_haves_fail_with_their_codes() -> None:
    requirements = JobRequirements(must_have=("python", "golang"), pass_threshold=0)
    outcome = screen(feats(mention("python", "led"), mention("golang", negated=True)), requirements)
    assert not outcome.passed
    assert [r.code for r in outcome.reasons] == [ReasonCode.MUST_HAVE_MET, ReasonCode.MUST_HAVE_NEGATED]
    outcome = screen(feats(mention("python", "led")), requirements)
    assert [r.code for r in outcome.reasons] == [ReasonCode.MUST_HAVE_MET, ReasonCode.MUST_HAVE_MISSING]
    assert not outcome.passed


def test_years_and_education() -> None:
    requirements = JobRequirements(must_have=("python",), min_years=4, min_education="master")
    outcome = screen(feats(mention("python"), years=2.0, education="bachelor"), requirements)
    codes = [r.code for r in outcome.reasons]
    assert codes == [ReasonCode.MUST_HAVE_MET, ReasonCode.YEARS_BELOW_MINIMUM, ReasonCode.EDUCATION_BELOW_MINIMUM]
    years_reason = outcome.reasons[1]
    assert 0 < years_reason.points < 10  # partial credit in proportion
    outcome = screen(feats(mention("python"), years=None, education=None), requirements)
    assert outcome.reasons[1].points == 0.0 and "not stated" in outcome.reasons[1].detail
    outcome = screen(feats(mention("python"), years=6.0, education="phd"), requirements)
    assert [r.code for r in outcome.reasons][1:] == [ReasonCode.YEARS_MET, ReasonCode.EDUCATION_MET]


def test_knockouts() -> None:
    base = feats(mention("python", "led"), mention("php"), years=0.5, education="associate")
    for knockout in (
        Knockout("skill", "php", "no PHP shops"),
        Knockout("years_below", "1"),
        Knockout("education_below", "bachelor"),
    ):
        outcome = screen(base, JobRequirements(must_have=("python",), knockouts=(knockout,), pass_threshold=0))
        assert not outcome.passed
        assert outcome.reasons[-1].code is ReasonCode.KNOCKOUT_HIT
    # Unknown facts never knock a candidate out.
    unknown = feats(mention("python", "led"), years=None, education=None)
    requirements = JobRequirements(
        must_have=("python",), knockouts=(Knockout("years_below", "3"), Knockout("education_below", "master"))
    )
    assert screen(unknown, requirements).passed


def test_keyword_knockout_needs_text_and_points_at_it() -> None:
    text = "工作经历\n2019.01-2023.01 竞业公司 使用Python"
    features = extract_features(text)
    requirements = JobRequirements(must_have=("python",), knockouts=(Knockout("keyword", "竞业"),))
    with pytest.raises(ValueError, match="needs the resume text"):
        screen(features, requirements)
    outcome = screen(features, requirements, text=text)
    hit = outcome.reasons[-1]
    assert hit.code is ReasonCode.KNOCKOUT_HIT and hit.evidence[0].is_valid_for(text)
    assert not outcome.passed


def test_reasons_carry_evidence_from_the_resume() -> None:
    text = (
        "工作经历\n2016.01-2024.01 某公司\n- 主导订单系统，使用Java和MySQL\n"
        "专业技能\n熟悉Redis，不熟悉Go\n教育背景\n本科"
    )
    features = extract_features(text)
    requirements = JobRequirements.build(
        must_have=["java", "MySQL", "Go"], nice_to_have={"redis": 2}, min_years=3, min_education="bachelor"
    )
    outcome = screen(features, requirements)
    by_code = {(r.code, r.skill_id): r for r in outcome.reasons}
    assert by_code[(ReasonCode.MUST_HAVE_MET, "java")].evidence[0].text == "Java"
    assert by_code[(ReasonCode.MUST_HAVE_NEGATED, "golang")].evidence[0].text == "Go"
    assert by_code[(ReasonCode.YEARS_MET, None)].evidence[0].text == "2016.01-2024.01"
    assert by_code[(ReasonCode.EDUCATION_MET, None)].evidence[0].text == "本科"
    for reason in outcome.reasons:
        for evidence in reason.evidence:
            assert evidence.is_valid_for(text)


def test_build_resolves_names_in_either_language() -> None:
    requirements = JobRequirements.build(must_have=["SW", "投诉处理"], nice_to_have=["CRM系统"])
    assert requirements.must_have == ("solidworks", "complaint_handling")
    assert requirements.nice_to_have == (WeightedSkill("salesforce", 1.0),)
    assert resolve_skill("三维建模") == "solidworks"
    with pytest.raises(ValueError, match="unknown skill"):
        JobRequirements.build(must_have=["basket weaving"])


def test_requirement_validation() -> None:
    with pytest.raises(ValueError, match="twice"):
        JobRequirements(must_have=("python", "python"))
    with pytest.raises(ValueError, match="listed twice"):
        JobRequirements(must_have=("python",), nice_to_have=(WeightedSkill("python"),))
    with pytest.raises(ValueError, match="positive"):
        JobRequirements(nice_to_have=(WeightedSkill("python", 0),))
    with pytest.raises(ValueError, match="education"):
        JobRequirements(min_education="college")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        Knockout("zodiac", "leo")  # type: ignore[arg-type]


def test_round_trips_through_json() -> None:
    requirements = JobRequirements(
        ("python",), (WeightedSkill("redis", 2.0),), 3.0, "bachelor", (Knockout("keyword", "x", "why"),), 55.0
    )
    assert JobRequirements.from_dict(json.loads(json.dumps(requirements.to_dict()))) == requirements
    outcome = screen(feats(mention("python", "led"), mention("redis")), requirements, text="")
    again = ScreeningOutcome.from_dict(json.loads(json.dumps(outcome.to_dict(), ensure_ascii=False)))
    assert again == outcome


def test_rank_is_deterministic_and_breaks_ties_by_id() -> None:
    requirements = JobRequirements(must_have=("python",), nice_to_have=(WeightedSkill("redis"),), pass_threshold=50)
    library = {
        "c": feats(mention("python", "led")),
        "a": feats(mention("python", "led")),
        "b": feats(mention("python", "led"), mention("redis", "led")),
        "d": feats(mention("redis", "led")),
        "e": feats(mention("python", "listed")),
    }
    outcomes = screen_many(library, requirements)
    ranked = rank(outcomes)
    assert [key for key, _, _ in ranked] == ["b", "a", "c", "e", "d"]
    assert [position for _, _, position in ranked] == [1, 2, 3, 4, 5]
    items = list(outcomes.items())
    for seed in range(5):
        random.Random(seed).shuffle(items)
        assert rank(dict(items)) == ranked


def test_empty_requirements() -> None:
    outcome = screen(feats(), JobRequirements(pass_threshold=0))
    assert outcome.score == 0.0 and outcome.reasons == () and outcome.passed


@settings(max_examples=200, deadline=None)
@given(features_strategy, requirements_strategy())
def test_screening_the_json_form_gives_the_same_outcome(
    features: ResumeFeatures, requirements: JobRequirements
) -> None:
    data = json.loads(json.dumps(features.to_dict()))
    assert screen_cached(data, requirements) == screen(features, requirements)


def test_screen_many_accepts_objects_and_json_forms() -> None:
    requirements = JobRequirements.build(must_have=["java"], nice_to_have=["redis"], min_years=2)
    text = "工作经历\n2019.01-2024.01 使用Java开发，参与Redis改造"
    features = extract_features(text)
    outcomes = screen_many({"obj": features, "json": features.to_dict()}, requirements)
    assert outcomes["obj"] == outcomes["json"] == screen(features, requirements)
