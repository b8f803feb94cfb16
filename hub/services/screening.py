"""Screening behind the GraphQL API: start a run, record a person's decision, read results by rank.

:class:`ScreeningService` is the ``screening`` service of :class:`schema.engines_api.ScreeningService`.

Starting a run resolves the job's requirements (unknown skills answer ``VALIDATION_FAILED`` listing them),
snapshots them on the run, creates the run (QUEUED) with its ``screening_run.created`` event in one
transaction, and only then enqueues one job per chunk (``hub.jobs.screen_applications``); the chunk that
completes the run enqueues ``hub.jobs.rank_screening_run`` (see :mod:`hub.services.screening_runs`).

A run over a cached library is one chunk (screened from profiles, see :mod:`hub.services.screening_library`);
its results keep their reasons without evidence, and :meth:`ScreeningService.explain` adds the evidence when
someone reads them, from the resume's cached features (the same engine, so the same reasons), as long as
those features are still of the text that was screened; after the resume changed, the reasons are shown
without evidence rather than with evidence from another text.

A result's ``passed`` is the engine's recommendation. Only a person decides: :meth:`decide` records
ADVANCE, HOLD or REJECT with who and when, and emits ``screening_result.decided``; integrator keys are
machines and cannot.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from rq import Worker
from sqlalchemy import String, and_, cast, func, or_, select

from engines.evidence import with_quotes
from engines.screening import JobRequirements, screen_cached
from engines.screening_profile import ProfileScreen, profile_supported
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.queues import Queues
from hub.services.features import features_version, open_stored_text, source_digest
from hub.services.requirements import resolve_requirements
from hub.services.vault import Vault
from schema.context import Viewer
from schema.errors import Forbidden, NotFound, UpstreamFailed, ValidationFailed
from schema.relay import NOT_FOUND_MESSAGE

__all__ = [
    "CACHED_CHUNK_SIZE",
    "CHUNK_SIZE",
    "MAX_EXPLICIT_APPLICATIONS",
    "ResultPage",
    "ScreeningService",
    "plan_chunks",
]

#: Applications per chunk job when features must be extracted (about 4 s of NLP per core): each job pays a
#: fork, a database connection and its keys, so fewer, larger chunks waste less of a cold run.
CHUNK_SIZE = 1000
#: Applications per chunk job when (nearly) every resume has cached features: screening only, so bigger
#: chunks spread the fixed cost of a job over more resumes.
CACHED_CHUNK_SIZE = 5000
#: A small run is split into one chunk per worker listening on the queue (so each worker pays a job's
#: fixed cost once), or into this many when no worker is registered yet.
DEFAULT_PARALLELISM = 4
MIN_CHUNK_SIZE = 50
#: Applications sampled to estimate how much of a run's library has cached features.
CACHE_SAMPLE = 1000
#: A run this much cached is one chunk job, screened from profiles (on PostgreSQL, without keyword knock-outs).
WHOLE_RUN_CACHED = 0.98
MAX_EXPLICIT_APPLICATIONS = 10_000
CHUNK_TIMEOUT_SECONDS = 900
RANK_TIMEOUT_SECONDS = 600
_UNRANKED = 2**31 - 1

DECISIONS = ("ADVANCE", "HOLD", "REJECT")


def plan_chunks(
    application_ids: Sequence[str], *, cached_fraction: float, workers: int = 0, whole: bool = False
) -> list[list[str]]:
    """Split a run's applications into chunk jobs (order kept): at most :data:`CHUNK_SIZE` (or
    :data:`CACHED_CHUNK_SIZE` when the library is cached), and at least one chunk per worker. With
    ``whole`` (profiles can screen the run) a run at least :data:`WHOLE_RUN_CACHED` cached is one chunk."""
    n = len(application_ids)
    if whole and cached_fraction >= WHOLE_RUN_CACHED:
        return [list(application_ids)]
    size = CACHED_CHUNK_SIZE if cached_fraction >= 0.9 else CHUNK_SIZE
    size = max(MIN_CHUNK_SIZE, min(size, math.ceil(n / (workers or DEFAULT_PARALLELISM))))
    return [list(application_ids[i : i + size]) for i in range(0, n, size)]


@dataclass
class ResultPage:
    rows: list[Any]
    has_next: bool
    total: int


class ScreeningService:
    def __init__(
        self, db: Database, vault: Vault, queues: Queues, *, on_commit: Callable[[], None] | None = None
    ) -> None:
        self.db = db
        self.vault = vault
        self.queues = queues
        self.on_commit = on_commit or (lambda: None)

    # -- runs ------------------------------------------------------------------------------

    async def start_run(
        self,
        viewer: Viewer,
        job_id: uuid.UUID,
        application_ids: Sequence[uuid.UUID] | None = None,
        *,
        shortlist_size: int | None = None,
    ) -> Any:
        """Create a QUEUED run over the job's active applications (or the given ones) and enqueue it."""
        tenant = viewer.tenant_id
        a, r = m.Application.__table__, m.Resume.__table__
        async with self.db.session(tenant) as session:
            job = (await session.scalars(select(m.Job).where(m.Job.id == job_id))).first()
            if job is None:
                raise NotFound(NOT_FOUND_MESSAGE)
            requirements = resolve_requirements(job.requirements)
            if application_ids is not None:
                wanted = list(dict.fromkeys(application_ids))
                where = [a.c.tenant_id == tenant, a.c.job_id == job.id, a.c.id.in_(wanted)]
            else:
                where = [a.c.tenant_id == tenant, a.c.job_id == job.id, a.c.outcome == "ACTIVE"]
            ids = await _application_ids(session, select(a.c.id).where(*where).order_by(a.c.id))
            if application_ids is not None and len(ids) != len(wanted):
                raise NotFound(NOT_FOUND_MESSAGE)  # an id of another job or tenant answers like a missing one
            if not ids:
                raise ValidationFailed("the job has no active applications to screen", field="job_id")
            # How much of the library is cached only shapes the chunks: an evenly spread sample tells.
            sample = [uuid.UUID(i) for i in ids[:: max(1, len(ids) // CACHE_SAMPLE)]]
            cached = (
                await session.execute(
                    select(func.count(func.distinct(r.c.candidate_id))).where(
                        r.c.tenant_id == tenant,
                        r.c.features_version == features_version(),
                        r.c.candidate_id.in_(
                            select(a.c.candidate_id).where(a.c.tenant_id == tenant, a.c.id.in_(sample))
                        ),
                    )
                )
            ).scalar_one()
            snapshot = {
                "configured": job.requirements,
                "resolved": requirements.to_dict(),
                "shortlist_limit": shortlist_size,
            }
            run = m.ScreeningRun(
                id=new_id(),
                job_id=job.id,
                status="QUEUED",
                requirements=snapshot,
                engine_version=features_version(),
                total=len(ids),
                done=0,
                started_by=viewer.actor,
            )
            session.add(run)
            session.add(
                m.Event(
                    type="screening_run.created", entity="screening_run", entity_id=run.id, data={"job_id": str(job.id)}
                )
            )
            await session.commit()
        self.on_commit()
        whole = self.db.engine.dialect.name == "postgresql" and profile_supported(requirements)
        chunks: list[list[str] | None] = list(
            plan_chunks(ids, cached_fraction=cached / len(sample), workers=self._workers(), whole=whole)
        )
        if application_ids is None and len(chunks) == 1 and whole:
            # A whole run over the job's active applications names none: the job selects them itself (80,000
            # ids would cost more to compress, queue and parse than the rest of the run's start).
            chunks = [None]
        try:
            for index, chunk in enumerate(chunks):
                self.queues.enqueue(
                    "hub.jobs.screen_applications",
                    str(tenant),
                    str(run.id),
                    chunk,
                    idempotency_key=f"screening:{run.id}:chunk:{index}",
                    queue="low",
                    timeout=CHUNK_TIMEOUT_SECONDS,
                )
        except Exception as error:  # Redis down: the run must not sit QUEUED forever
            await self._fail(tenant, run.id)
            raise UpstreamFailed("the job queue is unavailable; the screening run was not started") from error
        return run

    def _workers(self) -> int:
        """How many RQ workers listen on the chunk queue now (0 when unknown)."""
        try:
            return int(Worker.count(connection=self.queues.connection, queue=self.queues["low"]))
        except Exception:  # the count only shapes the chunks; enqueueing reports a Redis failure
            return 0

    async def _fail(self, tenant: uuid.UUID, run_id: uuid.UUID) -> None:
        async with self.db.session(tenant) as session:
            run = (await session.scalars(select(m.ScreeningRun).where(m.ScreeningRun.id == run_id))).one()
            run.status, run.finished_at, run.error = "FAILED", utcnow(), "QUEUE_UNAVAILABLE"
            session.add(
                m.Event(
                    type="screening_run.failed",
                    entity="screening_run",
                    entity_id=run.id,
                    data={"job_id": str(run.job_id)},
                )
            )
            await session.commit()
        self.on_commit()

    # -- decisions -------------------------------------------------------------------------

    async def decide(self, viewer: Viewer, result_id: uuid.UUID, decision: str, note: str | None) -> Any:
        """Record a person's decision on a result (a later decision replaces it; events keep the history)."""
        if decision not in DECISIONS:
            raise ValidationFailed(f"decision must be one of {list(DECISIONS)}", field="decision")
        if viewer.kind != "user":
            raise Forbidden("a person must make this decision; an integrator key cannot", action="decide")
        async with self.db.session(viewer.tenant_id) as session:
            result = (await session.scalars(select(m.ScreeningResult).where(m.ScreeningResult.id == result_id))).first()
            if result is None:
                raise NotFound(NOT_FOUND_MESSAGE)
            result.human_decision = decision
            result.decision_note = note
            result.decided_by = viewer.actor
            result.decided_at = result.updated_at = utcnow()
            session.add(
                m.Event(
                    type="screening_result.decided",
                    entity="screening_result",
                    entity_id=result.id,
                    data={"application_id": str(result.application_id), "run_id": str(result.run_id)},
                )
            )
            await session.commit()
        self.on_commit()
        return result

    # -- reads -----------------------------------------------------------------------------

    async def results(
        self,
        viewer: Viewer,
        run_id: uuid.UUID,
        *,
        first: int,
        after: tuple[int | None, uuid.UUID] | None,
        passed: bool | None = None,
        shortlisted: bool = False,
    ) -> ResultPage:
        """A run's results by rank (unranked ones, while the run is still going, after them by id).

        ``after`` is the (rank, id) of the last result the client saw; rank ``None`` for an unranked one.
        """
        if viewer.roles == frozenset({"candidate"}):
            return ResultPage([], False, 0)  # screening results are HR's, never a candidate's
        tenant = viewer.tenant_id
        results, runs = m.ScreeningResult.__table__, m.ScreeningRun.__table__
        where = [results.c.tenant_id == tenant, results.c.run_id == run_id]
        if passed is not None:
            where.append(results.c.passed.is_(passed))
        if shortlisted:
            size = (
                select(func.coalesce(runs.c.shortlist_size, 0))
                .where(runs.c.tenant_id == tenant, runs.c.id == run_id)
                .scalar_subquery()
            )
            where += [results.c.rank.is_not(None), results.c.rank <= size]
        order = func.coalesce(results.c.rank, _UNRANKED)
        page = select(*results.c).where(*where)
        if after is not None:
            position = _UNRANKED if after[0] is None else after[0]
            page = page.where(or_(order > position, and_(order == position, results.c.id > after[1])))
        page = page.order_by(order, results.c.id).limit(first + 1)
        async with self.db.session(tenant) as session:
            rows = list((await session.execute(page)).all())
            total = (await session.execute(select(func.count()).select_from(results).where(*where))).scalar_one()
        return ResultPage(rows[:first], len(rows) > first, total)

    def _digest(self, resumes: Any) -> Any:
        """The digest of the stored text: kept by a trigger on PostgreSQL; the text itself on SQLite, whose
        digest :func:`explain` computes (only the engine's version of ``md5`` makes it comparable)."""
        if self.db.engine.dialect.name == "postgresql":
            return func.coalesce(resumes.c.text_md5, func.md5(resumes.c.text))
        return resumes.c.text

    async def explain(self, viewer: Viewer, result_ids: Sequence[uuid.UUID]) -> list[list[dict[str, Any]] | None]:
        """The reasons of each result with their evidence, in order (``None`` for an unknown id).

        Reasons stored with evidence are answered as stored. A result screened by its profile has its reasons
        computed from the profile key and the run's requirements (:func:`stored_reasons`), and their evidence
        from the screened resume's cached features, when those are of the screening's engine version and of
        the same stored text (its digest) and give the same reasons; otherwise each reason has no evidence.
        """
        if viewer.roles == frozenset({"candidate"}):
            return [None] * len(result_ids)
        tenant = viewer.tenant_id
        results, runs, resumes = m.ScreeningResult.__table__, m.ScreeningRun.__table__, m.Resume.__table__
        async with self.db.session(tenant) as session:
            rows = (
                await session.execute(
                    select(results.c.id, results.c.run_id, results.c.reasons, results.c.resume_id,
                           results.c.source_digest, results.c.profile_key)
                    .where(results.c.tenant_id == tenant, results.c.id.in_(list(set(result_ids))))
                )
            ).all()  # fmt: skip
            lazy = [r for r in rows if r.profile_key or any("evidence" not in x for x in r.reasons or ())]
            specs: dict[uuid.UUID, Any] = {}
            sources: dict[uuid.UUID, Any] = {}
            if lazy:
                specs = {
                    row.id: row
                    for row in await session.execute(
                        select(runs.c.id, runs.c.requirements, runs.c.engine_version).where(
                            runs.c.tenant_id == tenant, runs.c.id.in_({r.run_id for r in lazy})
                        )
                    )
                }
                wanted = {r.resume_id for r in lazy if r.resume_id is not None}
                if wanted:
                    sources = {
                        row.id: row
                        for row in await session.execute(
                            select(resumes.c.id, resumes.c.features, resumes.c.features_version, resumes.c.text,
                                   self._digest(resumes).label("digest"))
                            .where(resumes.c.tenant_id == tenant, resumes.c.id.in_(wanted))
                        )
                    }  # fmt: skip
        if sources:
            await self.vault.prepare(tenant)
        by_id: dict[uuid.UUID, list[dict[str, Any]]] = {}
        lazy_ids = {r.id for r in lazy}
        if self.db.engine.dialect.name != "postgresql":
            sources = {
                key: SimpleNamespace(**{**r._asdict(), "digest": source_digest(r.digest) if r.digest else None})
                for key, r in sources.items()
            }
        for row in rows:
            stored = list(row.reasons or ())
            if row.id in lazy_ids:
                run = specs.get(row.run_id)
                if run is not None:
                    stored = stored_reasons(row.reasons, row.profile_key, run.requirements)
                stored = _with_evidence(stored, row, run, sources.get(row.resume_id), self.vault, tenant)
            by_id[row.id] = stored
        return [by_id.get(i) for i in result_ids]


def stored_reasons(reasons: Any, profile_key: str | None, snapshot: dict[str, Any]) -> list[dict[str, Any]]:
    """A result's reasons as stored (a result screened by its profile: computed from its key and the run's
    requirements snapshot, without evidence)."""
    if not profile_key:
        return list(reasons or ())
    screen = _profile_screen(json.dumps(snapshot["resolved"], sort_keys=True))
    return [dict(reason) for reason in screen.outcome(screen.decode(profile_key)).reasons]


@lru_cache(maxsize=32)
def _profile_screen(resolved: str) -> ProfileScreen:
    return ProfileScreen(JobRequirements.from_dict(json.loads(resolved)))


async def _application_ids(session: Any, query: Any) -> list[str]:
    """The ids a query selects, as strings (they travel as job arguments). On PostgreSQL the server writes
    them as text: a library of 80,000 then costs no row or UUID objects."""
    if session.bind.dialect.name != "postgresql":
        return [str(i) for i in (await session.scalars(query)).all()]
    text_ids = query.with_only_columns(cast(query.selected_columns[0], String))
    compiled = text_ids.compile(dialect=session.bind.dialect, compile_kwargs={"render_postcompile": True})
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    async with driver.cursor() as cursor:
        await cursor.execute(str(compiled), compiled.params)
        return [row[0] for row in await cursor.fetchall()]


def _with_evidence(
    stored: list[dict[str, Any]], result: Any, run: Any, resume: Any, vault: Vault, tenant: uuid.UUID
) -> list[dict[str, Any]]:
    """Stored reasons (without evidence) with the evidence the engine finds in the screened resume's features,
    quoted from its text (the cache keeps offsets only)."""
    bare = [{**reason, "evidence": []} for reason in stored]
    if run is None or resume is None or not resume.features or resume.features_version != run.engine_version:
        return bare
    digest = resume.digest
    if digest is None or digest != result.source_digest or resume.features.get("source_digest") != digest:
        return bare  # the resume changed since it was screened: its features are of another text
    text = open_stored_text(vault, tenant, resume.id, resume.text) if resume.text is not None else None
    if text is None:
        return bare  # the text fails its integrity check: no evidence rather than unverifiable evidence
    requirements = JobRequirements.from_dict(run.requirements["resolved"])
    try:
        features = with_quotes(resume.features, text)
    except ValueError:
        return bare
    full = [reason.to_dict() for reason in screen_cached(features, requirements).reasons]
    same = [{k: r[k] for k in ("code", "points", "skill_id", "detail")} for r in full] == [
        {k: r.get(k) for k in ("code", "points", "skill_id", "detail")} for r in stored
    ]
    return full if same else bare
