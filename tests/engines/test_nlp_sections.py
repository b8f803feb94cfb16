"""engines/sections.py: headings in their many real-world shapes."""

from __future__ import annotations

import pytest

from engines.sections import find_sections, heading_kind


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("专业技能", "skills"),
        ("技能特长", "skills"),
        ("【专业技能】", "skills"),
        ("## Skills", "skills"),
        ("TECHNICAL SKILLS", "skills"),
        ("Skills & Tools", "skills"),
        ("Skills & Certifications", "skills"),
        ("项目经验", "projects"),
        ("三、项目经历", "projects"),
        ("Projects", "projects"),
        ("工作经历", "experience"),
        ("■ 工作经验 ■", "experience"),
        ("WORK EXPERIENCE", "experience"),
        ("Experience:", "experience"),
        ("Employment History", "experience"),
        ("教育背景", "education"),
        ("1. 教育背景", "education"),
        ("教育背景 Education", "education"),
        ("教育背景Education", "education"),
        ("EDUCATION", "education"),
        ("自我评价", "summary"),
        ("Summary", "summary"),
        ("Professional Summary", "summary"),
        ("证书", "certificates"),
        ("Certifications", "certificates"),
    ],
)
def test_heading_kind(line: str, kind: str) -> None:
    assert heading_kind(line) == kind


@pytest.mark.parametrize(
    "line",
    ["熟悉Java和Python", "负责订单系统", "Led the skills assessment program for 40 engineers", "", "   "],
)
def test_not_a_heading(line: str) -> None:
    assert heading_kind(line) is None


def test_sections_and_lookup() -> None:
    text = "张三 13800000000\n专业技能\n熟悉Java\n项目经验\n主导订单系统\n教育背景\n本科"
    sections = find_sections(text)
    assert [s.kind for s in sections.sections] == ["other", "skills", "projects", "education"]
    assert sections.kind_at(text.index("张三")) == "other"
    assert sections.kind_at(text.index("Java")) == "skills"
    assert sections.kind_at(text.index("订单")) == "projects"
    assert sections.kind_at(text.index("本科")) == "education"
    assert sections.has_headings


def test_inline_heading() -> None:
    text = "王五，5年销售经验\n技能：CRM、商务谈判\n谢谢"
    sections = find_sections(text)
    assert sections.kind_at(text.index("CRM")) == "skills"
    assert sections.kind_at(text.index("王五")) == "other"
    assert not sections.has_headings  # only inline headings: the top is free text, not a header


def test_tech_stack_line_inside_a_project_stays_in_the_project() -> None:
    text = "项目经验\n【订单平台】\n技术栈：Spring Boot、Redis\n负责缓存设计"
    assert find_sections(text).kind_at(text.index("Redis")) == "projects"


def test_unclassified_headings_end_the_previous_section() -> None:
    text = "Skills\nPython, SQL\nPublications\nA study of Spark clusters"
    sections = find_sections(text)
    assert sections.kind_at(text.index("Python")) == "skills"
    assert sections.kind_at(text.index("Spark")) == "other"
