"""engines/extract.py and engines/skill_matcher.py end to end: robustness on arbitrary text, offsets,
and the compact matching Doc agreeing with the full one."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from engines.extract import extract_features
from engines.pipeline import get_nlp
from engines.resumes import generate_resumes
from engines.skill_matcher import get_skill_matcher

# Fragments real resumes are made of, so random text actually hits aliases, cues, dates and headings.
FRAGMENTS = [
    "熟悉",
    "不熟悉",
    "主导",
    "参与",
    "负责",
    "Java",
    "Ｊａｖａ",
    "Go",
    "go",
    "C++",
    "C端",
    "Spring Boot",
    "SpringBoot",
    "Spring",
    "Boot",
    "Cloud",
    "三维建模",
    "三维",
    "建模",
    "形位",
    "公差",
    "位",
    "SW",
    "CRM系统",
    "CRM",
    "系统",
    "客诉处理",
    "led",
    "not",
    "without",
    "A/B tests",
    "A",
    "B",
    "test",
    "tests",
    "/",
    "(",
    ")",
    ":",
    "-",
    ".",
    "2018.03-至今",
    "Mar 2019 – Present",
    "5年",
    "3+ years of",
    "本科",
    "MSc in",
    "专业技能\n",
    "\n项目经验\n",
    "Skills:",
    "，",
    "。",
    "；",
    ", ",
    " ",
    "  ",
    "\n",
    "\t",
    "　",
    "\u00a0",
    "•",
    "Node.js",
    "Node",
    "js",
    ".NET",
    "NET",
    "R",
    "Excel",
    "excel",
    "K8s",
    "Python3",
    "Python",
    "3",
    "数据分析",
    "分析",
    "数据",
    "e-mail",
    "S/4HANA",
    "GD&T",
    "C#",
    "ISO 9001:2015",
    "Pro/E",
    "T-SQL",
]
resume_like = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(resume_like, st.text(max_size=200)))
def test_extraction_never_fails_and_every_offset_is_valid(text: str) -> None:
    features = extract_features(text, today=date(2026, 5, 1))
    for mention in features.skills:
        assert mention.evidence.is_valid_for(text)
    for evidence in features.years_evidence:
        assert evidence.is_valid_for(text)
    if features.education_evidence is not None:
        assert features.education_evidence.is_valid_for(text)


@settings(max_examples=1000, deadline=None)
@given(st.one_of(resume_like, st.text(max_size=200)))
def test_compact_matching_equals_matching_on_the_full_doc(text: str) -> None:
    matcher = get_skill_matcher()
    assert matcher.find(text) == matcher.find_in_doc(get_nlp().make_doc(text), text)


def test_compact_matching_equals_full_doc_on_generated_resumes() -> None:
    matcher = get_skill_matcher()
    for resume in generate_resumes(90, seed=8):
        assert matcher.find(resume.text) == matcher.find_in_doc(get_nlp().make_doc(resume.text), resume.text)


def test_vocabulary_does_not_grow_with_new_names() -> None:
    matcher = get_skill_matcher()
    matcher.find("warm-up 熟悉Java")
    before = len(get_nlp().vocab)
    for i in range(200):
        matcher.find(f"张{i}伟 candidate{i}@example{i}.com 13{i:09d} 熟悉Java和未见过的词汇{i}")
    assert len(get_nlp().vocab) == before


def test_default_today_is_used_when_not_given() -> None:
    assert extract_features("2020.01-至今").years_experience is not None
