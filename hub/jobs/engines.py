"""Jobs that run the engines: screening chunks and ranking, interview scoring, interview outlines.

Each takes ids (JSON) and an ``idempotency_key``, runs through :func:`hub.jobs.runtime.idempotent`, and
returns ids, counts and a status only (RQ keeps return values in Redis; personal data never goes there).
The work itself lives in :mod:`hub.services.screening_runs` and :mod:`hub.services.interview_work`; the
events it commits (``screening_run.progress`` ...) are published by the job runtime or the hub's relay.

    hub.jobs.screen_applications(tenant_id, run_id, application_ids)   one chunk of a screening run
    hub.jobs.rank_screening_run(tenant_id, run_id)                     rank, shortlist, mark DONE (retries)
    hub.jobs.sync_screening_results(tenant_id, run_id)                 plan the write-back of a finished run
    hub.jobs.write_back_screening_results(tenant_id, run_id, connection_id, result_ids)   one batch of it

A chunk whose last attempt fails (it raised or timed out; :func:`on_work_horse_killed` covers a work horse
that died) is recorded on its run (:func:`hub.services.screening_runs.fail_chunk`), so a run never stays
RUNNING for good. When a run is finished (by its last chunk or by the ranking job), its results are written
back to the HR system (:mod:`hub.services.screening_sync`) by idempotent batch jobs with retries.
    hub.jobs.score_interview_session(tenant_id, session_id)            write the session's Evaluation
    hub.jobs.generate_interview_outline(tenant_id, application_id, candidate_type)
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from rq import Retry, get_current_job
from rq.job import Job
from rq.timeouts import JobTimeoutException

from hub.db import Database
from hub.jobs.runtime import idempotent, release_thread, run_async, settings
from hub.jobs.sync import RetryLater
from hub.queues import Queues
from hub.redis import sync_redis
from hub.services.crypto import PolicyVault
from hub.services.interview_work import build_outline, score_session
from hub.services.screening_runs import fail_chunk, finish_run, screen_chunk
from hub.services.screening_sync import BATCH_SIZE, plan_write_back, write_back_batch

__all__ = [
    "generate_interview_outline",
    "on_work_horse_killed",
    "rank_screening_run",
    "score_interview_session",
    "screen_applications",
    "sync_screening_results",
    "warm_engines",
    "write_back_screening_results",
]

log = logging.getLogger(__name__)

RANK_TIMEOUT_SECONDS = 600
WRITE_BACK_TIMEOUT_SECONDS = 900
#: A write-back batch waits this long between attempts: an HR outage of up to about an hour is ridden out.
WRITE_BACK_RETRY = (30, 120, 600, 1800)
_FINISHED = ("ok", "done")

_local = threading.local()


def _vault(db: Database) -> PolicyVault:
    """One vault per worker thread and database (its key cache outlives a single job)."""
    vault = getattr(_local, "vault", None)
    if vault is None or vault.db is not db:
        vault = _local.vault = PolicyVault.from_settings(settings(), db)
    return vault


def _enqueue(
    function: str, *args: Any, idempotency_key: str, queue: str, timeout: int, retry: Retry | None = None
) -> None:
    config = settings()
    connection = sync_redis(config.redis_url)
    try:
        Queues(connection, prefix=config.redis_prefix, default_timeout=config.job_timeout_seconds).enqueue(
            function, *args, idempotency_key=idempotency_key, queue=queue, timeout=timeout, retry=retry
        )
    finally:
        connection.close()


def _enqueue_sync(tenant_id: str, run_id: str) -> None:
    """Queue the write-back of a finished run (once per run: the job is idempotent by its key)."""
    _enqueue(
        "hub.jobs.sync_screening_results",
        tenant_id,
        run_id,
        idempotency_key=f"screening:{run_id}:write-back",
        queue="low",
        timeout=WRITE_BACK_TIMEOUT_SECONDS,
    )


def _last_attempt(job: Job | None) -> bool:
    """Whether a failure now is final: RQ has no retry left for the job (or it runs outside RQ)."""
    return job is None or not job.retries_left


def _error_code(error: BaseException) -> str:
    return "CHUNK_TIMED_OUT" if isinstance(error, JobTimeoutException) else "CHUNK_FAILED"


def _record_failed_chunk(tenant_id: str, run_id: str, application_ids: list[str] | None, key: str, error: str) -> Any:
    async def go() -> dict[str, Any]:
        from hub.jobs.runtime import database, publish_events

        outcome = await fail_chunk(database(), uuid.UUID(tenant_id), uuid.UUID(run_id), application_ids, key, error)
        await publish_events()
        return outcome

    outcome = run_async(go())
    if outcome.get("finished") in _FINISHED:
        _enqueue_sync(tenant_id, run_id)
    return outcome


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
    tenant_id: str, run_id: str, application_ids: list[str] | None, *, idempotency_key: str
) -> dict[str, Any]:
    """Screen one chunk of a screening run; the chunk that completes the run ranks it. A run screened whole
    over its job's active applications is one chunk with ``application_ids`` None."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        return await screen_chunk(db, _vault(db), tenant, uuid.UUID(run_id), application_ids, idempotency_key)

    try:
        result = idempotent(tenant_id, idempotency_key, "hub.jobs.screen_applications", body)
    except Exception as error:
        if _last_attempt(get_current_job()):  # no retry left: the run must not wait for this chunk forever
            log.exception("screening chunk %s failed for good", idempotency_key)
            try:
                _record_failed_chunk(tenant_id, run_id, application_ids, idempotency_key, _error_code(error))
            except Exception:  # the chunk's own error is the one to report
                log.exception("could not record the failed screening chunk %s", idempotency_key)
        raise
    if result.get("finished") in _FINISHED:
        _enqueue_sync(tenant_id, run_id)
    elif result.get("complete") and result.get("replayed"):  # the first delivery may have died before ranking
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

    result = idempotent(tenant_id, idempotency_key, "hub.jobs.rank_screening_run", body)
    if result.get("status") in _FINISHED:
        _enqueue_sync(tenant_id, run_id)
    return result


def on_work_horse_killed(job: Job, retpid: int, ret_val: int, rusage: Any) -> None:
    """``hub worker``'s handler for a work horse that died (killed, out of memory) while running a job.

    RQ calls it in the worker's own process before it retries or fails the job. For a screening chunk with
    no retry left, the chunk is recorded as failed (``WORKER_DIED``) so its run can finish.
    """
    if job.func_name != "hub.jobs.screen_applications" or not _last_attempt(job):
        return
    try:
        tenant_id, run_id, application_ids = job.args
        key = str(job.kwargs["idempotency_key"])
        ids = None if application_ids is None else [str(i) for i in application_ids]
        _record_failed_chunk(str(tenant_id), str(run_id), ids, key, "WORKER_DIED")
    except Exception:  # the worker itself must go on; the chunk stays in RQ's failed registry
        log.exception("could not record the failed screening chunk of job %s", job.id)
    finally:
        release_thread()  # no event loop or pooled connection may outlive this call into the next fork


def sync_screening_results(tenant_id: str, run_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Queue the write-back of a finished run's results to the HR system, one batch job per
    :data:`~hub.services.screening_sync.BATCH_SIZE` results (see :mod:`hub.services.screening_sync`)."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        connection_id, result_ids, why = await plan_write_back(db, tenant, uuid.UUID(run_id))
        if why == "not_finished":
            raise RetryLater(f"screening run {run_id} is not finished yet")
        batches = [result_ids[i : i + BATCH_SIZE] for i in range(0, len(result_ids), BATCH_SIZE)]
        for index, batch in enumerate(batches):
            _enqueue(
                "hub.jobs.write_back_screening_results",
                tenant_id,
                run_id,
                str(connection_id),
                [str(i) for i in batch],
                idempotency_key=f"{idempotency_key}:{index}",  # a planning again (a connection resumed) has its own
                queue="low",
                timeout=WRITE_BACK_TIMEOUT_SECONDS,
                retry=Retry(max=len(WRITE_BACK_RETRY), interval=list(WRITE_BACK_RETRY)),
            )
        return {"status": why, "results": len(result_ids), "batches": len(batches)}

    return idempotent(tenant_id, idempotency_key, "hub.jobs.sync_screening_results", body)


def write_back_screening_results(
    tenant_id: str, run_id: str, connection_id: str, result_ids: list[str], *, idempotency_key: str
) -> dict[str, Any]:
    """Write one batch of a run's results to the HR system; each result at most once, whatever the retries."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        ids = [uuid.UUID(i) for i in result_ids]
        outcome = await write_back_batch(db, _vault(db), tenant, uuid.UUID(run_id), uuid.UUID(connection_id), ids)
        if outcome.retry is not None:
            raise RetryLater(f"screening results write-back stopped on {outcome.retry.code}; retrying")
        return outcome.to_dict()

    return idempotent(tenant_id, idempotency_key, "hub.jobs.write_back_screening_results", body)


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
