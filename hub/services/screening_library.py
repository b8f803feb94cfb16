"""Screening a whole run in one job from cached profiles: re-screening a library for a new job.

When (nearly) every resume of a run has cached features, the planner gives the run one chunk
(:func:`hub.services.screening.plan_chunks`), and on PostgreSQL that chunk is screened here
(:func:`screen_whole_run`) instead of chunk by chunk:

1. ONE query reads, for each application, its candidate's latest resume's profile (the levels of the
   skills the job asks about, years, education: PostgreSQL extracts those few numbers from
   ``resumes.profile``) and whether it is fresh: its version is the running engine's and its digest is the
   trigger-kept digest of the stored text. No features and no texts are read.
2. Resumes without a fresh profile (new, changed since, or cached before profiles existed) take the chunk
   path for those rows only: features loaded or extracted, screened with evidence, features and profiles
   stored.
3. Fresh profiles are screened by :class:`engines.screening_profile.ProfileScreen`: one engine computation
   per distinct profile, with the score, recommendation and reasons ``screen_cached`` would give.
4. All results are ranked in memory (the order of :func:`hub.services.screening_runs.finish_run`) and, in
   ONE transaction, the chunk's key is claimed, the results are written with COPY (rank included), and the
   run is marked DONE with its shortlist size, a ``screening_run.progress`` and a
   ``screening_run.completed`` event, and a ``screening_result.passed`` event per shortlisted result
   (:mod:`hub.services.screening_passed`: the best ranks only, capped for a large library).

A result screened from a profile keeps its reasons without evidence and names the resume and the digest it
was screened from; its evidence is read from that resume's cached features when someone reads the
explanation (:meth:`hub.services.screening.ScreeningService.explain`).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from engines.screening import JobRequirements
from engines.screening_profile import ProfileScreen, profile_supported
from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.services.features import (
    ResumeFacts,
    extract_missing,
    features_version,
    load_resumes,
    profile_record,
    store_features,
)
from hub.services.screening_passed import add_passed_events, emitted_count
from hub.services.vault import Vault

__all__ = ["COPY_COLUMNS", "eligible", "screen_whole_run"]

#: Columns of ``screening_results`` the COPY writes, in order.
COPY_COLUMNS = (
    "id",
    "tenant_id",
    "created_at",
    "updated_at",
    "run_id",
    "application_id",
    "score",
    "passed",
    "rank",
    "reasons",
    "resume_id",
    "source_digest",
    "profile_key",
)
_RESUMES = cast(Table, m.Resume.__table__)


_NULL = "\\N"  # NULL in COPY text format
_FAILED = 1 << 138  # sort keys of results not recommended start here
_ID_BITS = (0xFFF << 64) | ((1 << 62) - 1)  # the random bits of a UUIDv7 (rand_a, rand_b)


def _order(passed: bool, eighths: int, application_id: uuid.UUID) -> int:
    """One integer that sorts as (not passed, -score, application id)."""
    return ((0 if passed else 1) << 138) | ((1023 - eighths) << 128) | application_id.int


def _scored(eighths: int, passed: bool) -> str:
    return f"{eighths / 8!r}\t{'t' if passed else 'f'}"


def _new_ids(count: int) -> list[str]:
    """``count`` fresh UUIDv7 ids (as :func:`hub.db.base.new_id` makes one), as the 32 hex digits PostgreSQL
    reads as a uuid: a millisecond timestamp, the version and variant, and random bits."""
    base = ((time.time_ns() // 1_000_000) << 80) | (0x7 << 76) | (0b10 << 62)
    noise = os.urandom(10 * count)
    return [f"{base | (int.from_bytes(noise[i : i + 10]) & _ID_BITS):032x}" for i in range(0, 10 * count, 10)]


def eligible(db: Database, requirements: JobRequirements, application_count: int, total: int) -> bool:
    """Whether a chunk is screened here: it is the whole run, on PostgreSQL, and needs no resume text."""
    return application_count == total and db.engine.dialect.name == "postgresql" and profile_supported(requirements)


def _profiles_sql(skills: Sequence[str]) -> str:
    levels = "".join(f", coalesce((r.profile->'s'->>%(s{i})s)::int, 0)" for i in range(len(skills)))
    return f"""
        SELECT a.id, r.id, r.text_md5,
               coalesce(r.profile->>'v' = %(version)s AND r.profile->>'d' = r.text_md5, false),
               (r.profile->>'y')::float8, r.profile->>'e'{levels}
        FROM applications a
        LEFT JOIN LATERAL (
            SELECT x.id, x.text_md5, x.profile FROM resumes x
            WHERE x.tenant_id = %(tenant)s AND x.candidate_id = a.candidate_id
            ORDER BY x.id DESC LIMIT 1
        ) r ON true
        WHERE a.tenant_id = %(tenant)s AND a.job_id = %(job)s AND a.id = ANY(%(ids)s::uuid[])
        """  # noqa: S608 - only generated parameter names are interpolated


async def _driver(session: AsyncSession) -> Any:
    """The session's psycopg connection (in its transaction), for what SQLAlchemy's rows would slow down."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _load(
    session: AsyncSession, tenant_id: uuid.UUID, job_id: uuid.UUID, ids: Sequence[uuid.UUID], screen: ProfileScreen
) -> list[tuple[Any, ...]]:
    """(application id, resume id, text digest, fresh, years, education, level of each skill) per application."""
    # The ids go as one array literal: the driver would adapt 80,000 UUID objects one by one.
    array = "{" + ",".join(map(str, ids)) + "}"
    params: dict[str, Any] = {"tenant": tenant_id, "job": job_id, "ids": array, "version": features_version()}
    params.update({f"s{i}": skill for i, skill in enumerate(screen.skills)})
    async with (await _driver(session)).cursor(binary=True) as cursor:
        # The plan's cost estimate for 80,000 lateral lookups switches JIT compilation on, which costs more
        # (a third of a second) than the whole query saves by it.
        await cursor.execute("SET LOCAL jit = off")
        await cursor.execute(_profiles_sql(screen.skills), params)
        return list(await cursor.fetchall())


async def _store_profiles(session: AsyncSession, tenant_id: uuid.UUID, facts: Sequence[ResumeFacts]) -> None:
    """Profiles for resumes whose features were fresh but had none yet (cached before profiles existed)."""
    rows = {f.resume_id: profile_record(f.features) for f in facts if f.resume_id is not None and f.features}
    if not rows:
        return
    r = _RESUMES
    await session.execute(
        update(r)
        .where(r.c.tenant_id == tenant_id, r.c.id == bindparam("resume_id"))
        .values(profile=bindparam("profile", type_=r.c.profile.type), updated_at=r.c.updated_at),
        [{"resume_id": rid, "profile": profile} for rid, profile in rows.items()],
    )


def _copy_text(value: str) -> str:
    """A value in PostgreSQL's COPY text format (JSON has no raw tabs or newlines; backslashes double)."""
    return value.replace("\\", "\\\\")


async def _copy(session: AsyncSession, lines: Sequence[str]) -> None:
    """COPY result rows (COPY text format lines) into ``screening_results`` in the session's transaction."""
    async with (await _driver(session)).cursor() as cursor:
        async with cursor.copy(f"COPY screening_results ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for start in range(0, len(lines), 20_000):
                await copy.write("".join(lines[start : start + 20_000]))


async def screen_whole_run(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    run: Any,
    run_id: uuid.UUID,
    ids: Sequence[uuid.UUID],
    key: str,
    requirements: JobRequirements,
) -> dict[str, Any]:
    """Screen, rank and write a whole run in one transaction (see the module docstring); answer the
    chunk's result, with ``finished`` set once the run is DONE."""
    from hub.services.screening_runs import PROGRESS_STEPS, _claim, _claim_result, _screen, stored_result

    screen = ProfileScreen(requirements)
    clock = [time.perf_counter()]
    async with db.session(tenant_id) as session:
        loaded = await _load(session, tenant_id, run.job_id, ids, screen)
        stale = [row[0] for row in loaded if not row[3]]
        facts = await load_resumes(session, tenant_id, run.job_id, stale, with_text=False, skills=None) if stale else []
        await session.rollback()  # no transaction held open while NLP runs
    if facts:
        await vault.prepare(tenant_id)
    clock.append(time.perf_counter())
    extracted = extract_missing(facts, vault, tenant_id)
    clock.append(time.perf_counter())
    now = utcnow()
    # (sort key, then the COPY text fields: score and passed; after the rank: reasons, resume, digest, profile
    # key). The sort key is one integer in the order of finish_run: recommended first, then higher score,
    # then application id.
    ranked: list[tuple[int, uuid.UUID, str, str]] = []
    for row in _screen(facts, requirements, vault, tenant_id):  # the stale ones
        eighths, ok = round(row["score"] * 8), row["passed"]
        reasons = _copy_text(json.dumps(row["reasons"], ensure_ascii=False, separators=(",", ":")))
        source = (row["resume_id"], row["source_digest"], row["profile_key"])
        tail = "\t".join([reasons, *(_NULL if value is None else _copy_text(str(value)) for value in source)])
        ranked.append((_order(ok, eighths, row["application_id"]), row["application_id"], _scored(eighths, ok), tail))
    for app_id, resume_id, digest, fresh, years, education, *levels in loaded:
        if fresh:
            eighths, ok, encoded = screen.score((tuple(levels), years, education))
            tail = f"[]\t{resume_id}\t{digest}\t{_copy_text(encoded)}"
            ranked.append((_order(ok, eighths, app_id), app_id, _scored(eighths, ok), tail))
    ranked.sort(key=itemgetter(0))
    head = f"{tenant_id}\t{now.isoformat()}\t{now.isoformat()}\t{run_id}"
    row_ids = _new_ids(len(ranked))
    lines = [
        f"{row_id}\t{head}\t{app_id}\t{scored}\t{position}\t{tail}\n"
        for row_id, position, (_order_key, app_id, scored, tail) in zip(
            row_ids, range(1, len(ranked) + 1), ranked, strict=True
        )
    ]
    clock.append(time.perf_counter())
    passed = sum(1 for item in ranked if item[0] < _FAILED)
    limit = (run.requirements or {}).get("shortlist_limit")
    shortlist = passed if limit is None else min(passed, int(limit))
    counts: dict[str, Any] = {
        "screened": len(lines),
        "extracted": len(extracted),
        "cached": sum(1 for row in loaded if row[3]) + sum(1 for f in facts if f.features is not None) - len(extracted),
        "unavailable": sum(1 for f in facts if f.unavailable),
        "missing": len(ids) - len(loaded),
        "profiles": sum(1 for row in loaded if row[3]),
    }
    async with db.session(tenant_id) as session:
        if not await _claim(session, tenant_id, key, {"status": "ok", **counts}):
            await session.rollback()
            return await stored_result(session, tenant_id, key)
        await store_features(session, tenant_id, extracted)
        await _store_profiles(session, tenant_id, [f for f in facts if f not in extracted])
        await _copy(session, lines)
        runs = cast(Table, m.ScreeningRun.__table__)
        total = len(ids)
        await session.execute(
            update(runs)
            .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
            .values(done=total, status="DONE", shortlist_size=shortlist, finished_at=utcnow(), updated_at=utcnow())
        )
        data = {"job_id": str(run.job_id)}
        if PROGRESS_STEPS:
            session.add(m.Event(type="screening_run.progress", entity="screening_run", entity_id=run_id, data=data))
        session.add(m.Event(type="screening_run.completed", entity="screening_run", entity_id=run_id, data=data))
        # The shortlist's passed events: the shortlist is the first ranks (recommended results sort first).
        best = emitted_count(shortlist)
        chosen = [(uuid.UUID(row_ids[i]), ranked[i][1], i + 1) for i in range(best)]
        add_passed_events(session, run_id, run.job_id, shortlist, chosen)
        await session.flush()
        clock.append(time.perf_counter())
        phases = ("load", "extract", "screen", "write")
        counts["ms"] = {
            name: round(1000 * (b - a), 1) for name, a, b in zip(phases, clock[:-1], clock[1:], strict=True)
        }
        result = {"status": "ok", **counts, "done": total, "total": total, "complete": True, "finished": "ok"}
        await _claim_result(session, tenant_id, key, result)
        await session.commit()
    return result
