"""The work of the interview jobs: score a session against its job's rubric, build an outline.

Both run inside RQ jobs (:mod:`hub.jobs.engines`). They re-check what the API checked when the job was
requested (the data may have changed since): a deleted session or application makes the job a no-op,
a withdrawn consent stops scoring before the answers are opened. Answers and resume text are opened
through the vault here and nowhere else; what the job returns (and RQ keeps in Redis) is ids and a status.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from engines.evidence import with_quotes
from engines.features import ResumeFeatures
from engines.outline import generate_outline
from engines.questions import CandidateType
from engines.rubric import Rubric
from engines.scoring import Answer, score_interview
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id
from hub.services.features import extract_missing, load_resumes, open_resume_text, store_features
from hub.services.interviews import ai_scoring_consent, rubric_key
from hub.services.requirements import resolve_requirements
from hub.services.vault import Vault, reveal
from policies import DecryptionError
from schema.errors import ValidationFailed

__all__ = ["build_outline", "parse_answers", "score_session"]


def parse_answers(document: str, questions: list[Any] | None) -> list[Answer]:
    """The session's answers (the opened JSON document) as engine answers, in interview order.

    An answer's rubric dimensions come from the answer itself or from the session's question of the same id.
    """
    tagged = {str(q.get("question_id")): q.get("dimension_keys") or [] for q in questions or [] if isinstance(q, dict)}
    answers: list[Answer] = []
    for item in json.loads(document):
        question_id = str(item.get("question_id", ""))
        keys = item.get("dimension_keys") or tagged.get(question_id) or []
        answers.append(
            Answer(question_id, str(item.get("question") or ""), str(item.get("transcript") or ""), tuple(keys))
        )
    return answers


async def score_session(db: Database, vault: Vault, tenant_id: uuid.UUID, session_id: uuid.UUID) -> dict[str, Any]:
    """Score the session's answers against its job's current rubric and write the Evaluation (once)."""
    await vault.prepare(tenant_id)
    async with db.session(tenant_id) as session:
        interview = (
            await session.scalars(select(m.InterviewSession).where(m.InterviewSession.id == session_id))
        ).first()
        application = None
        if interview is not None and interview.application_id is not None:
            application = (
                await session.scalars(select(m.Application).where(m.Application.id == interview.application_id))
            ).first()
        if interview is None or application is None:
            return {"status": "missing"}
        job = (await session.scalars(select(m.Job).where(m.Job.id == application.job_id))).one()
        candidate = (await session.scalars(select(m.Candidate).where(m.Candidate.id == application.candidate_id))).one()
        consent = ai_scoring_consent(vault.protection(tenant_id).policy, candidate.consent, interview.consent)
        if not consent.granted:
            return {"status": "consent_required"}
        if not job.rubric or not interview.answers:
            return {"status": "nothing_to_score"}
        key = rubric_key(job.rubric)
        existing = (
            await session.scalars(
                select(m.Evaluation.id).where(
                    m.Evaluation.session_id == interview.id, m.Evaluation.rubric_version == key
                )
            )
        ).first()
        if existing is not None:
            return {"status": "exists", "evaluation_id": str(existing)}
        stored, questions, rubric = interview.answers, interview.questions, job.rubric
    try:
        document = reveal(vault.open(tenant_id, "interview_session", "answers", session_id, stored))
    except DecryptionError:
        return {"status": "unavailable"}
    report = score_interview(parse_answers(document, questions), Rubric.from_dict(rubric))
    async with db.session(tenant_id) as session:
        evaluation = m.Evaluation(
            id=new_id(),
            session_id=session_id,
            application_id=application.id,
            dimension_scores=[score.to_dict() for score in report.dimension_scores],
            total=report.total,
            recommendation=report.recommendation,
            engine_version=report.engine_version,
            rubric_version=key,
            coverage=report.coverage,
            missing_must_have=list(report.missing_must_have),
        )
        session.add(evaluation)
        session.add(
            m.Event(
                type="evaluation.created",
                entity="evaluation",
                entity_id=evaluation.id,
                data={"application_id": str(application.id), "session_id": str(session_id)},
            )
        )
        try:
            await session.commit()
        except IntegrityError:  # a concurrent delivery wrote it first (unique session + rubric version)
            await session.rollback()
            return {"status": "exists"}
    return {"status": "ok", "evaluation_id": str(evaluation.id)}


async def build_outline(
    db: Database, vault: Vault, tenant_id: uuid.UUID, application_id: uuid.UUID, candidate_type: str | None
) -> dict[str, Any]:
    """Generate and store an interview outline for the application from its resume, requirements and rubric."""
    await vault.prepare(tenant_id)
    async with db.session(tenant_id) as session:
        application = (await session.scalars(select(m.Application).where(m.Application.id == application_id))).first()
        if application is None:
            return {"status": "missing"}
        job = (await session.scalars(select(m.Job).where(m.Job.id == application.job_id))).one()
        facts = await load_resumes(session, tenant_id, job.id, [application.id], with_text=True)
    if not job.rubric:
        return {"status": "no_rubric"}
    try:
        requirements = resolve_requirements(job.requirements)
    except ValidationFailed:
        return {"status": "invalid_requirements"}
    item = facts[0] if facts else None
    if item is None or item.resume_id is None or item.stored_text is None:
        return {"status": "no_resume"}
    extracted = extract_missing([item], vault, tenant_id)
    text = open_resume_text(item, vault, tenant_id)
    if text is None or item.features is None:
        return {"status": "unavailable"}
    outline = generate_outline(
        ResumeFeatures.from_dict(with_quotes(item.features, text)),  # cached evidence is offsets only
        text,
        requirements,
        Rubric.from_dict(job.rubric),
        candidate_type=cast(CandidateType | None, candidate_type),  # validated by the API
    )
    async with db.session(tenant_id) as session:
        await store_features(session, tenant_id, extracted)
        row = m.InterviewOutline(
            id=new_id(),
            application_id=application.id,
            questions=[q.to_dict() for q in outline.questions],
            coverage=outline.coverage,
            engine_version=outline.engine_version,
            candidate_type=outline.candidate_type,
            language=outline.language,
            rubric_version=rubric_key(job.rubric),
            missing_must_have=list(outline.missing_must_have),
        )
        session.add(row)
        session.add(
            m.Event(
                type="interview_outline.created",
                entity="interview_outline",
                entity_id=row.id,
                data={"application_id": str(application.id)},
            )
        )
        await session.commit()
    return {"status": "ok", "outline_id": str(row.id)}
