"""Seeded data: deterministic, bilingual, realistic, and fast enough for the 10,000-candidate benchmark."""

from __future__ import annotations

import re
import time

from simulators.seed import Sizes, build_world


def test_same_seed_same_world_other_seed_other_world() -> None:
    one, two, other = (
        build_world(3, Sizes(candidates=80)),
        build_world(3, Sizes(candidates=80)),
        build_world(4, Sizes(candidates=80)),
    )
    assert one == two
    assert [c.full_name for c in one.candidates] != [c.full_name for c in other.candidates]


def test_ten_thousand_candidates_in_under_two_seconds() -> None:
    # CPU time, not wall time: on a shared CI machine other processes stretch the wall clock.
    started = time.process_time()
    world = build_world(7, Sizes(candidates=10_000))
    assert time.process_time() - started < 2.0
    assert len(world.candidates) == 10_000 == len(world.resumes)


def test_realistic_bilingual_data() -> None:
    world = build_world(9, Sizes(candidates=400, jobs=12, deleted_candidates=5))
    languages = {c.language for c in world.candidates}
    assert languages == {"zh", "en"}
    assert all(re.match(r"^\+86-1\d\d-\d{4}-\d{4}$", c.phone) for c in world.candidates)
    assert len({c.email for c in world.candidates}) == 400
    assert all(300 <= len(r.text) <= 2000 for r in world.resumes)
    zh = next(r.text for r in world.resumes if r.language == "zh")
    en = next(r.text for r in world.resumes if r.language == "en")
    assert "工作经历" in zh or "项目经历" in zh
    assert ("Experience" in en or "Projects" in en) and not re.search(r"[\u4e00-\u9fff]", en)
    assert {j.mode for j in world.jobs} == {"social", "campus"}
    assert any(re.search(r"[\u4e00-\u9fff]", j.name) for j in world.jobs)
    assert sum(c.deleted for c in world.candidates) == 5
    stages = {s.name_zh for s in world.stages}
    assert {"一面", "二面", "HR面"} <= stages
    applications = {a.uid for a in world.applications}
    assert all(i.application in applications for i in world.interviews)
    answered = [s for s in world.sessions if s.status in ("SUBMITTED", "SCORING", "COMPLETED")]
    assert answered and all(len(s.transcripts) == len(s.questions) for s in answered)
    assert all(s.consent_at is None for s in world.sessions if not s.consent_ai)
