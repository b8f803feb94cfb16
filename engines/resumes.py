"""A seeded, deterministic generator of bilingual resumes and jobs with KNOWN truth.

Used by the quality benchmark (extraction precision and recall, pass/fail, ranking) and by the hub to
seed its demo tenant. Resumes come in Chinese, English and mixed, short (~300 characters) and long
(~2,000), in varied layouts: with or without headings, different bullets, date formats, heading styles
and phrasing. Their truth records every skill with its involvement (led, used, participated, listed),
negations, years and education. Some mentions use spellings the gazetteer does not know
(:data:`engines.resume_phrases.UNKNOWN_ALIASES`); the truth marks them ``known=False`` so recall is
measured honestly.

The generator cannot produce what people write; the engines are designed for real text and also tested
on hand-written fixtures.

Example:
    >>> resumes = generate_resumes(4, seed=7)
    >>> [r.language for r in resumes] == [r.language for r in generate_resumes(4, seed=7)]
    True
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from engines.features import EducationLevel, Involvement, Language
from engines.gazetteer import get_gazetteer
from engines.resume_layout import (
    GENERAL_SKILLS,
    MentionWriter,
    ResumeLayout,
    candidate_name,
    education_levels,
    merged_years,
    timeline,
)
from engines.resume_phrases import CATEGORIES
from engines.resume_truth import ResumeTruth, TruthSkill
from engines.screening import JobRequirements, Knockout, ScreeningOutcome, WeightedSkill, screen

__all__ = [
    "DEFAULT_TODAY",
    "GeneratedJob",
    "GeneratedResume",
    "ResumeTruth",
    "TruthSkill",
    "generate_jobs",
    "generate_resume",
    "generate_resumes",
    "ideal_outcome",
]

#: The "today" generated resumes are written against (``至今`` ends here); pass it to extraction too.
DEFAULT_TODAY = date(2026, 5, 1)
Length = Literal["short", "long"]


@dataclass(frozen=True, slots=True)
class GeneratedResume:
    """A synthetic resume and its truth."""

    resume_id: str
    candidate_name: str
    text: str
    language: Language
    length: Length
    truth: ResumeTruth


@dataclass(frozen=True, slots=True)
class GeneratedJob:
    """A synthetic job: title, description and requirements."""

    job_id: str
    title: str
    language: Literal["zh", "en"]
    category: str
    description: str
    requirements: JobRequirements


def generate_resume(
    seed: int | str,
    *,
    language: Language = "zh",
    length: Length = "long",
    category: str | None = None,
    today: date = DEFAULT_TODAY,
    resume_id: str | None = None,
) -> GeneratedResume:
    """One resume, fully determined by its arguments."""
    rng = random.Random(f"resume:{seed}:{language}:{length}:{category}")  # noqa: S311 - test data, not secrets
    gazetteer = get_gazetteer()
    cat = category or rng.choice(sorted(CATEGORIES))
    pool = list(CATEGORIES[cat]["skills"])
    rng.shuffle(pool)
    n_skills = rng.randint(4, 6) if length == "short" else rng.randint(8, 13)
    chosen = pool[:n_skills]
    if rng.random() < 0.4:
        extra = rng.choice(GENERAL_SKILLS)
        if extra not in chosen:
            chosen.append(extra)
    negatable = [s for s in pool[n_skills:] if s not in chosen]
    negated = negatable[: rng.randint(0, 1 if length == "short" else 2)]
    involvement: dict[str, Involvement] = {
        s: rng.choices(("led", "used", "participated", "listed"), weights=(20, 35, 15, 30))[0] for s in chosen
    }
    writer = MentionWriter(rng, gazetteer, language)
    base_lang: Literal["zh", "en"] = "en" if language == "en" else "zh"
    name = candidate_name(rng, base_lang)
    jobs = timeline(rng, rng.randint(1, 2) if length == "short" else rng.randint(2, 4), today)
    years = merged_years(jobs, today)
    edu_level, edu_listed = education_levels(rng)
    claim = int(years) if years >= 1 else None
    layout = ResumeLayout(rng, writer, base_lang, jobs, cat, today)
    text = (
        layout.short(name, involvement, negated, claim, edu_listed)
        if length == "short"
        else layout.long(name, involvement, negated, claim, edu_listed, target=rng.randint(1700, 2300))
    )
    truth = ResumeTruth(cat, tuple(writer.mentions), years, edu_level)
    return GeneratedResume(resume_id or f"r{seed}", name, text, language, length, truth)


def generate_resumes(
    count: int,
    *,
    seed: int = 0,
    languages: Sequence[Language] = ("zh", "en", "mixed"),
    lengths: Sequence[Length] = ("short", "long"),
    categories: Sequence[str] | None = None,
    today: date = DEFAULT_TODAY,
) -> list[GeneratedResume]:
    """``count`` resumes cycling through languages and lengths, categories drawn from the seed."""
    rng = random.Random(f"library:{seed}")  # noqa: S311 - test data, not secrets
    cats = sorted(categories or CATEGORIES)
    resumes = []
    for i in range(count):
        language = languages[i % len(languages)]
        length = lengths[(i // len(languages)) % len(lengths)]
        resumes.append(
            generate_resume(
                f"{seed}-{i}",
                language=language,
                length=length,
                category=rng.choice(cats),
                today=today,
                resume_id=f"r{seed}-{i:05d}",
            )
        )
    return resumes


def generate_jobs(
    count: int,
    *,
    seed: int = 0,
    categories: Sequence[str] | None = None,
    languages: Sequence[Literal["zh", "en"]] = ("zh", "en"),
) -> list[GeneratedJob]:
    """``count`` jobs with must-haves, weighted nice-to-haves, minimums and occasional knock-outs."""
    rng = random.Random(f"jobs:{seed}")  # noqa: S311 - test data, not secrets
    gazetteer = get_gazetteer()
    cats = sorted(categories or CATEGORIES)
    jobs = []
    for i in range(count):
        cat = cats[i % len(cats)] if count >= len(cats) else rng.choice(cats)
        lang = languages[i % len(languages)]
        pool = list(CATEGORIES[cat]["skills"])
        rng.shuffle(pool)
        must = tuple(pool[: rng.randint(2, 3)])
        nice_ids = pool[len(must) : len(must) + rng.randint(2, 4)]
        nice = tuple(WeightedSkill(s, float(rng.randint(1, 3))) for s in nice_ids)
        min_years = rng.choice((None, 1.0, 2.0, 3.0, 5.0))
        min_edu: EducationLevel | None = rng.choice((None, "associate", "bachelor", "bachelor", "master"))
        knockouts = (Knockout("years_below", "1", "under one year of experience"),) if rng.random() < 0.15 else ()
        requirements = JobRequirements(must, nice, min_years, min_edu, knockouts)
        title = rng.choice(CATEGORIES[cat][lang])
        names = [gazetteer.name(s, lang) for s in must]
        extras = [gazetteer.name(w.skill_id, lang) for w in nice]
        if lang == "zh":
            description = f"{title}\n任职要求：精通{'、'.join(names)}；有{'、'.join(extras)}经验者优先。"
        else:
            description = f"{title}\nRequirements: {', '.join(names)}. Nice to have: {', '.join(extras)}."
        jobs.append(GeneratedJob(f"j{seed}-{i:03d}", title, lang, cat, description, requirements))
    return jobs


def ideal_outcome(resume: GeneratedResume, job: GeneratedJob) -> ScreeningOutcome:
    """The screening result a perfect extractor would give: the truth for pass/fail and ranking."""
    return screen(resume.truth.features(), job.requirements, text=resume.text)
