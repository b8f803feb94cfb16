"""The work of a screening run, as its RQ jobs do it: screen a chunk, then rank the run.

A run's applications are split into chunks (:func:`hub.services.screening.plan_chunks`); each chunk is
one job, and any number of workers take them in parallel. A chunk:

1. marks the run RUNNING (first chunk only);
2. reads the latest resume of each application with its cached features (:mod:`hub.services.features`)
   and extracts the stale ones (the only NLP in a run);
3. screens every resume against the run's requirements snapshot (no NLP, :func:`engines.screening.screen_cached`);
4. in ONE transaction: claims its idempotency key (a second delivery of the chunk waits on that row and
   then finds it done), stores the extracted features, writes one ScreeningResult per application,
   adds its count to the run's progress (``done = done + n``, so concurrent chunks never lose a count)
   and, each time the run passes another 5 % (:data:`PROGRESS_STEPS`), a ``screening_run.progress`` event.

The chunk that brings ``done`` to ``total`` ranks the run right after its commit (:func:`finish_run`);
should it die in between, its retry finds the chunk done and enqueues ``hub.jobs.rank_screening_run``
instead. :func:`finish_run` ranks in one statement with the same order as :func:`engines.screening.rank`
(recommended first, then score, ties by application id), sizes the shortlist, marks the run DONE and
commits ``screening_run.completed`` with a ``screening_result.passed`` event per shortlisted result
(:mod:`hub.services.screening_passed`, capped for very large runs); it runs at most once per run (the run
row is locked and its status checked), however often it is called.

A chunk that fails for good (its last retry raised, timed out or its work horse died) is recorded by
:func:`fail_chunk`: its job run is marked FAILED with an error code, its applications count as done and as
``failed`` on the run (with the chunk's index in ``failed_chunks`` and the first error code in ``error``),
and a ``screening_run.chunk_failed`` event is committed. The other chunks go on; when the last chunk is
accounted for, :func:`finish_run` ranks what was screened and marks the run PARTIALLY_DONE, or FAILED when
no application was screened (``screening_run.failed``). A failed chunk is never screened again under its key,
so a late redelivery cannot count its applications twice.

An application that was deleted after the run started is counted as done and gets no result; one
without a resume is screened as an empty resume (every must-have "not found"); one whose text fails its
integrity check gets no result and is counted as ``unavailable``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import CursorResult, Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from engines.evidence import with_quotes
from engines.screening import JobRequirements, screen_cached
from engines.screening_profile import ProfileScreen, profile_supported
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.features import ResumeFacts, extract_missing, load_resumes, open_resume_text, store_features
from hub.services.requirements import needs_resume_text
from hub.services.screening_library import eligible, screen_whole_run
from hub.services.screening_passed import add_passed_events, shortlisted
from hub.services.vault import Vault

__all__ = ["FINISHED", "fail_chunk", "finish_run", "screen_chunk"]

_RUNS = cast(Table, m.ScreeningRun.__table__)
_RESULTS = cast(Table, m.ScreeningResult.__table__)
_JOB_RUNS = cast(Table, m.JobRun.__table__)

#: Statuses a run does not leave.
FINISHED = ("DONE", "PARTIALLY_DONE", "FAILED")


async def _start(db: Database, tenant_id: uuid.UUID, run_id: uuid.UUID) -> Any:
    runs = _RUNS
    async with db.session(tenant_id) as session:
        await session.execute(
            update(runs)
            .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id, runs.c.status == "QUEUED")
            .values(status="RUNNING", updated_at=utcnow())
        )
        run = (
            await session.execute(
                select(runs.c.job_id, runs.c.status, runs.c.requirements, runs.c.total).where(
                    runs.c.tenant_id == tenant_id, runs.c.id == run_id
                )
            )
        ).first()
        await session.commit()
    return run


#: Progress events per run at most (one each time the run passes a step): a library of 80,000 in chunks
#: of 1,000 is 80 chunks, and subscribers (and the workflows reacting to events) need about 20 updates.
PROGRESS_STEPS = 20


def phase_ms(clock: Sequence[float]) -> dict[str, float]:
    """Where a chunk's time went, in milliseconds, from the clock readings taken between its phases
    (benchmarks and operators read it from ``job_runs``)."""
    phases = ("load", "extract", "screen", "write")
    return {name: round(1000 * (b - a), 1) for name, a, b in zip(phases, clock[:-1], clock[1:], strict=True)}


def _progress_step(done: int, total: int) -> int:
    return PROGRESS_STEPS * done // total if total else PROGRESS_STEPS


def _wanted(requirements: JobRequirements) -> set[str]:
    """The skill ids screening reads from a resume's features."""
    return {
        *requirements.must_have,
        *(w.skill_id for w in requirements.nice_to_have),
        *(k.value for k in requirements.knockouts if k.kind == "skill"),
    }


def _screen(
    facts: Sequence[ResumeFacts], requirements: JobRequirements, vault: Vault, tenant_id: uuid.UUID
) -> list[Any]:
    """One result row per application. A resume with cached features is screened by its profile: its result
    keeps the profile key and names the resume and digest, and its reasons (with their evidence, from the
    features) are computed when someone reads them; keyword knock-outs and resumes without features are
    screened on the text and keep their reasons with evidence."""
    with_text = needs_resume_text(requirements)
    profiles = ProfileScreen(requirements) if profile_supported(requirements) else None
    rows: list[dict[str, Any]] = []
    now = utcnow()
    for item in facts:
        text = open_resume_text(item, vault, tenant_id) if with_text else None
        if item.unavailable:
            continue  # the text could not be opened: no result rather than a wrong one
        row = {"id": new_id(), "tenant_id": tenant_id, "created_at": now, "updated_at": now}
        row["application_id"] = item.application_id
        if profiles is not None and item.features is not None and item.resume_id is not None:
            eighths, passed, encoded = profiles.score(profiles.key_of_features(item.features))
            row.update(score=eighths / 8, passed=passed, reasons=[], profile_key=encoded)
            row.update(resume_id=item.resume_id, source_digest=item.features.get("source_digest"))
        else:
            # No resume (or an empty one) is screened as an empty resume: every must-have "not found".
            # Cached features keep offsets only: their evidence is quoted from the text (knock-outs opened it).
            features = item.features or {}
            if item.features is not None and text is not None:
                features = with_quotes(item.features, text)
            outcome = screen_cached(features, requirements, text=(text or "") if with_text else None)
            row.update(score=outcome.score, passed=outcome.passed, resume_id=None, source_digest=None)
            row["profile_key"] = None
            row["reasons"] = [reason.to_dict() for reason in outcome.reasons]
        rows.append(row)
    return rows


async def _claim(session: AsyncSession, tenant_id: uuid.UUID, key: str, result: dict[str, Any]) -> bool:
    """Mark the chunk's job run DONE in the caller's transaction; False when another delivery did."""
    runs = _JOB_RUNS
    claimed = await session.execute(
        update(runs)
        .where(runs.c.tenant_id == tenant_id, runs.c.idempotency_key == key, runs.c.status.not_in(("DONE", "FAILED")))
        .values(status="DONE", result=result, finished_at=utcnow(), updated_at=utcnow())
    )
    return bool(cast(CursorResult[Any], claimed).rowcount)


async def screen_chunk(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    application_ids: Sequence[str] | None,
    key: str,
) -> dict[str, Any]:
    """Screen one chunk of a run (see the module docstring); answer counts and whether the run is complete.

    ``application_ids`` is None for a run over its job's active applications that is screened whole
    (:meth:`hub.services.screening.ScreeningService.start_run`): the job selects them itself."""
    run = await _start(db, tenant_id, run_id)
    if run is None:
        return {"status": "missing", "complete": False}
    if run.status in FINISHED:
        return {"status": run.status.lower(), "complete": False}
    requirements = JobRequirements.from_dict(run.requirements["resolved"])
    count = run.total if application_ids is None else len(application_ids)
    if eligible(db, requirements, count, run.total):  # a cached library in one chunk: by profiles
        return await screen_whole_run(db, vault, tenant_id, run, run_id, application_ids, key, requirements)
    if application_ids is None:  # only a run the planner found eligible is enqueued without its ids
        raise RuntimeError("a screening run enqueued without application ids must be screened whole")
    ids = [uuid.UUID(i) for i in application_ids]
    clock = [time.perf_counter()]
    async with db.session(tenant_id) as session:
        facts = await load_resumes(
            session, tenant_id, run.job_id, ids, with_text=needs_resume_text(requirements), skills=_wanted(requirements)
        )
        await session.rollback()  # no transaction held open while NLP runs
    await vault.prepare(tenant_id)
    clock.append(time.perf_counter())
    extracted = extract_missing(facts, vault, tenant_id)
    clock.append(time.perf_counter())
    rows = _screen(facts, requirements, vault, tenant_id)
    for row in rows:
        row["run_id"] = run_id
    clock.append(time.perf_counter())
    counts: dict[str, Any] = {
        "screened": len(rows),
        "extracted": len(extracted),
        "cached": sum(1 for f in facts if f.features is not None) - len(extracted),
        "unavailable": sum(1 for f in facts if f.unavailable),
        "missing": len(ids) - len(facts),
    }
    async with db.session(tenant_id) as session:
        if not await _claim(session, tenant_id, key, {"status": "ok", **counts}):
            # Another delivery of this chunk committed first: answer what it answered, so the caller
            # (and the job run row it rewrites) sees the same result.
            await session.rollback()
            return await stored_result(session, tenant_id, key)
        await store_features(session, tenant_id, extracted)
        if rows:
            await session.execute(insert(_RESULTS), rows)
        runs = _RUNS
        done, total = (
            await session.execute(
                update(runs)
                .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                .values(done=runs.c.done + len(ids), updated_at=utcnow())
                .returning(runs.c.done, runs.c.total)
            )
        ).one()
        if _progress_step(done - len(ids), total) != _progress_step(done, total):
            session.add(
                m.Event(
                    type="screening_run.progress",
                    entity="screening_run",
                    entity_id=run_id,
                    data={"job_id": str(run.job_id)},
                )
            )
        await session.flush()
        clock.append(time.perf_counter())
        counts["ms"] = phase_ms(clock)
        result = {"status": "ok", **counts, "done": done, "total": total, "complete": done >= total}
        await _claim_result(session, tenant_id, key, result)
        await session.commit()
    if result["complete"]:
        # The chunk that completes the run ranks it at once (no second job to wait for); the job that ran
        # this chunk enqueues the ranking job only when a retry finds the chunk already done.
        result["finished"] = (await finish_run(db, tenant_id, run_id))["status"]
    return result


async def stored_result(session: AsyncSession, tenant_id: uuid.UUID, key: str) -> dict[str, Any]:
    """What the delivery of a chunk that claimed ``key`` first answered."""
    jobs = _JOB_RUNS
    stored = (
        await session.execute(select(jobs.c.result).where(jobs.c.tenant_id == tenant_id, jobs.c.idempotency_key == key))
    ).scalar_one_or_none()
    return dict(stored or {"status": "duplicate", "complete": False})


async def _claim_result(session: AsyncSession, tenant_id: uuid.UUID, key: str, result: dict[str, Any]) -> None:
    runs = _JOB_RUNS
    await session.execute(
        update(runs).where(runs.c.tenant_id == tenant_id, runs.c.idempotency_key == key).values(result=result)
    )


def chunk_index(key: str) -> int | None:
    """The chunk's index from its idempotency key (``screening:<run>:chunk:<index>``)."""
    head, _, tail = key.rpartition(":chunk:")
    return int(tail) if head and tail.isdigit() else None


async def fail_chunk(
    db: Database,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    application_ids: Sequence[str] | None,
    key: str,
    error: str,
) -> dict[str, Any]:
    """Record that a chunk failed for good (see the module docstring); at most once per chunk.

    ``error`` is a stable code (``CHUNK_FAILED``, ``CHUNK_TIMED_OUT``, ``WORKER_DIED``). Answers the chunk's
    result: ``{"status": "failed", ...}``, or what the chunk answered when it had completed after all.
    ``application_ids`` None is a whole run's only chunk: what is left of the run failed.
    """
    index = chunk_index(key)
    runs, jobs = _RUNS, _JOB_RUNS
    async with db.session(tenant_id) as session:
        if application_ids is None:
            left = (
                await session.execute(
                    select(runs.c.total - runs.c.done).where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                )
            ).scalar()
            count = max(0, int(left or 0))
        else:
            count = len(application_ids)
        result: dict[str, Any] = {"status": "failed", "error": error, "failed": count, "chunk": index}
        claimed = await session.execute(
            update(jobs)
            .where(
                jobs.c.tenant_id == tenant_id, jobs.c.idempotency_key == key, jobs.c.status.not_in(("DONE", "FAILED"))
            )
            .values(status="FAILED", result=result, finished_at=utcnow(), updated_at=utcnow())
        )
        if not cast(CursorResult[Any], claimed).rowcount:
            exists = (
                await session.execute(
                    select(jobs.c.status, jobs.c.result).where(
                        jobs.c.tenant_id == tenant_id, jobs.c.idempotency_key == key
                    )
                )
            ).first()
            if exists is not None:  # the chunk completed (or was failed) already: its outcome stands
                await session.rollback()
                return dict(exists.result or {"status": exists.status.lower()})
            session.add(m.JobRun(idempotency_key=key, function="hub.jobs.screen_applications", status="FAILED",
                                 result=result, finished_at=utcnow()))  # fmt: skip
        row = (
            await session.execute(
                select(runs.c.job_id, runs.c.status, runs.c.failed_chunks)
                .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                .with_for_update()
            )
        ).first()
        if row is None or row.status in FINISHED:
            await session.commit()
            return {**result, "complete": False}
        chunks = sorted({*(row.failed_chunks or []), *([index] if index is not None else [])})
        done, total = (
            await session.execute(
                update(runs)
                .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                .values(
                    status="RUNNING",
                    done=runs.c.done + count,
                    failed=runs.c.failed + count,
                    failed_chunks=chunks,
                    error=func.coalesce(runs.c.error, error),
                    updated_at=utcnow(),
                )
                .returning(runs.c.done, runs.c.total)
            )
        ).one()
        session.add(
            m.Event(
                type="screening_run.chunk_failed",
                entity="screening_run",
                entity_id=run_id,
                data={"job_id": str(row.job_id), "chunk": index, "error": error},
            )
        )
        await session.commit()
    result.update(done=done, total=total, complete=done >= total)
    if result["complete"]:
        result["finished"] = (await finish_run(db, tenant_id, run_id))["status"]
    return result


async def finish_run(db: Database, tenant_id: uuid.UUID, run_id: uuid.UUID) -> dict[str, Any]:
    """Rank every result of the run deterministically, size the shortlist and mark the run DONE (once).

    A run with failed chunks ends PARTIALLY_DONE (ranked over what was screened), or FAILED when nothing was.
    """
    runs, results = _RUNS, _RESULTS
    async with db.session(tenant_id) as session:
        run = (
            await session.execute(
                select(runs.c.job_id, runs.c.status, runs.c.requirements, runs.c.done, runs.c.total, runs.c.failed)
                .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                .with_for_update()
            )
        ).first()
        if run is None:
            return {"status": "missing"}
        if run.status in FINISHED:
            return {"status": "done", "run_status": run.status}
        if run.done < run.total:
            return {"status": "incomplete", "done": run.done, "total": run.total}
        # The order of engines.screening.rank: recommended first, higher score first, ties by application id.
        ranked = (
            select(
                results.c.id,
                func.row_number()
                .over(order_by=(results.c.passed.desc(), results.c.score.desc(), results.c.application_id))
                .label("position"),
            )
            .where(results.c.tenant_id == tenant_id, results.c.run_id == run_id)
            .subquery()
        )
        await session.execute(
            update(results)
            .where(results.c.id == ranked.c.id, results.c.tenant_id == tenant_id)
            .values(rank=ranked.c.position)
        )
        screened, passed = (
            await session.execute(
                select(func.count(), func.count().filter(results.c.passed.is_(True))).where(
                    results.c.tenant_id == tenant_id, results.c.run_id == run_id
                )
            )
        ).one()
        limit = (run.requirements or {}).get("shortlist_limit")
        shortlist = passed if limit is None else min(passed, int(limit))
        status = "DONE" if not run.failed else ("PARTIALLY_DONE" if screened else "FAILED")
        await session.execute(
            update(runs)
            .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
            .values(status=status, shortlist_size=shortlist, finished_at=utcnow(), updated_at=utcnow())
        )
        data: dict[str, Any] = {"job_id": str(run.job_id)}
        if run.failed:
            data["status"] = status
        session.add(
            m.Event(
                type="screening_run.failed" if status == "FAILED" else "screening_run.completed",
                entity="screening_run",
                entity_id=run_id,
                data=data,
            )
        )
        if status != "FAILED":  # the shortlist's passed events, with the completion (hub.services.screening_passed)
            chosen = await shortlisted(session, tenant_id, run_id, shortlist)
            await add_passed_events(session, run_id, run.job_id, shortlist, chosen)
        await session.commit()
    return {"status": "ok", "run_status": status, "shortlist": shortlist, "passed": passed}
