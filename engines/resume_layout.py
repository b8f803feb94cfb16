"""How the resume generator writes: timelines, skill sentences with truth, and page layouts.

The public generator is :mod:`engines.resumes`; this module holds its machinery so each stays readable.
:class:`MentionWriter` records a :class:`~engines.resume_truth.TruthSkill` for every skill it writes, so
the truth always matches the text; :class:`ResumeLayout` assembles sections in one of several styles.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from engines.features import EducationLevel, Involvement, Language
from engines.gazetteer import Gazetteer
from engines.resume_phrases import (
    CATEGORIES,
    COMPANIES,
    DEGREES,
    DUTIES,
    EVALUATIONS,
    FIELDS,
    HEADINGS,
    LED,
    LISTED,
    MAJORS,
    METRICS,
    NAMES,
    NEGATED,
    OBJECTS,
    PARTICIPATED,
    SCHOOLS,
    SUMMARY,
    UNKNOWN_ALIASES,
    USED,
)
from engines.resume_truth import TruthSkill

__all__ = [
    "GENERAL_SKILLS",
    "MentionWriter",
    "ResumeLayout",
    "TimelineJob",
    "candidate_name",
    "education_levels",
    "merged_years",
    "range_text",
    "timeline",
]

GENERAL_SKILLS = ("excel", "english", "project_management", "ms_office", "team_management", "public_speaking")
_DATE_FORMATS = {
    "zh": ("{y}.{m:02d}", "{y}/{m:02d}", "{y}年{m}月", "{y}.{m}", "{y}-{m:02d}"),
    "en": ("{mon} {y}", "{month} {y}", "{m:02d}/{y}", "{y}-{m:02d}"),
}
_PRESENT = {"zh": ("至今", "今", "现在"), "en": ("Present", "present", "Now", "Current")}
_SEPARATORS = {"zh": ("-", " - ", "~", " ~ ", "至", " – "), "en": (" - ", " – ", " to ", "–", " — ")}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_BULLETS = ("- ", "• ", "· ", "", "* ", "▪ ")


@dataclass
class TimelineJob:
    """One job on the timeline, in month indexes (year * 12 + month - 1)."""

    start: int  # month index y*12 + m - 1
    end: int | None  # exclusive month index; None = present
    year_only: bool = False


@dataclass
class MentionWriter:
    """Writes skill mentions in the resume's languages and records the truth of each one."""

    rng: random.Random
    gazetteer: Gazetteer
    language: Language
    mentions: list[TruthSkill] = field(default_factory=list)

    def lang(self) -> Literal["zh", "en"]:
        if self.language == "mixed":
            return "zh" if self.rng.random() < 0.5 else "en"
        return self.language

    def spell(self, skill_id: str, lang: str, involvement: Involvement, negated: bool) -> str:
        unknown = UNKNOWN_ALIASES.get(skill_id, ())
        if unknown and self.rng.random() < 0.12:
            spelling, known = self.rng.choice(unknown), False
        else:
            skill = self.gazetteer.skills[skill_id]
            canonical = skill.name_zh if lang == "zh" else skill.name
            spellings = [*skill.aliases, *skill.case_sensitive]
            if lang == "zh":
                # Chinese resumes use Chinese terms and compact tool names, not English phrases.
                options = [a for a in spellings if _has_cjk(a) or " " not in a]
            else:
                options = [a for a in spellings if not _has_cjk(a)]
            spelling = canonical if self.rng.random() < 0.6 or not options else self.rng.choice(options)
            known = True
        self.mentions.append(TruthSkill(skill_id, involvement, negated, spelling, known))
        return spelling

    def sentence(self, skill_id: str, involvement: Involvement, lang: Literal["zh", "en"]) -> str:
        banks: dict[str, dict[str, tuple[str, ...]]] = {"led": LED, "used": USED, "participated": PARTICIPATED}
        template = self.rng.choice(banks[involvement][lang])
        return template.format(
            s=self.spell(skill_id, lang, involvement, False),
            o=self.rng.choice(OBJECTS[lang]),
            m=self.rng.choice(METRICS[lang]),
        )

    def listing(self, skill_ids: Sequence[str], lang: Literal["zh", "en"]) -> str:
        joiner = self.rng.choice(("、", "，", "/", " ")) if lang == "zh" else self.rng.choice((", ", " / ", "; "))
        names = [self.spell(s, lang, "listed", False) for s in skill_ids]
        if lang == "en" and len(names) > 1 and joiner == ", " and self.rng.random() < 0.5:
            joined = ", ".join(names[:-1]) + " and " + names[-1]
        else:
            joined = joiner.join(names)
        return self.rng.choice(LISTED[lang]).format(s=joined)

    def negation(self, skill_id: str, lang: Literal["zh", "en"]) -> str:
        return self.rng.choice(NEGATED[lang]).format(s=self.spell(skill_id, lang, "listed", True))


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _month_text(rng: random.Random, month_index: int, lang: str, fmt: str) -> str:
    y, m = divmod(month_index, 12)
    return fmt.format(y=y, m=m + 1, mon=_MONTHS[m], month=_MONTH_NAMES[m])


def range_text(rng: random.Random, job: TimelineJob, lang: Literal["zh", "en"], fmt: str, sep: str) -> str:
    if job.year_only:
        start = str(job.start // 12)
        end = rng.choice(_PRESENT[lang]) if job.end is None else str(job.end // 12)
        return f"{start}{sep}{end}"
    start = _month_text(rng, job.start, lang, fmt)
    end = rng.choice(_PRESENT[lang]) if job.end is None else _month_text(rng, job.end - 1, lang, fmt)
    return f"{start}{sep}{end}"


def timeline(rng: random.Random, count: int, today: date) -> list[TimelineJob]:
    """Jobs from newest to oldest; sometimes overlapping, sometimes year-only."""
    now = today.year * 12 + today.month - 1
    jobs: list[TimelineJob] = []
    cursor = now + 1
    for i in range(count):
        ongoing = i == 0 and rng.random() < 0.6
        end = None if ongoing else cursor - rng.randint(0, 5)
        length = rng.randint(8, 54)
        start = (now + 1 if end is None else end) - length
        job = TimelineJob(start, end)
        if rng.random() < 0.1:
            job = TimelineJob(start - start % 12, None if end is None else end - end % 12, year_only=True)
            if job.end is not None and job.end <= job.start:
                job = TimelineJob(job.start, job.start + 12, year_only=True)
        jobs.append(job)
        cursor = job.start + (rng.randint(2, 6) if rng.random() < 0.15 else 0)  # overlap sometimes
    return jobs


def merged_years(jobs: Sequence[TimelineJob], today: date) -> float:
    now_exclusive = today.year * 12 + today.month
    spans = sorted((j.start, now_exclusive if j.end is None else min(j.end, now_exclusive)) for j in jobs)
    total, cur_s, cur_e = 0, -1, -1
    for s, e in spans:
        if s > cur_e:
            total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    total += cur_e - cur_s
    return round(total / 12, 1)


def education_levels(rng: random.Random) -> tuple[EducationLevel | None, list[EducationLevel]]:
    roll = rng.random()
    if roll < 0.08:
        return None, []
    level: EducationLevel = rng.choices(("none", "associate", "bachelor", "master", "phd"), weights=(4, 16, 50, 25, 5))[
        0
    ]
    listed: list[EducationLevel] = [level]
    if level in ("master", "phd") and rng.random() < 0.6:
        listed.append("bachelor")
    return level, listed


def candidate_name(rng: random.Random, lang: str) -> str:
    if lang == "zh":
        return rng.choice(NAMES["zh_surnames"]) + rng.choice(NAMES["zh_given"])
    return f"{rng.choice(NAMES['en_first'])} {rng.choice(NAMES['en_last'])}"


class ResumeLayout:
    """Assembles sections in one of several styles."""

    def __init__(
        self,
        rng: random.Random,
        writer: MentionWriter,
        lang: Literal["zh", "en"],
        jobs: list[TimelineJob],
        category: str,
        today: date,
    ) -> None:
        self.rng = rng
        self.writer = writer
        self.lang = lang
        self.jobs = jobs
        self.category = category
        self.bullet = rng.choice(_BULLETS)
        self.fmt = {k: rng.choice(v) for k, v in _DATE_FORMATS.items()}
        self.sep = {k: rng.choice(v) for k, v in _SEPARATORS.items()}
        self.today = today

    def section_lang(self) -> Literal["zh", "en"]:
        return self.writer.lang()

    def heading(self, kind: str, lang: Literal["zh", "en"]) -> str:
        text = self.rng.choice(HEADINGS[lang][kind])
        if self.writer.language == "mixed" and self.rng.random() < 0.3:
            other: Literal["zh", "en"] = "en" if lang == "zh" else "zh"
            text = f"{HEADINGS[lang][kind][0]} {HEADINGS[other][kind][0]}"
        return text

    def header(self, name: str) -> str:
        phone = f"1{self.rng.randint(30, 89)}{self.rng.randint(1000, 9999)}{self.rng.randint(1000, 9999)}"
        email = f"candidate{self.rng.randint(100, 999)}@example.com"
        if self.lang == "zh":
            return self.rng.choice(
                (
                    f"{name} | {phone} | {email}",
                    f"姓名：{name}\n电话：{phone}\n邮箱：{email}",
                    f"{name}  {self.rng.randint(23, 45)}岁  {phone}",
                )
            )
        return self.rng.choice((f"{name}\n{email} | +86 {phone}", f"{name} · {email}", f"# {name}\n{phone}"))

    def job_line(self, job: TimelineJob, lang: Literal["zh", "en"]) -> str:
        when = range_text(self.rng, job, lang, self.fmt[lang], self.sep[lang])
        company = self.rng.choice(COMPANIES[lang])
        title = self.rng.choice(CATEGORIES[self.category][lang])
        if lang == "zh":
            return self.rng.choice(
                (f"{when}  {company}  {title}", f"{company}（{when}）\n职位：{title}", f"{when} | {company} | {title}")
            )
        return self.rng.choice(
            (f"{title}, {company}  {when}", f"{company} — {title} ({when})", f"{when}  {title} at {company}")
        )

    def bullets(self, lines: list[str]) -> str:
        if self.bullet == "1. ":
            return "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        end = "。" if self.lang == "zh" and self.rng.random() < 0.5 else ""
        return "\n".join(f"{self.bullet}{line}{end if _has_cjk(line) else ''}" for line in lines)

    def education(self, listed: list[EducationLevel], lang: Literal["zh", "en"]) -> list[str]:
        lines = []
        graduation = self.jobs[-1].start // 12 if self.jobs else self.today.year - 5
        for i, level in enumerate(listed):
            end = graduation - 2 * i
            start = end - (3 if level in ("associate", "master") else 4)
            school = self.rng.choice(SCHOOLS[lang]) if level != "none" else ("市第一中学" if lang == "zh" else "")
            major = self.rng.choice(MAJORS[lang]) if level != "none" else ""
            degree = self.rng.choice(DEGREES[lang][level]).format(major=major)
            if lang == "zh":
                lines.append(" ".join(f"{start}.09-{end}.06  {school}  {major}  {degree}".split()))
            else:
                lines.append(f"{start} - {end}  {school + ', ' if school else ''}{degree}")
        return lines

    def experience_lines(self, skills: list[tuple[str, Involvement]], lang: Literal["zh", "en"]) -> list[str]:
        return [self.writer.sentence(s, inv, lang) for s, inv in skills]

    def skills_lines(self, listed: list[str], negated: list[str], lang: Literal["zh", "en"]) -> list[str]:
        lines: list[str] = []
        rest = list(listed)
        while rest:
            take, rest = rest[: self.rng.randint(1, 4)], rest[self.rng.randint(1, 4) :] if False else rest
            rest = rest[len(take) :]
            lines.append(self.writer.listing(take, lang))
        for skill in negated:
            clause = self.writer.negation(skill, lang)
            if lines and self.rng.random() < 0.5:
                lines[-1] += ("，" if lang == "zh" else self.rng.choice(("; ", ", "))) + clause
            else:
                lines.append(clause[0].upper() + clause[1:] if lang == "en" else clause)
        return lines

    def _split(self, involvement: dict[str, Involvement]) -> tuple[list[tuple[str, Involvement]], list[str]]:
        shown: list[tuple[str, Involvement]] = [(s, inv) for s, inv in involvement.items() if inv != "listed"]
        listed = [s for s, inv in involvement.items() if inv == "listed"]
        # Skills shown in work are often also listed under skills: truth keeps the strongest.
        listed += [s for s, _ in shown if self.rng.random() < 0.35]
        self.rng.shuffle(listed)
        return shown, listed

    def summary(self, skills: list[str], claim: int | None, lang: Literal["zh", "en"]) -> str:
        spelled = self._join([self.writer.spell(s, lang, "listed", False) for s in skills], lang)
        field_name = FIELDS[lang][self.category]
        if claim is None:
            if not spelled:
                return self.rng.choice(EVALUATIONS[lang])
            return ("熟悉{s}" if lang == "zh" else "Familiar with {s}").format(s=spelled)
        if not spelled:
            spelled = field_name
        return self.rng.choice(SUMMARY[lang]).format(y=claim, f=field_name, s=spelled)

    def short(
        self,
        name: str,
        involvement: dict[str, Involvement],
        negated: list[str],
        claim: int | None,
        edu: list[EducationLevel],
    ) -> str:
        shown, listed = self._split(involvement)
        lang = self.lang
        parts = [self.header(name)]
        if self.rng.random() < 0.5:
            role = self.rng.choice(CATEGORIES[self.category][lang])
            city = self.rng.choice(("上海", "深圳", "杭州", "成都"))
            parts.append(
                f"求职意向：{role}  期望城市：{city}" if lang == "zh" else f"Target role: {role}, open to relocation"
            )
        with_headings = self.rng.random() < 0.5
        summary_skills, listed = listed[:2], listed[2:]
        parts.append(
            (self.heading("summary", lang) + "\n" if with_headings else "") + self.summary(summary_skills, claim, lang)
        )
        job_blocks = []
        remaining = list(shown)
        for i, job in enumerate(self.jobs):
            take = remaining[: max(1, len(remaining) // (len(self.jobs) - i))] if remaining else []
            remaining = remaining[len(take) :]
            lines = self.experience_lines(take, lang)
            if i == 0 or not lines:
                lines.append(self.rng.choice(DUTIES[lang]))
            job_blocks.append(self.job_line(job, lang) + "\n" + self.bullets(lines))
        parts.append((self.heading("experience", lang) + "\n" if with_headings else "") + "\n".join(job_blocks))
        skill_lines = self.skills_lines(listed, negated, lang)
        if skill_lines:
            head = self.heading("skills", lang) if with_headings else ("技能：" if lang == "zh" else "Skills: ")
            sep = "\n" if with_headings else ""
            parts.append(head + sep + ("；" if lang == "zh" else "; ").join(skill_lines))
        if edu:
            parts.append(
                (self.heading("education", lang) + "\n" if with_headings else "") + "\n".join(self.education(edu, lang))
            )
        return "\n".join(parts) + "\n"

    def long(
        self,
        name: str,
        involvement: dict[str, Involvement],
        negated: list[str],
        claim: int | None,
        edu: list[EducationLevel],
        target: int,
    ) -> str:
        shown, listed = self._split(involvement)
        lang = self.section_lang()
        summary_skills, listed = listed[:2], listed[2:]
        head = [self.header(name), "", self.heading("summary", lang), self.summary(summary_skills, claim, lang), ""]
        in_projects = [p for p in shown if self.rng.random() < 0.35]
        in_jobs = [p for p in shown if p not in in_projects]
        # Blocks of (title line, bullet lines, language); duties are added until the target length.
        blocks: list[tuple[str, list[str], Literal["zh", "en"]]] = []
        lang = self.section_lang()
        experience_heading = self.heading("experience", lang)
        remaining = list(in_jobs)
        for i, job in enumerate(self.jobs):
            take = remaining[: max(1, -(-len(remaining) // (len(self.jobs) - i)))] if remaining else []
            remaining = remaining[len(take) :]
            lines = self.experience_lines(take, lang)
            lines += self.rng.sample(DUTIES[lang], k=self.rng.randint(1, 3))
            self.rng.shuffle(lines)
            blocks.append((self.job_line(job, lang), lines, lang))
        project_blocks: list[tuple[str, list[str], Literal["zh", "en"]]] = []
        project_heading = ""
        if in_projects:
            plang = self.section_lang()
            project_heading = self.heading("projects", plang)
            for project_skills in _chunks(in_projects, 2):
                job = self.rng.choice(self.jobs)
                start = job.start + self.rng.randint(0, 3)
                end_limit = (self.today.year * 12 + self.today.month) if job.end is None else job.end
                end = min(end_limit, start + self.rng.randint(3, 10))
                obj = self.rng.choice(OBJECTS[plang])
                when = range_text(self.rng, TimelineJob(start, end), plang, self.fmt[plang], self.sep[plang])
                title = f"【{obj}】 {when}" if plang == "zh" else f"{obj.title()} ({when})"
                lines = self.experience_lines(project_skills, plang)
                lines.append(self.rng.choice(DUTIES[plang]))
                project_blocks.append((title, lines, plang))
        slang = self.section_lang()
        skill_lines = self.skills_lines(listed, negated, slang)
        numbered = self.rng.random() < 0.4
        tail: list[str] = []
        if skill_lines:
            tail.append(self.heading("skills", slang))
            tail += [f"{i}. {line}" if numbered else f"{self.bullet}{line}" for i, line in enumerate(skill_lines, 1)]
            tail.append("")
        if edu:
            elang = self.section_lang()
            tail += [self.heading("education", elang), *self.education(edu, elang), ""]
        closing = self.rng.sample(EVALUATIONS[self.lang], k=2)
        tail += [self.heading("summary", self.lang) if self.rng.random() < 0.5 else "", "".join(closing)]

        def render() -> str:
            body = [*head, experience_heading]
            for title, lines, _ in blocks:
                body += [title, self.bullets(lines), ""]
            if project_blocks:
                body.append(project_heading)
                for title, lines, _ in project_blocks:
                    body += [title, self.bullets(lines), ""]
            return "\n".join([*body, *tail]).strip() + "\n"

        text = render()
        for _ in range(40):
            if len(text) >= target:
                break
            title, lines, block_lang = self.rng.choice(blocks)
            unused = [d for d in DUTIES[block_lang] if d not in lines]
            if not unused:
                continue
            lines.insert(self.rng.randint(0, len(lines)), self.rng.choice(unused))
            text = render()
        return text

    def _join(self, names: list[str], lang: str) -> str:
        return ("、" if lang == "zh" else ", ").join(names)


def _chunks(items: list[tuple[str, Involvement]], size: int) -> list[list[tuple[str, Involvement]]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
