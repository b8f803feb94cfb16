"""The seeded transcript generator: deterministic, with known truth and spoken-language noise."""

from __future__ import annotations

import random

import pytest

from engines.rubric import default_rubrics, load_default_rubric
from engines.transcripts import generate_interview, generate_interviews


def test_same_seed_same_interviews_and_different_seed_differs() -> None:
    assert generate_interviews(20, seed=4) == generate_interviews(20, seed=4)
    assert generate_interviews(20, seed=4) != generate_interviews(20, seed=5)
    # Interview n depends on the seed and n only, not on how many were asked for.
    assert generate_interviews(5, seed=4) == generate_interviews(20, seed=4)[:5]


def test_truth_covers_every_dimension_and_answers_are_tagged() -> None:
    for interview in generate_interviews(60, seed=2):
        rubric = default_rubrics()[interview.rubric_id]
        assert [key for key, _level in interview.truth] == [d.key for d in rubric.dimensions]
        levels = [level for _key, level in interview.truth]
        assert any(level is not None for level in levels)
        assert all(level is None or 1 <= level <= 5 for level in levels)
        keys = {d.key for d in rubric.dimensions}
        for answer in interview.answers:
            assert set(answer.dimension_keys) <= keys
            assert answer.transcript.strip()
        with pytest.raises(KeyError):
            interview.truth_for("nope")


def test_languages_candidate_types_and_noise_all_occur() -> None:
    interviews = generate_interviews(150, seed=9)
    assert {i.language for i in interviews} == {"zh", "en", "mixed"}
    assert {i.candidate_type for i in interviews} == {"graduate", "experienced", "manager"}
    text = " ".join(a.transcript for i in interviews for a in i.answers)
    for noise in ("嗯", "那个", "um", "不对", "sorry"):
        assert noise in text
    assert any(level is None for i in interviews for _k, level in i.truth)


def test_languages_can_be_restricted() -> None:
    english = generate_interviews(10, seed=1, languages=["en"], rubrics=[load_default_rubric("sales")])
    assert {i.language for i in english} == {"en"}
    assert {i.rubric_id for i in english} == {"sales"}
    with pytest.raises(ValueError, match="language"):
        generate_interviews(1, languages=["fr"])  # type: ignore[list-item]


def test_single_interview_from_an_rng() -> None:
    rubric = load_default_rubric("backend_engineer")
    one = generate_interview(random.Random(3), rubric, interview_id="x", language="mixed", candidate_type="graduate")
    two = generate_interview(random.Random(3), rubric, interview_id="x", language="mixed", candidate_type="graduate")
    assert one == two
    assert one.truth_for("backend_development") in (None, 1, 2, 3, 4, 5)
