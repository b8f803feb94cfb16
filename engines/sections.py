"""Resume sections: find headings (技能, 项目经验, Experience, ...) and tell which section an offset is in.

Real resumes write headings many ways: ``专业技能``, ``【项目经历】``, ``## Skills``, ``三、工作经历``,
``WORK EXPERIENCE``, ``教育背景 Education``, or inline as ``技能：Java、Python``. A line is a heading
when, after stripping bullets, numbering, brackets and a trailing colon, it consists only of heading
words; an inline heading is a heading word followed by a colon and content on the same line.

Section kinds: ``skills``, ``projects``, ``experience``, ``education``, ``summary``, ``certificates``,
``personal`` and ``other`` (text before the first heading, or a heading we do not classify).

Example:
    >>> sections = find_sections("张三\\n专业技能\\n熟悉Java\\n项目经验\\n主导订单系统")
    >>> sections.kind_at(12), sections.kind_at(20)
    ('skills', 'projects')
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from engines.normalize import normalize_width

__all__ = ["SECTION_KINDS", "Section", "SectionMap", "find_sections", "heading_kind"]

SECTION_KINDS = ("skills", "projects", "experience", "education", "summary", "certificates", "personal", "other")

_HEADINGS: dict[str, tuple[str, ...]] = {
    "skills": (
        "技能",
        "专业技能",
        "技能特长",
        "个人技能",
        "技术技能",
        "技术栈",
        "技能清单",
        "掌握技能",
        "核心技能",
        "职业技能",
        "专业能力",
        "技术能力",
        "it技能",
        "计算机技能",
        "技能专长",
        "技能证书",
        "技能与证书",
        "skills",
        "skill",
        "technical skills",
        "core skills",
        "key skills",
        "skill set",
        "skillset",
        "tech stack",
        "technology stack",
        "core competencies",
        "competencies",
        "expertise",
        "technologies",
        "tools",
        "abilities",
        "proficiencies",
        "technical proficiencies",
        "technical expertise",
        "professional skills",
        "it skills",
        "computer skills",
    ),
    "projects": (
        "项目经验",
        "项目经历",
        "项目",
        "主要项目",
        "项目介绍",
        "项目描述",
        "参与项目",
        "代表项目",
        "项目业绩",
        "projects",
        "project",
        "project experience",
        "key projects",
        "selected projects",
        "personal projects",
        "project highlights",
    ),
    "experience": (
        "工作经历",
        "工作经验",
        "实习经历",
        "实习经验",
        "工作履历",
        "职业经历",
        "任职经历",
        "从业经历",
        "实践经历",
        "社会实践",
        "校园经历",
        "在校经历",
        "工作背景",
        "职业履历",
        "experience",
        "work experience",
        "professional experience",
        "employment history",
        "work history",
        "career history",
        "employment",
        "internships",
        "internship",
        "internship experience",
        "relevant experience",
        "career",
        "professional background",
    ),
    "education": (
        "教育背景",
        "教育经历",
        "学历",
        "教育",
        "学历背景",
        "教育情况",
        "学习经历",
        "主修课程",
        "education",
        "academic background",
        "education background",
        "educational background",
        "academics",
        "qualifications",
        "academic qualifications",
    ),
    "summary": (
        "个人评价",
        "自我评价",
        "个人简介",
        "个人总结",
        "求职意向",
        "职业目标",
        "个人优势",
        "自我介绍",
        "个人概述",
        "职业概述",
        "关于我",
        "个人特点",
        "summary",
        "profile",
        "professional summary",
        "objective",
        "about me",
        "career objective",
        "personal statement",
        "career summary",
        "overview",
        "highlights",
    ),
    "certificates": (
        "证书",
        "资格证书",
        "获奖",
        "荣誉",
        "获奖情况",
        "荣誉奖项",
        "所获证书",
        "证书奖项",
        "语言能力",
        "奖项",
        "资质证书",
        "培训经历",
        "培训经验",
        "certifications",
        "certificates",
        "certification",
        "awards",
        "honors",
        "honours",
        "languages",
        "awards and honors",
        "licenses",
        "training",
    ),
    "personal": (
        "基本信息",
        "个人信息",
        "联系方式",
        "个人资料",
        "contact",
        "contact information",
        "personal information",
        "personal details",
        "contact details",
    ),
    # Headings we recognise only to end the previous section: what follows is not skills or work.
    "other": (
        "兴趣爱好",
        "爱好",
        "其他",
        "其他信息",
        "附加信息",
        "补充信息",
        "publications",
        "volunteer",
        "volunteering",
        "volunteer work",
        "interests",
        "hobbies",
        "hobbies and interests",
        "references",
        "additional information",
    ),
}
_KIND_OF: dict[str, str] = {word: kind for kind, words in _HEADINGS.items() for word in words}
_MAX_HEADING_CHARS = 48

# Decorations around a heading: bullets, numbering (一、 1. (1) ①), brackets, markdown, rules.
_DECOR_LEFT = re.compile(
    r"^[\s#*=\-_~|>•●○■□◆◇▪▶►★☆【\[<《(（]*"
    r"(?:(?:[一二三四五六七八九十]+|\d{1,2}|[ivx]{1,4})\s*[、.．)）:]\s*|[①-⑩]\s*)?"
    r"[\s#*=\-_~|>•●○■□◆◇▪▶►★☆【\[<《(（]*",
    re.IGNORECASE,
)
_DECOR_RIGHT = re.compile(r"[\s#*=\-_~|<•●○■□◆◇▪▶►★☆】\]>》)）:：]*$")
_JOINERS = re.compile(r"\s*(?:&|/|\||、|，|,|与|和|及|and)\s*|\s{2,}", re.IGNORECASE)
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_INLINE = re.compile(r"^(?P<head>[^:：\n]{1,16}?)\s*[:：]\s*(?=\S)")
# A heading word near the start of a line: the cheap test that spares most lines the full parse.
_ANY_WORD = re.compile("|".join(re.escape(w) for w in sorted(_KIND_OF, key=len, reverse=True)))
_PREFIX = 28


def heading_kind(line: str) -> str | None:
    """The section kind when ``line`` (already width-normalized) is a heading by itself, else ``None``."""
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_HEADING_CHARS:
        return None
    core = _DECOR_RIGHT.sub("", _DECOR_LEFT.sub("", stripped)).lower()
    if not core:
        return None
    kind = _KIND_OF.get(core)
    if kind is not None:
        return kind
    # Bilingual or compound headings: "教育背景 Education", "Skills & Certifications", "技能/证书".
    parts = [p for p in _JOINERS.split(core) if p]
    if len(parts) == 1:
        # "教育背景Education" without a space: split the Chinese run from the Latin run.
        cjk = _CJK_RUN.findall(core)
        rest = _CJK_RUN.sub(" ", core).split()
        parts = [*cjk, " ".join(rest)] if cjk and rest else parts
    kinds = [_KIND_OF.get(p.strip()) for p in parts]
    if len(parts) > 1 and all(kinds):
        return kinds[0]
    return None


@dataclass(frozen=True, slots=True)
class Section:
    """A section: its kind, the heading span (empty for the leading ``other`` part), its body span, and
    whether the heading shares its line with content (``技能：Java、Python``)."""

    kind: str
    heading_start: int
    heading_end: int
    start: int
    end: int
    inline: bool = False


class SectionMap:
    """Sections of one text, with O(log n) lookup of the section at an offset."""

    def __init__(self, sections: list[Section]) -> None:
        self.sections = sections
        self._starts = [s.heading_start for s in sections]

    def kind_at(self, offset: int) -> str:
        """Kind of the section containing character ``offset``."""
        return self.section_at(offset).kind

    def section_at(self, offset: int) -> Section:
        """The section containing character ``offset``."""
        index = bisect_right(self._starts, offset) - 1
        return self.sections[max(index, 0)]

    def kinds(self) -> set[str]:
        """Every kind present."""
        return {s.kind for s in self.sections}

    @property
    def has_headings(self) -> bool:
        """True when a heading stands on its own line (the resume is laid out in sections)."""
        return any(s.heading_end > s.heading_start and not s.inline for s in self.sections)


def find_sections(text: str, norm: str | None = None) -> SectionMap:
    """Split ``text`` into sections. Pass ``norm`` (``normalize_width(text)``) when you already have it."""
    if norm is None:
        norm = normalize_width(text)
    sections: list[Section] = []
    current = "other"
    current_start = 0
    current_inline = False
    heading_span = (0, 0)
    offset = 0
    for line in norm.splitlines(keepends=True):
        line_start = offset
        offset += len(line)
        if _ANY_WORD.search(line[:_PREFIX].lower()) is None:
            continue
        kind = heading_kind(line)
        body_start = offset
        inline_heading = False
        if kind is None:
            inline = _INLINE.match(line.lstrip())
            if inline is not None:
                kind = heading_kind(inline.group("head"))
                body_start = line_start + (len(line) - len(line.lstrip())) + inline.end()
                # "技术栈：Spring Boot" inside a project names what the project used: not a skills list.
                if kind == "skills" and current in ("projects", "experience"):
                    kind = None
                inline_heading = True
        if kind is None:
            continue
        if line_start > current_start or sections or current != "other":
            sections.append(
                Section(current, heading_span[0], heading_span[1], current_start, line_start, current_inline)
            )
        current = kind
        current_inline = inline_heading
        heading_span = (line_start, body_start)
        current_start = line_start
    sections.append(Section(current, heading_span[0], heading_span[1], current_start, len(norm), current_inline))
    return SectionMap(sections)
