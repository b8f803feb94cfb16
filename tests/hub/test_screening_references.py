"""The references of screening results to their run and application, on PostgreSQL (migration 0012).

They are checked once per statement instead of by two row-by-row foreign keys; these tests hold them to
what the foreign keys guaranteed: a missing run or application refuses the whole statement (SQLSTATE
23503, the former constraint named), deleting a run, an application (directly or by cascade from its
candidate or job) or a tenant deletes the results, a result cannot be moved to a missing run or application,
a referenced id cannot change, and a delete racing an uncommitted insert either waits for it and removes its
rows too or makes it fail, never leaving a result behind.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg import errors

from hub.db.base import new_id
from tests.conftest import ADMIN_PG_URL, _libpq
from tests.factories import make_tenant

RESULT = """INSERT INTO screening_results (id, tenant_id, run_id, application_id, score, passed, reasons)
            VALUES (%s, %s, %s, %s, 50, true, '[]')"""


@pytest.fixture
async def pg(pg_url: str) -> AsyncIterator[Any]:
    """Opens connections of their own to the session's database (closed after the test)."""
    opened: list[psycopg.AsyncConnection[Any]] = []

    async def open_() -> psycopg.AsyncConnection[Any]:
        opened.append(await psycopg.AsyncConnection.connect(_libpq(pg_url)))
        return opened[-1]

    yield open_
    for conn in opened:
        await conn.close()


@pytest.fixture
async def world(db: Any, pg: Any) -> AsyncIterator[dict[str, Any]]:
    """A tenant with one job, two candidates applying to it, and a screening run of the job."""
    tenant = await make_tenant(db)
    conn = await pg()
    job, run = new_id(), new_id()
    candidates = [new_id(), new_id()]
    applications = [new_id(), new_id()]
    await conn.execute(
        "INSERT INTO jobs (id, tenant_id, title, status, requirements, stages, automation)"
        " VALUES (%s, %s, 'Engineer', 'OPEN', '{}', '[]', '{}')",
        (job, tenant),
    )
    for candidate, application in zip(candidates, applications, strict=True):
        await conn.execute(
            "INSERT INTO candidates (id, tenant_id, tags, consent) VALUES (%s, %s, '[]', '[]')", (candidate, tenant)
        )
        await conn.execute(
            "INSERT INTO applications (id, tenant_id, candidate_id, job_id, stage, outcome, stage_count)"
            " VALUES (%s, %s, %s, %s, 'APPLIED', 'ACTIVE', 0)",
            (application, tenant, candidate, job),
        )
    await conn.execute(
        "INSERT INTO screening_runs (id, tenant_id, job_id, status, requirements, total, done)"
        " VALUES (%s, %s, %s, 'RUNNING', '{}', 2, 0)",
        (run, tenant, job),
    )
    await conn.commit()
    yield {
        "tenant": tenant, "job": job, "run": run, "candidates": candidates, "applications": applications, "conn": conn
    }  # fmt: skip
    await conn.execute("DELETE FROM tenants WHERE id = %s", (tenant,))
    await conn.commit()


async def _insert(conn: Any, world: dict[str, Any], *applications: uuid.UUID, run: uuid.UUID | None = None) -> None:
    async with conn.cursor() as cursor:
        await cursor.executemany(RESULT, [(new_id(), world["tenant"], run or world["run"], a) for a in applications])


async def _count(conn: Any, world: dict[str, Any]) -> int:
    row = await (
        await conn.execute("SELECT count(*) FROM screening_results WHERE tenant_id = %s", (world["tenant"],))
    ).fetchone()
    await conn.commit()
    return int(row[0])


async def test_results_of_existing_runs_and_applications_are_written(world: dict[str, Any]) -> None:
    conn = world["conn"]
    await _insert(conn, world, *world["applications"])
    await conn.commit()
    assert await _count(conn, world) == 2


async def test_a_missing_application_refuses_the_whole_statement(world: dict[str, Any]) -> None:
    conn, missing = world["conn"], new_id()
    rows = [(new_id(), world["tenant"], world["run"], a) for a in (*world["applications"], missing)]
    values = ", ".join(["(%s, %s, %s, %s, 50, true, '[]')"] * len(rows))
    with pytest.raises(errors.ForeignKeyViolation) as caught:
        await conn.execute(
            "INSERT INTO screening_results (id, tenant_id, run_id, application_id, score, passed, reasons)"
            f" VALUES {values}",
            [v for row in rows for v in row],
        )
    await conn.rollback()
    assert caught.value.diag.constraint_name == "fk_screening_results_application_id_applications"
    assert str(missing) in (caught.value.diag.message_detail or "")
    assert await _count(conn, world) == 0  # the existing applications' rows went with it


async def test_a_missing_run_is_refused(world: dict[str, Any]) -> None:
    conn, missing = world["conn"], new_id()
    with pytest.raises(errors.ForeignKeyViolation) as caught:
        await _insert(conn, world, world["applications"][0], run=missing)
    await conn.rollback()
    assert caught.value.diag.constraint_name == "fk_screening_results_run_id_screening_runs"
    assert str(missing) in (caught.value.diag.message_detail or "")
    assert await _count(conn, world) == 0


async def test_moving_a_result_checks_where_it_goes(world: dict[str, Any]) -> None:
    conn = world["conn"]
    first, second = world["applications"]
    await _insert(conn, world, first)
    await conn.commit()
    for column, value in (("application_id", new_id()), ("run_id", new_id())):
        with pytest.raises(errors.ForeignKeyViolation):
            await conn.execute(
                f"UPDATE screening_results SET {column} = %s WHERE tenant_id = %s", (value, world["tenant"])
            )
        await conn.rollback()
    await conn.execute(
        "UPDATE screening_results SET application_id = %s WHERE tenant_id = %s", (second, world["tenant"])
    )
    await conn.execute("UPDATE screening_results SET rank = 1 WHERE tenant_id = %s", (world["tenant"],))  # others: free
    await conn.commit()
    row = await (
        await conn.execute("SELECT application_id FROM screening_results WHERE tenant_id = %s", (world["tenant"],))
    ).fetchone()
    assert row[0] == second


async def test_a_referenced_id_cannot_change(world: dict[str, Any]) -> None:
    conn = world["conn"]
    first, second = world["applications"]
    await _insert(conn, world, first)
    await conn.commit()
    for table, key in (("applications", first), ("screening_runs", world["run"])):
        with pytest.raises(errors.ForeignKeyViolation):
            await conn.execute(f"UPDATE {table} SET id = %s WHERE id = %s", (new_id(), key))
        await conn.rollback()
    # an application no result names may still change its id (as under NO ACTION)
    await conn.execute("UPDATE applications SET id = %s WHERE id = %s", (new_id(), second))
    await conn.rollback()


async def test_deleting_what_results_refer_to_deletes_the_results(world: dict[str, Any]) -> None:
    conn = world["conn"]
    first, second = world["applications"]
    await _insert(conn, world, first, second)
    await conn.commit()
    # a candidate's erasure cascades to its application, and from there to its results
    await conn.execute("DELETE FROM candidates WHERE id = %s", (world["candidates"][0],))
    await conn.commit()
    rows = await (
        await conn.execute("SELECT application_id FROM screening_results WHERE tenant_id = %s", (world["tenant"],))
    ).fetchall()
    assert [r[0] for r in rows] == [second]
    # a run's deletion takes its results
    await conn.execute("DELETE FROM screening_runs WHERE id = %s", (world["run"],))
    await conn.commit()
    assert await _count(conn, world) == 0
    # a job's: its runs' and its applications' results (both paths in one cascade)
    run = new_id()
    await conn.execute(
        "INSERT INTO screening_runs (id, tenant_id, job_id, status, requirements, total, done)"
        " VALUES (%s, %s, %s, 'RUNNING', '{}', 1, 0)",
        (run, world["tenant"], world["job"]),
    )
    await _insert(conn, world, second, run=run)
    await conn.commit()
    await conn.execute("DELETE FROM jobs WHERE id = %s", (world["job"],))
    await conn.commit()
    assert await _count(conn, world) == 0


async def test_a_delete_waits_for_an_uncommitted_insert_and_removes_its_rows(world: dict[str, Any], pg: Any) -> None:
    writer, deleter = world["conn"], await pg()
    await _insert(writer, world, *world["applications"])  # uncommitted: the applications are locked
    delete = asyncio.create_task(deleter.execute("DELETE FROM candidates WHERE id = %s", (world["candidates"][0],)))
    await asyncio.sleep(0.5)
    assert not delete.done()  # waits for the writer, as under a foreign key
    await writer.commit()
    await asyncio.wait_for(delete, 10)
    await deleter.commit()
    rows = await (
        await writer.execute("SELECT application_id FROM screening_results WHERE tenant_id = %s", (world["tenant"],))
    ).fetchall()
    await writer.commit()
    assert [r[0] for r in rows] == [world["applications"][1]]  # the deleted application's new result went too


async def test_an_insert_after_an_uncommitted_delete_waits_and_fails(world: dict[str, Any], pg: Any) -> None:
    writer, deleter = world["conn"], await pg()
    await deleter.execute("DELETE FROM screening_runs WHERE id = %s", (world["run"],))  # uncommitted
    insert = asyncio.create_task(_insert(writer, world, world["applications"][0]))
    await asyncio.sleep(0.5)
    assert not insert.done()
    await deleter.commit()
    with pytest.raises(errors.ForeignKeyViolation):
        await asyncio.wait_for(insert, 10)
    await writer.rollback()
    assert await _count(writer, world) == 0


async def test_a_tenant_deletion_takes_its_results(world: dict[str, Any], pg: Any) -> None:
    conn = world["conn"]
    await _insert(conn, world, *world["applications"])
    await conn.commit()
    await conn.execute("DELETE FROM tenants WHERE id = %s", (world["tenant"],))
    await conn.commit()
    assert await _count(conn, world) == 0


def test_the_migration_goes_down_to_the_foreign_keys_and_up_again() -> None:
    from alembic import command

    from hub.db.migrate import alembic_config, upgrade

    name = f"hub_test_refs_{new_id().hex[-8:]}"
    admin = _libpq(ADMIN_PG_URL)
    url = f"{ADMIN_PG_URL.rpartition('/')[0]}/{name}"
    references = (
        "SELECT (SELECT array_agg(conname::text ORDER BY conname) FROM pg_constraint"
        "        WHERE conrelid = 'screening_results'::regclass AND contype = 'f'),"
        "       (SELECT array_agg(tgname::text ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal"
        "        AND tgrelid IN ('screening_results'::regclass, 'applications'::regclass, 'screening_runs'::regclass))"
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        command.downgrade(alembic_config(url), "0011_features_without_quotes")
        with psycopg.connect(_libpq(url)) as conn:
            keys, triggers = conn.execute(references).fetchone() or (None, None)
        assert keys == [
            "fk_screening_results_application_id_applications", "fk_screening_results_run_id_screening_runs"
        ] and triggers is None  # fmt: skip
        upgrade(url)
        with psycopg.connect(_libpq(url)) as conn:
            keys, triggers = conn.execute(references).fetchone() or (None, None)
        assert keys is None and len(triggers) == 6
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
