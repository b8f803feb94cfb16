"""engines/features.py and engines/evidence.py: the contract the hub caches and other engines consume."""

from __future__ import annotations

import json

import pytest

from engines.evidence import Evidence, with_quotes, without_quotes
from engines.extract import extract_features
from engines.features import ENGINE_VERSION, ResumeFeatures, SkillMention
from engines.gazetteer import get_gazetteer

TEXT = (
    "项目经验\n主导订单系统重构，使用Java；参与Kafka改造\n专业技能\n熟悉Redis，不熟悉Go\n本科\n2018.03-2020.03 某公司"
)


def test_evidence_invariant() -> None:
    evidence = Evidence.from_span("熟悉Java", 2, 6)
    assert evidence == Evidence("Java", 2, 6)
    assert evidence.is_valid_for("熟悉Java")
    assert not evidence.is_valid_for("熟悉Jav")
    assert Evidence.from_dict(evidence.to_dict()) == evidence
    with pytest.raises(ValueError, match="outside"):
        Evidence.from_span("abc", 2, 9)


def test_features_round_trip_through_json() -> None:
    features = extract_features(TEXT)
    data = json.loads(json.dumps(features.to_dict(), ensure_ascii=False))
    again = ResumeFeatures.from_dict(data)
    assert again == features
    assert again.to_dict() == features.to_dict()
    assert again.has_skill("java") and again.best_involvement("java") == "led"


def test_versions_are_recorded() -> None:
    features = extract_features(TEXT)
    assert features.engine_version == ENGINE_VERSION
    assert features.gazetteer_version == get_gazetteer().version


def test_helpers() -> None:
    features = extract_features(TEXT)
    assert features.has_skill("java")
    assert features.best_involvement("java") == "led"
    assert features.best_involvement("kafka") == "participated"
    assert features.best_involvement("redis") == "listed"
    assert not features.has_skill("golang")
    assert features.is_negated("golang")
    assert features.best_involvement("golang") is None
    assert [m.negated for m in features.skill("golang")] == [True]
    assert features.skill("nothing") == []
    assert "golang" in features.skill_ids()
    assert features.years_experience == 2.1  # Mar 2018 .. Mar 2020, both months counted
    assert features.education == "bachelor"


def test_every_finding_points_into_the_text() -> None:
    features = extract_features(TEXT)
    spans = [m.evidence for m in features.skills] + list(features.years_evidence)
    if features.education_evidence is not None:
        spans.append(features.education_evidence)
    assert spans
    for evidence in spans:
        assert evidence.is_valid_for(TEXT)


def test_validation() -> None:
    evidence = Evidence("x", 0, 1)
    with pytest.raises(ValueError, match="involvement"):
        SkillMention("x", "X", "owned", False, "skills", evidence)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="language"):
        ResumeFeatures("fr", (), None, (), None, None, "e", "g")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="education"):
        ResumeFeatures("en", (), None, (), "college", None, "e", "g")  # type: ignore[arg-type]


def test_empty_text() -> None:
    features = extract_features("")
    assert features.skills == ()
    assert features.years_experience is None
    assert features.education is None


def test_cached_features_hold_offsets_only_and_quote_back_exactly() -> None:
    full = extract_features(TEXT).to_dict()
    cached = without_quotes(full)
    assert TEXT[:4] not in json.dumps(cached, ensure_ascii=False)  # no text of the resume is left ("项目经验")
    assert all("text" not in m["evidence"] for m in cached["skills"]) and cached["skills"]
    assert all("text" not in e for e in cached["years_evidence"]) and cached["years_evidence"]
    assert "text" not in cached["education_evidence"]
    assert with_quotes(cached, TEXT) == full
    assert ResumeFeatures.from_dict(with_quotes(cached, TEXT)) == ResumeFeatures.from_dict(full)
    with pytest.raises(ValueError, match="outside"):
        with_quotes(cached, TEXT[:5])  # features of another (shorter) text
