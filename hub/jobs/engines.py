"""Jobs that run the engines: screening chunks and ranking, interview scoring, interview outlines.

Each takes ids (JSON) and an ``idempotency_key``, runs through :func:`hub.jobs.runtime.idempotent`, and
returns ids, counts and a status only (RQ keeps return values in Redis; personal data never goes there).
The work itself lives in :mod:`hub.services.screening_runs` and :mod:`hub.services.interview_work`; the
events it commits (``screening_run.progress`` ...) are published by the job runtime or the hub's relay.

    hub.jobs.screen_applications(tenant_id, run_id, application_ids)   one chunk of a screening run
    hub.jobs.rank_screening_run(tenant_id, run_id)                     rank, shortlist, mark DONE (retries)
    hub.jobs.score_interview_session(tenant_id, session_id)            write the session's Evaluation
    hub.jobs.generate_interview_outline(tenant_id, application_id, candidate_type)
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from hub.db import Database
from hub.jobs.runtime import idempotent, settings
from hub.queues import Queues
from hub.redis import sync_redis
from hub.services.crypto import PolicyVault
from hub.services.interview_work import build_outline, score_session
from hub.services.screening_runs import finish_run, screen_chunk

__all__ = [
    "generate_interview_outline",
    "rank_screening_run",
    "score_interview_session",
    "screen_applications",
    "warm_engines",
]

RANK_TIMEOUT_SECONDS = 600

_local = threading.local()


def _vault(db: Database) -> PolicyVault:
    """One vault per worker thread and database (its key cache outlives a single job)."""
    vault = getattr(_local, "vault", None)
    if vault is None or vault.db is not db:
        vault = _local.vault = PolicyVault.from_settings(settings(), db)
    return vault


def _enqueue(function: str, *args: Any, idempotency_key: str, queue: str, timeout: int) -> None:
    config = settings()
    connection = sync_redis(config.redis_url)
    try:
        Queues(connection, prefix=config.redis_prefix, default_timeout=config.job_timeout_seconds).enqueue(
            function, *args, idempotency_key=idempotency_key, queue=queue, timeout=timeout
        )
    finally:
        connection.close()


def warm_engines() -> None:
    """Build the NLP pipeline, the skill matcher, the default rubrics and the default field policy now.

    RQ's forking worker runs each job in a fresh work horse; when its parent process has called this, every
    horse inherits them ready-made instead of spending about half a second building them per job.
    """
    from engines.extract import extract_features
    from engines.rubric import compile_rubric, default_rubrics
    from policies import PolicySet

    extract_features("项目经验\n主导订单系统重构，使用Java；不熟悉Go")
    for rubric in default_rubrics().values():
        compile_rubric(rubric)
    PolicySet.for_tenant(None)


def screen_applications(
    tenant_id: str, run_id: str, application_ids: list[str], *, idempotency_key: str
) -> dict[str, Any]:
    """Screen one chunk of a screening run; the chunk that completes the run ranks it."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        return await screen_chunk(db, _vault(db), tenant, uuid.UUID(run_id), application_ids, idempotency_key)

    result = idempotent(tenant_id, idempotency_key, "hub.jobs.screen_applications", body)
    if result.get("complete") and result.get("replayed"):  # the first delivery may have died before ranking
        _enqueue(
            "hub.jobs.rank_screening_run",
            tenant_id,
            run_id,
            idempotency_key=f"screening:{run_id}:rank",
            queue="default",
            timeout=RANK_TIMEOUT_SECONDS,
        )
    return result


def rank_screening_run(tenant_id: str, run_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Rank a screening run whose chunks are all done, write its shortlist size, mark it DONE."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        return await finish_run(db, tenant, uuid.UUID(run_id))

    return idempotent(tenant_id, idempotency_key, "hub.jobs.rank_screening_run", body)


def score_interview_session(tenant_id: str, session_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Score an interview session against its job's rubric (consent checked again) and write the Evaluation."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        return await score_session(db, _vault(db), tenant, uuid.UUID(session_id))

    return idempotent(tenant_id, idempotency_key, "hub.jobs.score_interview_session", body)


def generate_interview_outline(
    tenant_id: str, application_id: str, candidate_type: str | None, *, idempotency_key: str
) -> dict[str, Any]:
    """Generate and store an interview outline for an application."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        return await build_outline(db, _vault(db), tenant, uuid.UUID(application_id), candidate_type)

    return idempotent(tenant_id, idempotency_key, "hub.jobs.generate_interview_outline", body)
