"""engines/resumes.py: a deterministic generator with known truth, and extraction measured against it."""

from __future__ import annotations

import statistics

import pytest

from engines import resume_phrases as phrases
from engines.extract import extract_features
from engines.gazetteer import get_gazetteer
from engines.resumes import DEFAULT_TODAY, generate_jobs, generate_resume, generate_resumes, ideal_outcome
from engines.rules import MentionContext
from engines.screening import rank, screen
from engines.skill_matcher import get_skill_matcher

LIBRARY = generate_resumes(240, seed=5)


def test_deterministic() -> None:
    again = generate_resumes(240, seed=5)
    assert [(r.resume_id, r.text, r.truth) for r in again] == [(r.resume_id, r.text, r.truth) for r in LIBRARY]
    assert generate_resumes(5, seed=6)[0].text != LIBRARY[0].text
    assert generate_jobs(9, seed=1) == generate_jobs(9, seed=1)


def test_covers_languages_lengths_and_categories() -> None:
    assert {r.language for r in LIBRARY} == {"zh", "en", "mixed"}
    assert {r.length for r in LIBRARY} == {"short", "long"}
    assert {r.truth.category for r in LIBRARY} == set(phrases.CATEGORIES)
    short = [len(r.text) for r in LIBRARY if r.length == "short"]
    long = [len(r.text) for r in LIBRARY if r.length == "long"]
    assert 200 <= statistics.median(short) <= 700
    assert 1100 <= statistics.median(long) <= 2400


def test_layouts_vary() -> None:
    first_lines = {r.text.splitlines()[2] if len(r.text.splitlines()) > 2 else "" for r in LIBRARY}
    assert len(first_lines) > 50
    assert any("至今" in r.text for r in LIBRARY) and any("Present" in r.text for r in LIBRARY)


def test_truth_includes_unknown_spellings() -> None:
    unknown = [m for r in LIBRARY for m in r.truth.mentions if not m.known]
    assert unknown
    for mention in unknown:
        assert get_gazetteer().resolve(mention.spelling) is None


def test_every_finding_on_generated_resumes_has_valid_evidence() -> None:
    for resume in LIBRARY:
        features = extract_features(resume.text, today=DEFAULT_TODAY)
        for m in features.skills:
            assert m.evidence.is_valid_for(resume.text), (resume.resume_id, m)
        for e in features.years_evidence:
            assert e.is_valid_for(resume.text)
        if features.education_evidence is not None:
            assert features.education_evidence.is_valid_for(resume.text)


def test_extraction_quality_against_truth() -> None:
    tp = fp = fn = 0
    for resume in LIBRARY:
        features = extract_features(resume.text, today=DEFAULT_TODAY)
        predicted = {s for s in features.skill_ids() if features.has_skill(s)}
        truth = resume.truth.positive_ids(known_only=True)
        tp += len(predicted & truth)
        fp += len(predicted - truth)
        fn += len(truth - predicted)
        assert features.education == resume.truth.education
        if resume.truth.years is None:
            assert features.years_experience is None
        else:
            assert features.years_experience == pytest.approx(resume.truth.years, abs=0.15)
    assert tp / (tp + fp) >= 0.97
    assert tp / (tp + fn) >= 0.97


def test_fillers_carry_no_skills_or_cues() -> None:
    matcher = get_skill_matcher()
    for lang in ("zh", "en"):
        fillers = [
            *phrases.OBJECTS[lang],
            *phrases.METRICS[lang],
            *phrases.DUTIES[lang],
            *phrases.COMPANIES[lang],
            *phrases.SCHOOLS[lang],
            *phrases.MAJORS[lang],
            *phrases.EVALUATIONS[lang],
            *phrases.FIELDS[lang].values(),
            *(t for c in phrases.CATEGORIES.values() for t in c[lang]),
        ]
        for filler in fillers:
            assert matcher.find(filler) == [], filler
        for filler in [*phrases.OBJECTS[lang], *phrases.METRICS[lang]]:
            context = MentionContext(filler)
            assert context.cue_for(len(filler), len(filler)) is None, filler
            assert not context.is_negated(len(filler), len(filler), ()), filler


def test_jobs_and_ideal_outcomes() -> None:
    jobs = generate_jobs(9, seed=2)
    assert {j.category for j in jobs} == set(phrases.CATEGORIES)
    for job in jobs:
        assert job.requirements.must_have
        outcomes = {r.resume_id: ideal_outcome(r, job) for r in LIBRARY}
        assert any(o.passed for o in outcomes.values())
        assert len(rank(outcomes)) == len(LIBRARY)


def test_single_resume_is_reproducible() -> None:
    a = generate_resume(42, language="mixed", length="long", category="mechanical")
    b = generate_resume(42, language="mixed", length="long", category="mechanical")
    assert a == b
    assert a.truth.category == "mechanical"
    features = extract_features(a.text, today=DEFAULT_TODAY)
    job = generate_jobs(1, seed=3, categories=["mechanical"])[0]
    assert screen(features, job.requirements).score >= 0
