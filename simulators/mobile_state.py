"""The mobile HR app's state: AI interview sessions and push notifications, kept in the app's own shape.

camelCase keys, epoch milliseconds as numbers. Sessions keep creation order (``seq``) so cursors walk every
session exactly once; ``updatedAt`` moves on every change for incremental reads.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulators.seed import World
from simulators.seed_text import answer_transcript, interview_questions
from simulators.timefmt import epoch_ms

__all__ = ["FINAL_STATUSES", "MobileState", "SessionRow"]

FINAL_STATUSES = {"COMPLETED", "EXPIRED", "CANCELED"}
APP_VERSION = "3.4.1"


@dataclass(slots=True)
class SessionRow:
    """One session and its position in creation order."""

    seq: int
    record: dict[str, Any]


class MobileState:
    """Sessions, notifications and the people the app knows, loaded from the seeded world."""

    def __init__(self, world: World, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.rows: list[SessionRow] = []
        self.by_id: dict[str, SessionRow] = {}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.recipients: set[str] = set()
        self.skills: dict[str, list[str]] = {}
        self.people: dict[str, dict[str, str]] = {}
        self.job_names = {job.remote_id: job.name for job in world.jobs}
        self._rng = random.Random(f"{world.seed}:mobile")  # noqa: S311 (reproducible, not crypto)
        people = {c.uid: c for c in world.candidates}
        apps = {a.uid: a for a in world.applications}
        jobs = {j.uid: j for j in world.jobs}
        for c in world.candidates:
            self.recipients.update((c.remote_id, c.phone, c.email))
            self.skills[c.remote_id] = c.skills
            self.people[c.remote_id] = {"name": c.full_name, "email": c.email, "phone": c.phone}
        self.recipients.update(u.remote_id for u in world.users)
        for s in world.sessions:
            c, job = people[s.candidate], jobs[s.job]
            record = {
                "sessionId": s.session_id,
                "packageId": s.package_id,
                "locale": "zh-CN" if c.language == "zh" else "en-US",
                "candidate": {"remoteId": c.remote_id, "name": c.full_name, "email": c.email, "phone": c.phone},
                "application": {"remoteId": apps[s.application].remote_id},
                "job": {"remoteId": job.remote_id, "name": job.name},
                "device": {"platform": s.platform, "appVersion": APP_VERSION} if s.started_at else None,
                "consent": {"aiScoring": s.consent_ai, "grantedAt": epoch_ms(s.consent_at)},
                "status": s.status,
                "invitedAt": epoch_ms(s.invited_at),
                "startedAt": epoch_ms(s.started_at),
                "submittedAt": epoch_ms(s.submitted_at),
                "expiresAt": epoch_ms(s.expires_at),
                "updatedAt": epoch_ms(s.updated_at),
                "inviteUrl": f"https://m.hr-app.example.com/i/{s.session_id}",
                "questions": [{"questionId": f"q{n + 1}", "question": q} for n, q in enumerate(s.questions)],
                "answers": [
                    {"questionId": f"q{n + 1}", "question": s.questions[n], "durationMs": d, "transcript": t}
                    for n, (t, d) in enumerate(zip(s.transcripts, s.durations_ms, strict=True))
                ],
            }
            self.add(record)

    def add(self, record: dict[str, Any]) -> SessionRow:
        row = SessionRow(len(self.rows), record)
        self.rows.append(row)
        self.by_id[record["sessionId"]] = row
        return row

    def new_session_id(self) -> str:
        return f"ais_{self._rng.getrandbits(50):010X}"

    def questions_for(self, candidate_remote_id: str, zh: bool) -> list[dict[str, str]]:
        skills = self.skills.get(candidate_remote_id) or ["Python", "沟通能力" if zh else "communication"]
        texts = interview_questions(self._rng, zh=zh, skills=skills)
        return [{"questionId": f"q{n + 1}", "question": text} for n, text in enumerate(texts)]

    def fill_answers(self, record: dict[str, Any], given: list[dict[str, Any]]) -> None:
        """Answer every question: given answers by questionId, generated transcripts for the rest."""
        zh = record.get("locale", "zh-CN").startswith("zh")
        skills = self.skills.get(record["candidate"]["remoteId"]) or ["Python"]
        by_question = {a.get("questionId"): a for a in given if isinstance(a, dict)}
        record["answers"] = [
            {
                "questionId": q["questionId"],
                "question": q["question"],
                "durationMs": int(
                    by_question.get(q["questionId"], {}).get("durationMs") or self._rng.randint(30_000, 180_000)
                ),
                "transcript": str(
                    by_question.get(q["questionId"], {}).get("transcript")
                    or answer_transcript(self._rng, zh=zh, skills=skills)
                ),
            }
            for q in record["questions"]
        ]

    def touch(self, record: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """Apply changes and move ``updatedAt`` to now."""
        record.update(changes)
        record["updatedAt"] = max(epoch_ms(self.clock()) or 0, record["updatedAt"])
        return record
