"""Free text for the seeded data: resumes (300 to 2,000 characters) and interview answers, in Chinese or English.

Text is assembled from templates with a seeded `random.Random`, so the same seed always writes the same
resume. Speed matters: a 10,000-candidate world writes 10,000 resumes inside the 2-second budget.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence

from simulators.seed_vocab import COMPANIES_EN, COMPANIES_ZH, Family

__all__ = ["answer_transcript", "interview_questions", "past_companies", "resume_text"]

_ZH_BULLETS = [
    "· 负责{area}的设计与开发，基于 {s} 重构核心链路，接口 P99 延迟下降 {n}%。",
    "· 主导{area}从单体到服务化的迁移，梳理 {k} 个核心模块的边界，{s} 相关改造按期上线。",
    "· 使用 {s} 完善{area}的监控与告警，线上故障平均恢复时间缩短到 {n} 分钟以内。",
    "· 与产品、测试协作推进{area}迭代，在 {s} 方向按期交付 {k} 个版本。",
    "· 带领 {k} 人小组完成{area}的性能优化，引入 {s} 方案，高峰期吞吐提升一倍。",
    "· 编写{area}技术文档与新人培训材料，沉淀 {s} 最佳实践。",
]
_EN_BULLETS = [
    "- Designed and built the {area} on {s}, cutting p99 latency by {n}%.",
    "- Led the migration of the {area} from a monolith to services, reworking {k} modules around {s}.",
    "- Improved monitoring of the {area} with {s}; mean time to recovery dropped below {n} minutes.",
    "- Shipped {k} releases of the {area} with product and QA, owning the {s} work.",
    "- Led a group of {k} engineers optimizing the {area} with {s}, doubling peak throughput.",
    "- Wrote the runbooks and onboarding guides for the {area}, capturing {s} best practices.",
]
_ZH_PROJECTS = [
    "· 课程项目：基于 {s} 实现{area}原型，完成 {k} 个功能模块并通过答辩。",
    "· 实习期间参与{area}开发，使用 {s} 修复 {k} 个线上问题。",
]
_EN_PROJECTS = [
    "- Course project: built a {area} prototype with {s}, {k} features, presented to faculty.",
    "- Internship: worked on the {area} with {s}, fixing {k} production bugs.",
]
_POOL = 12  # distinct bullets per skill, language and family


@functools.lru_cache(maxsize=4096)
def _bullet_pool(seed: int, family: Family, zh: bool, graduate: bool, skill: str) -> tuple[str, ...]:
    # Formatting per bullet is the cost of a 10,000-resume world; pools make a resume mere indexing.
    rng = random.Random(f"{seed}:{family.key}:{zh}:{graduate}:{skill}")  # noqa: S311 (reproducible, not crypto)
    templates = (_ZH_PROJECTS if zh else _EN_PROJECTS) if graduate else (_ZH_BULLETS if zh else _EN_BULLETS)
    areas = family.areas_zh if zh else family.areas_en
    return tuple(
        rng.choice(templates).format(area=rng.choice(areas), s=skill, n=rng.randint(5, 60), k=rng.randint(3, 12)) + "\n"
        for _ in range(_POOL)
    )


_ZH_QUESTIONS = [
    "请介绍一次你主导解决的线上故障",
    "请描述你最有成就感的一个项目，你在其中承担了什么角色？",
    "你如何在团队中处理意见分歧？",
    "请谈谈你对 {skill} 的理解和实际使用经验",
    "如果需求频繁变更，你会怎么应对？",
    "为什么选择我们公司和这个岗位？",
]
_EN_QUESTIONS = [
    "Tell us about a production incident you led the fix for.",
    "Describe the project you are proudest of and your role.",
    "How do you handle disagreement within your team?",
    "What is your hands-on experience with {skill}?",
    "How do you respond when requirements keep changing?",
    "Why this company and this role?",
]
_ZH_OPENERS = ["嗯，", "好的，", "这个问题我想一下，", "我举个例子，", ""]
_ZH_BODY = [
    "我们当时用 {skill} 做异步解耦，然后把峰值流量削平了",
    "我先拉了监控看指标，定位到是 {skill} 连接池打满",
    "我和产品一起重新梳理了需求优先级，把范围收敛到两周能交付的部分",
    "团队里有不同意见的时候，我会先把数据摆出来，再约一个短会对齐",
    "上线之后我们做了复盘，补了压测和告警，后面没有再出现类似问题",
    "这个项目最后按期上线，核心指标提升了大概百分之{n}",
]
_EN_BODY = [
    "we used {skill} to decouple the services, which flattened the traffic peaks",
    "I first checked the dashboards and found the {skill} connection pool was exhausted",
    "I sat down with the product manager and cut the scope to what we could ship in two weeks",
    "when the team disagrees I bring the data first, then set up a short meeting to align",
    "after the launch we ran a post-mortem and added load tests and alerts",
    "the project shipped on time and the key metric improved by about {n} percent",
]


def resume_text(
    rng: random.Random,
    *,
    seed: int,
    zh: bool,
    name: str,
    phone: str,
    email: str,
    city: str,
    title: str,
    family: Family,
    skills: Sequence[str],
    years: int,
    school: str,
    major: str,
    degree: str,
    companies: Sequence[str],
) -> str:
    """One resume between 300 and 2,000 characters that mentions only the candidate's own skills."""
    target = rng.randint(300, 2000)
    graduate = not companies
    if zh:
        head = (
            f"{name}\n电话：{phone} | 邮箱：{email} | 现居：{city}\n求职意向：{title}\n"
            f"个人简介：{years}年相关经验，熟悉{'、'.join(skills[:4])}，沟通顺畅，能独立负责模块。\n"
            + ("项目经历：\n" if graduate else "工作经历：\n")
        )
        tail = (
            f"教育经历：\n{2024 - years - 4}-{2024 - years} {school} {major} {degree}\n专业技能：{'、'.join(skills)}\n"
        )
    else:
        head = (
            f"{name}\nPhone: {phone} | Email: {email} | Location: {city}\nObjective: {title}\n"
            f"Summary: {years} years of experience with {', '.join(skills[:4])}; owns features end to end.\n"
            + ("Projects:\n" if graduate else "Experience:\n")
        )
        tail = (
            f"Education:\n{2024 - years - 4}-{2024 - years} {school}, {major}, {degree}\nSkills: {', '.join(skills)}\n"
        )
    pools = [_bullet_pool(seed, family, zh, graduate, skill) for skill in skills]
    parts, length, year = [head], len(head) + len(tail), 2024
    jobs = list(companies) or [""]
    start, goal = length, min(target, 2000)
    draw, append, count = rng.getrandbits, parts.append, len(pools)
    for number, company in enumerate(jobs, 1):
        line = ""
        if company:
            span = max(1, years // len(jobs))
            line = f"{year - span}.{rng.randint(1, 12):02d}-{year}.{rng.randint(1, 12):02d}  {company}  {title}\n"
            year -= span
        if length + len(line) > 2000:
            break
        parts.append(line)
        length += len(line)
        share = start + (goal - start) * number // len(jobs)  # spread the bullets over the jobs
        while length < share:
            bits = draw(16)
            bullet = pools[bits % count][(bits >> 8) % _POOL]
            size = len(bullet)
            if length + size > 2000:
                break
            append(bullet)
            length += size
    parts.append(tail)
    return "".join(parts)


def past_companies(rng: random.Random, zh: bool, count: int) -> list[str]:
    """Former employers for a resume."""
    return rng.sample(COMPANIES_ZH if zh else COMPANIES_EN, count)


def interview_questions(rng: random.Random, *, zh: bool, skills: Sequence[str], count: int = 4) -> list[str]:
    """Questions of an AI interview package."""
    bank = _ZH_QUESTIONS if zh else _EN_QUESTIONS
    return [text.format(skill=rng.choice(skills)) for text in rng.sample(bank, count)]


def answer_transcript(rng: random.Random, *, zh: bool, skills: Sequence[str]) -> str:
    """A spoken answer as the speech recognizer writes it, fillers included."""
    sentences = rng.sample(_ZH_BODY if zh else _EN_BODY, rng.randint(2, 4))
    filled = [s.format(skill=rng.choice(skills), n=rng.randint(5, 40)) for s in sentences]
    if zh:
        return rng.choice(_ZH_OPENERS) + "，".join(filled) + "……"
    return "Um, " + ". Then ".join(filled) + "."
