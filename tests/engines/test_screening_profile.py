"""engines/screening_profile.py: profiles hold no text, and screening by profile is screening by features.

The same outcome as ``screen_cached`` on the full features (score, recommendation, every reason's code,
points, skill and detail), for random features and requirements, and for generated resumes and jobs; only
the evidence is left out. Outcomes are shared between profiles with the same key.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from engines.extract import extract_features
from engines.features import ResumeFeatures
from engines.resumes import DEFAULT_TODAY, generate_jobs, generate_resumes
from engines.screening import JobRequirements, Knockout, screen_cached
from engines.screening_profile import ProfileScreen, profile_of, profile_supported
from tests.engines.test_screening import features_strategy, requirements_strategy


def _without_evidence(data: dict, requirements: JobRequirements) -> tuple:  # type: ignore[type-arg]
    outcome = screen_cached(data, requirements)
    reasons = [{k: v for k, v in r.to_dict().items() if k != "evidence"} for r in outcome.reasons]
    return outcome.score, outcome.passed, reasons


@settings(max_examples=400, deadline=None)
@given(features_strategy, requirements_strategy())
def test_a_profile_screens_exactly_like_the_features(features: ResumeFeatures, requirements: JobRequirements) -> None:
    data = json.loads(json.dumps(features.to_dict()))
    profile = json.loads(json.dumps(profile_of(data)))  # stored as JSON by the hub
    screen = ProfileScreen(requirements)
    assert screen.key_of_features(data) == screen.key(profile)
    outcome = screen.outcome(screen.key(profile))
    eighths, passed, encoded = screen.score(screen.key(profile))
    assert (eighths, passed) == (outcome.eighths, outcome.passed) and screen.decode(encoded) == screen.key(profile)
    score, passed, reasons = _without_evidence(data, requirements)
    assert (outcome.score, outcome.passed, list(outcome.reasons)) == (score, passed, reasons)
    assert outcome.eighths == score * 8 and json.loads(outcome.reasons_json) == reasons
    assert sum(r["points"] for r in outcome.reasons) == outcome.score


def test_generated_library_and_jobs() -> None:
    resumes = generate_resumes(60, seed=3)
    features = [extract_features(r.text, today=DEFAULT_TODAY).to_dict() for r in resumes]
    profiles = [profile_of(f) for f in features]
    for job in generate_jobs(6, seed=4):
        screen = ProfileScreen(job.requirements)
        outcomes = screen.screen(profiles)
        for data, outcome in zip(features, outcomes, strict=True):
            assert (outcome.score, outcome.passed, list(outcome.reasons)) == _without_evidence(data, job.requirements)
        # Outcomes are computed once per distinct key and shared.
        assert len({id(o) for o in outcomes}) == len({screen.key(p) for p in profiles})


def test_profiles_hold_no_text() -> None:
    text = (
        "张伟\n项目经验\n主导订单系统重构，使用Java和MySQL；不熟悉Go\n教育背景\n华中科技大学 本科\n"
        "2018.03-至今 高级工程师"
    )
    profile = profile_of(extract_features(text, today=DEFAULT_TODAY).to_dict())
    assert profile["s"]["java"] == 5 and profile["s"]["golang"] == 1 and profile["e"] == "bachelor"
    flat = json.dumps(profile, ensure_ascii=False)
    assert "张伟" not in flat and "订单" not in flat and "华中" not in flat
    assert set(profile) == {"s", "y", "e"} and all(isinstance(v, int) for v in profile["s"].values())


def test_encoded_keys_read_back_for_any_job() -> None:
    one = ProfileScreen(JobRequirements(("java", "mysql"), min_years=2.0))
    other = ProfileScreen(JobRequirements(("mysql",), knockouts=(Knockout("skill", "golang"),)))
    key = ((5, 1), 2.5, "master")
    text = one.encode(key)
    assert text == "java:5,mysql:1|2.5|master" and one.decode(text) == key
    assert other.decode(text) == ((0, 1), 2.5, "master")  # golang not named: not mentioned
    assert one.decode(one.encode(((0, 0), None, None))) == ((0, 0), None, None)
    with pytest.raises(ValueError, match="encoded"):
        one.decode("java=5")


def test_keyword_knockouts_are_refused() -> None:
    requirements = JobRequirements(("java",), knockouts=(Knockout("keyword", "外包"),))
    assert not profile_supported(requirements)
    with pytest.raises(ValueError, match="keyword"):
        ProfileScreen(requirements)
    with pytest.raises(ValueError, match="education"):
        ProfileScreen(JobRequirements(("java",))).outcome(((5,), 3.0, "doctorate"))
