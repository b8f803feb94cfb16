"""How each seeded entity is drawn: names, contacts, jobs, applications, resumes, interviews, sessions.

`simulators.seed.build_world` calls these in order with one `SeedRandom`, so a seed fixes every value.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterable, Sequence
from typing import TypeVar

from simulators import seed_vocab as vocab
from simulators.seed_model import (
    BASE_TIME,
    DAY,
    SESSION_STATUSES,
    Application,
    Candidate,
    Interview,
    Job,
    Resume,
    Session,
    User,
)
from simulators.seed_text import answer_transcript, interview_questions, past_companies, resume_text

__all__ = [
    "SeedRandom",
    "make_application",
    "make_candidate",
    "make_interview",
    "make_job",
    "make_resume",
    "make_session",
    "make_user",
]

T = TypeVar("T")
JOB_STATUSES = ("OPEN", "CLOSED", "DRAFT", "ARCHIVED", "PENDING")
EDUCATION_KEYS = ("associate", "bachelor", "master", "phd")
_DEGREES = {key: (zh, en) for key, zh, en in vocab.EDUCATION}


class SeedRandom(random.Random):
    """`random.Random` with float-based ``choice`` and ``randint``: several times faster than the bit-exact
    originals, and just as reproducible for a given seed (this is simulation data, not cryptography)."""

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def sample(self, population: Sequence[T], k: int, *, counts: Iterable[int] | None = None) -> list[T]:
        if counts is not None:
            raise NotImplementedError("counts is not supported")
        pool = list(population)
        for i in range(k):  # a partial Fisher-Yates shuffle
            j = i + int(self.random() * (len(pool) - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]

    def weighted(self, population: Sequence[T], cumulative: Sequence[int]) -> T:
        """One item, drawn with the given cumulative weights."""
        return population[bisect.bisect(cumulative, self.random() * cumulative[-1])]


def make_user(rng: SeedRandom, uid: str, i: int) -> User:
    (surname, s_py), (given, g_py) = rng.choice(vocab.ZH_SURNAMES), rng.choice(vocab.ZH_GIVEN)
    role = ["RECRUITER", "HIRING_MANAGER", "INTERVIEWER", "INTERVIEWER", "ADMIN"][i % 5]
    return User(
        uid,
        f"u{100 + i}",
        given,
        surname,
        f"{g_py}.{s_py}{i}@corp.example.com",
        role,
        f"ding_{s_py}{g_py}{i}",
        f"{s_py.title()}{g_py.title()}{i}",
        f"{rng.getrandbits(32):08x}",
        f"ou_{rng.getrandbits(128):032x}",
    )


def make_job(
    rng: SeedRandom,
    uid: str,
    i: int,
    family: vocab.Family,
    departments: list[tuple[str, str, str]],
    offices: list[tuple[str, str, str, str]],
    recruiters: list[str],
    managers: list[str],
) -> Job:
    kind = ["experienced", "graduate", "experienced", "manager"][i % 4]
    english = rng.random() < 0.25
    if english:
        name = {"graduate": f"Graduate {family.title_en}", "manager": f"{family.title_en} Lead"}.get(
            kind, f"Senior {family.title_en}"
        )
    else:
        name = {"graduate": f"{family.title_zh}（校招）", "manager": f"{family.title_zh}主管"}.get(
            kind, f"高级{family.title_zh}"
        )
    must = list(family.must)
    nice = rng.sample(family.nice, min(3, len(family.nice)))
    years = {"graduate": 0, "experienced": rng.randint(3, 5), "manager": rng.randint(6, 8)}[kind]
    education = "master" if family.key == "algorithm" else "bachelor"
    description = (
        f"We are hiring a {name}. Must have: {', '.join(must)}. Nice to have: {', '.join(nice)}. {years}+ years."
        if english
        else f"岗位职责：负责{family.areas_zh[0]}相关工作。任职要求：熟悉{'、'.join(must)}；"
        f"有{'、'.join(nice)}经验者优先；{years}年以上经验，{(education == 'master' and '硕士') or '本科'}及以上学历。"
    )
    created = BASE_TIME - rng.uniform(60, 200) * DAY
    status = rng.weighted(JOB_STATUSES, (70, 80, 88, 94, 100))
    return Job(
        uid,
        f"J-2025-{i + 1:03d}",
        f"J-2025-{i + 1:03d}",
        name,
        description,
        status,
        "campus" if kind == "graduate" else "social",
        kind,
        family.key,
        "en" if english else "zh",
        departments[family.department][0],
        rng.choice(offices)[0],
        [rng.choice(managers)],
        [rng.choice(recruiters)],
        must,
        nice,
        years,
        education,
        created,
        created + rng.uniform(0, 50) * DAY,
    )


def make_candidate(rng: SeedRandom, uid: str, i: int, family: vocab.Family, *, campus: bool) -> Candidate:
    zh = rng.random() < 0.7
    if zh:
        (last, l_py), (first, f_py) = rng.choice(vocab.ZH_SURNAMES), rng.choice(vocab.ZH_GIVEN)
        full, email = last + first, f"{f_py}.{l_py}{i}@example.com"
        company, title = rng.choice(vocab.COMPANIES_ZH), family.title_zh
    else:
        first, last = rng.choice(vocab.EN_FIRST), rng.choice(vocab.EN_LAST)
        full, email = f"{first} {last}", f"{first.lower()}.{last.lower()}{i}@example.org"
        company, title = rng.choice(vocab.COMPANIES_EN), family.title_en
    phone = f"+86-{rng.choice(vocab.MOBILE_PREFIXES)}-{rng.randint(0, 9999):04d}-{rng.randint(0, 9999):04d}"
    years = 0 if campus else rng.randint(1, 15)
    education = rng.weighted(EDUCATION_KEYS, (10, 65, 95, 100))
    skills = list(family.must[: rng.randint(1, len(family.must))]) + rng.sample(family.nice, 2)
    if not zh:
        skills = [vocab.SKILL_EN.get(skill, skill) for skill in skills]
    tags = ["campus-2025"] if campus else [rng.choice(("referral", "高潜", "跳槽意向强", "passive"))]
    urls = [f"https://github.com/{email.split('@')[0].replace('.', '-')}"] if rng.random() < 0.3 else []
    created = BASE_TIME - rng.uniform(1, 180) * DAY
    return Candidate(
        uid,
        str(21000 + i),
        first,
        last,
        full,
        "zh" if zh else "en",
        "" if campus else company,
        "应届生" if campus and zh else ("Graduate" if campus else title),
        rng.choice(vocab.CITIES)[0 if zh else 1],
        phone,
        email,
        urls,
        tags,
        years,
        education,
        skills,
        created,
        created + rng.uniform(0, 1) * (BASE_TIME - created),
    )


def make_resume(rng: SeedRandom, seed: int, uid: str, c: Candidate, family: vocab.Family) -> Resume:
    zh = c.language == "zh"
    school = rng.choice(vocab.SCHOOLS)[0 if zh else 1]
    major = rng.choice(vocab.MAJORS)[0 if zh else 1]
    degree = _DEGREES[c.education][0 if zh else 1]
    text = resume_text(
        rng,
        seed=seed,
        zh=zh,
        name=c.full_name,
        phone=c.phone,
        email=c.email,
        city=c.city,
        title=c.title,
        family=family,
        skills=c.skills,
        years=c.years,
        school=school,
        major=major,
        degree=degree,
        companies=past_companies(rng, zh, min(3, 1 + c.years // 4)) if c.years else [],
    )
    name = f"{c.full_name}_简历.pdf" if zh else f"{c.first_name}_{c.last_name}_Resume.pdf"
    return Resume(uid, str(50000 + int(c.remote_id) - 21000), c.uid, name, text, c.language, c.created_at)


def make_application(rng: SeedRandom, uid: str, i: int, c: Candidate, job: Job) -> Application:
    order = rng.weighted(range(len(job.stages)), (30, 50, 68, 80, 88, 94, 100))
    applied = c.created_at + rng.uniform(0, 1) * (BASE_TIME - c.created_at)
    rejected = applied + rng.uniform(1, 10) * DAY if order < 5 and rng.random() < 0.2 else None
    rejected = min(rejected, BASE_TIME - 60) if rejected else None
    return Application(
        uid,
        str(90000 + i),
        c.uid,
        job.uid,
        job.stages[order],
        applied,
        rejected,
        rng.choice(vocab.REJECT_REASONS) if rejected else None,
        rng.choice(vocab.SOURCES),
        max(applied, rejected or applied),
    )


def make_interview(
    rng: SeedRandom, uid: str, i: int, app: Application, recruiters: list[str], interviewers: list[str]
) -> Interview:
    start = app.applied_at + rng.uniform(2, 30) * DAY
    start -= start % 1800  # on the half hour, as calendars book
    status = "SCHEDULED" if start > BASE_TIME - DAY else rng.choice(["COMPLETE", "COMPLETE", "AWAITING_FEEDBACK"])
    place = rng.choice([o[2] for o in vocab.OFFICES] + ["腾讯会议 Tencent Meeting", "Zoom"])
    return Interview(
        uid,
        str(30000 + i),
        app.uid,
        app.stage,
        rng.choice(recruiters),
        rng.sample(interviewers, min(2, len(interviewers))),
        place,
        start,
        start + 3600,
        status,
        app.applied_at,
        min(start, BASE_TIME - 60),
    )


def make_session(rng: SeedRandom, i: int, c: Candidate, app: Application, job: Job, family: vocab.Family) -> Session:
    status = rng.weighted(SESSION_STATUSES, (15, 25, 45, 55, 90, 95, 100))
    zh = c.language == "zh"
    invited = app.applied_at + DAY
    started = invited + rng.uniform(600, 2 * DAY) if status not in ("INVITED", "EXPIRED", "CANCELED") else None
    submitted = started + rng.uniform(900, 2400) if started and status != "STARTED" else None
    questions = interview_questions(rng, zh=zh, skills=c.skills)
    answered = len(questions) if submitted else (rng.randint(0, len(questions) - 1) if started else 0)
    consent = bool(started) and rng.random() < 0.92
    return Session(
        f"ais_{rng.getrandbits(50):010X}",
        f"pkg_{family.key}_{job.kind}",
        c.uid,
        app.uid,
        job.uid,
        rng.choice(["android", "ios"]),
        consent,
        (started - 30) if consent and started else None,
        status,
        invited,
        started,
        submitted,
        invited + 7 * DAY,
        min(BASE_TIME - 60, max(t for t in (invited, started, submitted) if t)),
        questions,
        [answer_transcript(rng, zh=zh, skills=c.skills) for _ in range(answered)],
        [rng.randint(30_000, 180_000) for _ in range(answered)],
    )
