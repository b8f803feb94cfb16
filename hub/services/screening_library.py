"""Screening a whole run in one job from cached profiles: re-screening a library for a new job.

When (nearly) every resume of a run has cached features, the planner gives the run one chunk
(:func:`hub.services.screening.plan_chunks`), and on PostgreSQL that chunk is screened here
(:func:`screen_whole_run`) instead of chunk by chunk. The rows stay in PostgreSQL; Python sees one row per
*distinct profile*:

1. ONE statement fills a temporary table of the run: for each application, its candidate's latest resume,
   whether that resume's profile is fresh (its version is the running engine's and its digest is the
   trigger-kept digest of the stored text) and the profile's key as this job reads it (the levels of the
   skills the job asks about, years, education: PostgreSQL extracts those few values from
   ``resumes.profile``). No features and no texts are read. The distinct keys come back with their counts
   (a library of 80,000 has about a thousand), and the applications without a fresh profile.
2. Those applications (new resumes, changed since, or cached before profiles existed) take the chunk path:
   features loaded or extracted, screened with evidence, features and profiles stored.
3. Each distinct key is screened once by :class:`engines.screening_profile.ProfileScreen` (the score,
   recommendation and reasons ``screen_cached`` would give).
4. In ONE transaction: the chunk's key is claimed; the outcomes per key and the rows of step 2 are copied
   into temporary tables; ONE ``INSERT ... SELECT`` joins the run's table with the outcomes, ranks every
   result in the order of :func:`hub.services.screening_runs.finish_run` (recommended first, then score,
   then application id) and writes them, answering the shortlist's best ranks; the run is marked DONE with
   its shortlist size, a ``screening_run.progress`` and a ``screening_run.completed`` event, and a
   ``screening_result.passed`` event per shortlisted result (:mod:`hub.services.screening_passed`: the best
   ranks only, capped for a large library).

The temporary tables live on one connection held for the job, so they vanish with it if the job dies.

A result screened from a profile keeps its reasons without evidence and names the resume and the digest it
was screened from; its evidence is read from that resume's cached features when someone reads the
explanation (:meth:`hub.services.screening.ScreeningService.explain`).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from engines.screening import JobRequirements
from engines.screening_profile import ProfileKey, ProfileScreen, profile_supported
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

__all__ = ["RESULT_COLUMNS", "eligible", "screen_whole_run"]

log = logging.getLogger(__name__)

#: Columns of ``screening_results`` a whole run writes, in order.
RESULT_COLUMNS = (
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
_UUID_LIST = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"(?:,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*"
)


def eligible(db: Database, requirements: JobRequirements, application_count: int, total: int) -> bool:
    """Whether a chunk is screened here: it is the whole run, on PostgreSQL, and needs no resume text."""
    return application_count == total and db.engine.dialect.name == "postgresql" and profile_supported(requirements)


def _profiles_sql(table: str, skills: Sequence[str], *, named: bool = True) -> str:
    """A temporary table of the run: per application, its candidate's latest resume, whether that resume's
    profile is fresh, and the profile's key as the job reads it (``k``: the levels of the job's skills, the
    years and the education, as text). The applications are the ``ids`` given (``named``) or the job's
    active ones."""
    levels = " || ',' || ".join(f"coalesce((x.profile->'s'->>%(s{i})s)::int, 0)::text" for i in range(len(skills)))
    key = f"{levels or chr(39) * 2} || '|' || coalesce(x.profile->>'y', '') || '|' || coalesce(x.profile->>'e', '')"
    # DISTINCT ON over a join rather than a LATERAL lookup per application: the planner takes one hash join
    # for a library and index lookups for a few hundred.
    members = "a.id = ANY(%(ids)s::uuid[])" if named else "a.outcome = 'ACTIVE'"
    return f"""
        CREATE TEMPORARY TABLE {table} ON COMMIT PRESERVE ROWS AS
        SELECT DISTINCT ON (a.id) a.id AS app, x.id AS rid, x.text_md5 AS digest,
               coalesce(x.profile->>'v' = %(version)s AND x.profile->>'d' = x.text_md5, false) AS fresh,
               {key} AS k
        FROM applications a
        LEFT JOIN resumes x ON x.tenant_id = %(tenant)s AND x.candidate_id = a.candidate_id
        WHERE a.tenant_id = %(tenant)s AND a.job_id = %(job)s AND {members}
        ORDER BY a.id, x.id DESC
        """  # noqa: S608 - only generated names are interpolated


async def _driver(session: AsyncSession) -> Any:
    """The session's psycopg connection (in its transaction), for what SQLAlchemy's rows would slow down."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


async def _load(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    ids: Sequence[str] | None,
    screen: ProfileScreen,
    table: str,
) -> tuple[list[tuple[str, int]], list[uuid.UUID], int]:
    """Fill the run's temporary table (the ``ids`` given, or the job's active applications); answer (each
    fresh profile key with its count, the applications without a fresh profile, how many were found)."""
    params: dict[str, Any] = {"tenant": tenant_id, "job": job_id, "version": features_version()}
    params.update({f"s{i}": skill for i, skill in enumerate(screen.skills)})
    if ids is not None:
        # The ids go as one array literal of the job's strings (checked in one pass, not parsed one by one).
        joined = ",".join(ids)
        if not _UUID_LIST.fullmatch(joined):
            raise ValueError("application ids must be UUIDs")
        params["ids"] = "{" + joined + "}"
    async with (await _driver(session)).cursor() as cursor:
        # The plan's cost estimate for 80,000 lookups switches JIT compilation on, which costs more (a third
        # of a second) than the whole query saves by it.
        await cursor.execute("SET LOCAL jit = off")
        await cursor.execute(_WORK_MEM)
        await cursor.execute(_profiles_sql(table, screen.skills, named=ids is not None), params)
        found = cursor.rowcount
        await cursor.execute(f"SELECT k, count(*) FROM {table} WHERE fresh GROUP BY k")  # noqa: S608
        keys = [(k, int(n)) for k, n in await cursor.fetchall()]
        await cursor.execute(f"SELECT app FROM {table} WHERE NOT fresh")  # noqa: S608
        stale = [row[0] for row in await cursor.fetchall()]
    return keys, stale, found


def _parse_key(text: str) -> ProfileKey:
    """A key as :func:`_profiles_sql` writes it."""
    levels, years, education = text.split("|")
    return (
        tuple(int(v) for v in levels.split(",")) if levels else (),
        float(years) if years else None,
        education or None,
    )


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


#: Sorting a library's rows (latest resume per application, the ranking) in memory rather than on disk.
_WORK_MEM = "SET LOCAL work_mem = '64MB'"


def _copy_text(value: str) -> str:
    """A value in PostgreSQL's COPY text format (JSON has no raw tabs or newlines; backslashes double)."""
    return value.replace("\\", "\\\\")


def _copy_line(*values: Any) -> str:
    return "\t".join(_NULL if v is None else _copy_text(str(v)) for v in values) + "\n"


async def _copy_into(session: AsyncSession, statement: str, lines: Sequence[str]) -> None:
    """COPY text-format lines in the session's transaction."""
    async with (await _driver(session)).cursor() as cursor:
        async with cursor.copy(statement) as copy:
            for start in range(0, len(lines), 20_000):
                await copy.write("".join(lines[start : start + 20_000]))


def _uuid7_counter() -> tuple[str, int]:
    """UUIDv7 ids for a statement's rows, as RFC 9562 6.2 (method 2, monotonic random) makes them: the
    millisecond timestamp, version 7 and 12 random bits (the first 16 hex digits, given), then the variant
    and a random start below 2**61 to which each row adds its rank (as a signed 64-bit number whose hex is the
    last 16 digits). Unique within the statement, time-ordered like :func:`hub.db.base.new_id` across
    statements, and about ten times cheaper in SQL than a random UUID per row."""
    millis = time.time_ns() // 1_000_000
    head = f"{millis & (2**48 - 1):012x}7{secrets.randbits(12):03x}"
    start = secrets.randbits(61)  # below 2**61: room for 2**61 rows before the variant bits
    return head, start - 2**63  # variant 10: the top two bits of the 64-bit half are 1 0


#: The run's results, ranked, in one statement: the fresh profiles joined with their outcomes, and the
#: applications screened in Python (stale or without a resume); ids are UUIDv7 counted up from a random start
#: in rank order (:func:`_uuid7_counter`); the shortlist's best ranks come back for their passed events.
_INSERT = """
    WITH written AS (
        INSERT INTO screening_results ({columns})
        SELECT (%(head)s || to_hex(%(start)s::bigint + r.rank))::uuid,
               %(tenant)s, %(now)s, %(now)s, %(run)s, r.app, r.score, r.passed, r.rank,
               r.reasons, r.rid, r.digest, r.profile_key
        FROM (
            SELECT s.*, row_number() OVER (ORDER BY s.passed DESC, s.score DESC, s.app) AS rank
            FROM (
                SELECT p.app, o.score, o.passed, '[]'::jsonb AS reasons, p.rid, p.digest, o.profile_key
                FROM {profiles} p JOIN {outcomes} o ON o.k = p.k
                WHERE p.fresh
                UNION ALL
                SELECT app, score, passed, reasons, rid, digest, profile_key FROM {screened}
            ) s
        ) r
        RETURNING id, application_id, rank
    )
    SELECT id, application_id, rank FROM written WHERE rank <= %(best)s ORDER BY rank
"""


async def screen_whole_run(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    run: Any,
    run_id: uuid.UUID,
    ids: Sequence[str] | None,
    key: str,
    requirements: JobRequirements,
) -> dict[str, Any]:
    """Screen, rank and write a whole run in one transaction (see the module docstring); answer the
    chunk's result, with ``finished`` set once the run is DONE.

    ``ids`` None: the run is over the job's applications that are active when this job runs; its total
    becomes their count (applications withdrawn or added since the run was started are not or are in it).
    """
    from hub.services.screening_runs import (
        _RUNS,
        PROGRESS_STEPS,
        _claim,
        _claim_result,
        _screen,
        phase_ms,
        stored_result,
    )

    screen = ProfileScreen(requirements)
    clock = [time.perf_counter()]
    tag = uuid.uuid4().hex[:12]
    profiles, outcomes, screened = f"hub_profiles_{tag}", f"hub_outcomes_{tag}", f"hub_screened_{tag}"
    # One connection for the whole run: its temporary tables live as long as it (and no longer).
    async with db.engine.connect() as connection:
        try:
            async with db.session(tenant_id, bind=connection) as session:
                keys, stale, found = await _load(session, tenant_id, run.job_id, ids, screen, profiles)
                facts = await load_resumes(session, tenant_id, run.job_id, stale, with_text=False) if stale else []
                await session.commit()  # the temporary table stays; no transaction held open while NLP runs
            if facts:
                await vault.prepare(tenant_id)
            clock.append(time.perf_counter())
            extracted = extract_missing(facts, vault, tenant_id)
            clock.append(time.perf_counter())
            # One engine computation per distinct profile (a library of 80,000 has about a thousand).
            scored = [(k, n, screen.score(_parse_key(k))) for k, n in keys]
            outcome_lines = [
                _copy_line(k, eighths / 8, "t" if ok else "f", encoded) for k, _n, (eighths, ok, encoded) in scored
            ]
            stale_rows = _screen(facts, requirements, vault, tenant_id)
            screened_lines = [
                _copy_line(
                    row["application_id"], row["score"], "t" if row["passed"] else "f",
                    json.dumps(row["reasons"], ensure_ascii=False, separators=(",", ":")),
                    row["resume_id"], row["source_digest"], row["profile_key"],
                )
                for row in stale_rows
            ]  # fmt: skip
            passed = sum(n for _k, n, (_e, ok, _c) in scored if ok) + sum(1 for row in stale_rows if row["passed"])
            clock.append(time.perf_counter())
            fresh = sum(n for _k, n in keys)
            limit = (run.requirements or {}).get("shortlist_limit")
            shortlist = passed if limit is None else min(passed, int(limit))
            counts: dict[str, Any] = {
                "screened": fresh + len(stale_rows),
                "extracted": len(extracted),
                "cached": fresh + sum(1 for f in facts if f.features is not None) - len(extracted),
                "unavailable": sum(1 for f in facts if f.unavailable),
                "missing": 0 if ids is None else len(ids) - found,
                "profiles": fresh,
            }
            async with db.session(tenant_id, bind=connection) as session:
                if not await _claim(session, tenant_id, key, {"status": "ok", **counts}):
                    await session.rollback()
                    return await stored_result(session, tenant_id, key)
                await store_features(session, tenant_id, extracted)
                await _store_profiles(session, tenant_id, [f for f in facts if f not in extracted])
                driver = await _driver(session)
                await driver.execute(_WORK_MEM)
                await driver.execute(
                    f"CREATE TEMPORARY TABLE {outcomes} (k text PRIMARY KEY, score float8, passed bool,"
                    " profile_key text) ON COMMIT DROP"
                )
                await driver.execute(
                    f"CREATE TEMPORARY TABLE {screened} (app uuid, score float8, passed bool, reasons jsonb, rid uuid,"
                    " digest text, profile_key text) ON COMMIT DROP"
                )
                await _copy_into(session, f"COPY {outcomes} FROM STDIN", outcome_lines)
                await _copy_into(session, f"COPY {screened} FROM STDIN", screened_lines)
                now = utcnow()
                statement = _INSERT.format(
                    columns=", ".join(RESULT_COLUMNS), profiles=profiles, outcomes=outcomes, screened=screened
                )
                head, start = _uuid7_counter()
                async with driver.cursor() as cursor:
                    await cursor.execute(
                        statement,
                        {"head": head, "start": start, "tenant": tenant_id, "now": now, "run": run_id,
                         "best": emitted_count(shortlist)},
                    )  # fmt: skip
                    chosen = [(row_id, app_id, rank) for row_id, app_id, rank in await cursor.fetchall()]
                runs = _RUNS
                total = found if ids is None else len(ids)
                await session.execute(
                    update(runs)
                    .where(runs.c.tenant_id == tenant_id, runs.c.id == run_id)
                    .values(
                        total=total,
                        done=total,
                        status="DONE",
                        shortlist_size=shortlist,
                        finished_at=utcnow(),
                        updated_at=utcnow(),
                    )
                )
                data = {"job_id": str(run.job_id)}
                if PROGRESS_STEPS:
                    session.add(
                        m.Event(type="screening_run.progress", entity="screening_run", entity_id=run_id, data=data)
                    )
                session.add(
                    m.Event(type="screening_run.completed", entity="screening_run", entity_id=run_id, data=data)
                )
                # The shortlist's passed events: its best ranks (recommended results sort first).
                await add_passed_events(session, run_id, run.job_id, shortlist, chosen)
                await session.flush()
                clock.append(time.perf_counter())
                counts["ms"] = phase_ms(clock)
                result = {"status": "ok", **counts, "done": total, "total": total, "complete": True, "finished": "ok"}
                await _claim_result(session, tenant_id, key, result)
                await session.commit()
            return result
        finally:
            await _drop(connection, profiles)


async def _drop(connection: AsyncConnection, table: str) -> None:
    """Drop the run's temporary table before the connection goes back to the pool; a connection that cannot
    is closed instead (its temporary tables go with its session), never pooled with the table."""
    try:
        await connection.rollback()  # a transaction the error left open
        await connection.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await connection.commit()
    except Exception as exc:  # the original error, if any, is the one to report
        log.warning("closing a connection whose temporary table could not be dropped: %s", type(exc).__name__)
        await connection.invalidate()
