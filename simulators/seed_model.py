"""The seeded world's types: dialect-neutral entities with times as epoch seconds.

`simulators.seed.build_world` fills them; each simulator renders them in its own dialect. ``uid`` is the
hub-style id an API exposes (a UUID), ``remote_id`` the upstream system's own id.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "BASE_TIME",
    "DAY",
    "SESSION_STATUSES",
    "Application",
    "Candidate",
    "Interview",
    "Job",
    "Resume",
    "Session",
    "Sizes",
    "Stage",
    "User",
    "World",
]

BASE_TIME = 1740787200.0  # 2025-03-01T00:00:00Z: seeded times lie before it, live changes after
DAY = 86400.0
SESSION_STATUSES = ["INVITED", "STARTED", "SUBMITTED", "SCORING", "COMPLETED", "EXPIRED", "CANCELED"]


@dataclass(frozen=True)
class Sizes:
    """How much data to build."""

    candidates: int = 200
    jobs: int = 12
    users: int = 16
    second_application_rate: float = 0.3
    session_rate: float = 0.35
    deleted_candidates: int = 0


@dataclass(slots=True)
class User:
    uid: str
    remote_id: str
    first_name: str
    last_name: str
    email: str
    role: str
    dingtalk_id: str
    wecom_id: str
    feishu_user_id: str
    feishu_open_id: str


@dataclass(slots=True)
class Job:
    uid: str
    remote_id: str
    code: str
    name: str
    description: str
    status: str
    mode: str
    kind: str
    family: str
    language: str
    department: str
    office: str
    hiring_managers: list[str]
    recruiters: list[str]
    must_have: list[str]
    nice_to_have: list[str]
    min_years: int
    min_education: str
    created_at: float
    modified_at: float
    stages: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Stage:
    uid: str
    remote_id: str
    job: str
    name: str
    name_zh: str
    order: int


@dataclass(slots=True)
class Candidate:
    uid: str
    remote_id: str
    first_name: str
    last_name: str
    full_name: str
    language: str
    company: str
    title: str
    city: str
    phone: str
    email: str
    urls: list[str]
    tags: list[str]
    years: int
    education: str
    skills: list[str]
    created_at: float
    modified_at: float
    deleted: bool = False
    applications: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Application:
    uid: str
    remote_id: str
    candidate: str
    job: str
    stage: str
    applied_at: float
    rejected_at: float | None
    reject_reason: str | None
    source: str
    modified_at: float


@dataclass(slots=True)
class Resume:
    uid: str
    remote_id: str
    candidate: str
    file_name: str
    text: str
    language: str
    created_at: float


@dataclass(slots=True)
class Interview:
    uid: str
    remote_id: str
    application: str
    stage: str
    organizer: str
    interviewers: list[str]
    location: str
    start_at: float
    end_at: float
    status: str
    created_at: float
    modified_at: float


@dataclass(slots=True)
class Session:
    session_id: str
    package_id: str
    candidate: str
    application: str
    job: str
    platform: str
    consent_ai: bool
    consent_at: float | None
    status: str
    invited_at: float
    started_at: float | None
    submitted_at: float | None
    expires_at: float
    updated_at: float
    questions: list[str]
    transcripts: list[str]
    durations_ms: list[int]


@dataclass
class World:
    """Everything seeded, in creation order, with lookups by hub-style uid."""

    seed: int
    users: list[User]
    departments: list[tuple[str, str, str]]  # (uid, name_zh, name_en)
    offices: list[tuple[str, str, str, str]]  # (uid, name, city, address)
    jobs: list[Job]
    stages: list[Stage]
    candidates: list[Candidate]
    applications: list[Application]
    resumes: list[Resume]
    interviews: list[Interview]
    sessions: list[Session]

    def by_uid(self) -> dict[str, object]:
        """Every entity keyed by uid (built on demand)."""
        groups = (self.users, self.jobs, self.stages, self.candidates, self.applications, self.resumes)
        return {item.uid: item for group in groups for item in group} | {i.uid: i for i in self.interviews}
