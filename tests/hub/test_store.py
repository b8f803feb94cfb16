"""The store: tenant scoping in the ORM, and a constant number of statements per page."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import event, select

from hub.db import Database
from hub.db import models as m
from hub.errors import TenantScopeError
from hub.http.graphql import GraphQLEndpoint
from hub.runtime import Runtime
from hub.settings import Settings
from schema.context import Viewer
from tests.factories import make_tenant, open_store


def _viewer(tenant_id: uuid.UUID, *roles: str) -> Viewer:
    return Viewer(principal_id=uuid.uuid4(), tenant_id=tenant_id, kind="user", name="t", roles=frozenset(roles))


async def test_query_without_tenant_context_fails(db: Database) -> None:
    async with db._sessions() as session:
        with pytest.raises(TenantScopeError):
            await session.scalars(select(m.Candidate))


async def test_rows_of_another_tenant_are_invisible(db: Database, settings: Settings) -> None:
    a, b = await make_tenant(db), await make_tenant(db)
    async with open_store(db, settings, a) as store:
        row = await store.create("job", {"title": "A's job"})
    async with db.session(b) as session:
        assert (await session.scalars(select(m.Job).where(m.Job.id == row.id))).first() is None
    async with open_store(db, settings, b) as store:
        assert await store.rows_by_ids("job", [row.id]) == [None]


async def test_writing_a_row_into_another_tenant_fails(db: Database) -> None:
    a, b = await make_tenant(db), await make_tenant(db)
    async with db.session(a) as session:
        session.add(m.Job(title="smuggled", tenant_id=b))
        with pytest.raises(TenantScopeError):
            await session.flush()


DASHBOARD = """
query { candidates(first: 50) { totalCount edges { node { id firstName lastName emails
  applications { stage job { title } history { toStage } latestEvaluation { total } } } } } }
"""


@pytest.mark.parametrize("count", [5, 50])
async def test_dashboard_statement_count_is_constant(runtime: Runtime, count: int) -> None:
    tenant = await make_tenant(runtime.db)
    viewer = _viewer(tenant, "hr")
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        jobs = [await store.create("job", {"title": f"job {i}", "stages": ["APPLIED", "SCREENING"]}) for i in range(3)]
        for i in range(count):
            cand = await store.create("candidate", {"first_name": f"c{i}", "emails": [f"c{i}@example.com"]})
            for job in jobs[: 1 + i % 3]:
                await store.create("application", {"candidate_id": cand.id, "job_id": job.id})
    statements: list[str] = []

    def count_statement(*args: Any) -> None:
        statements.append(args[2])

    await runtime.vault.prepare(tenant)  # keys and policy load once per tenant, then stay cached
    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", count_statement)
    try:
        body, _ = await GraphQLEndpoint(runtime).execute(viewer, {"query": DASHBOARD})
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", count_statement)
    assert "errors" not in body, body
    assert body["data"]["candidates"]["totalCount"] == count
    # reads: page (with its total) + applications + jobs + history + evaluations;
    # audit of the personal reads: tenant lock + chain head + one insert — whatever the page size
    reads = [s for s in statements if "audit_log" not in s and "advisory" not in s]
    assert len(reads) == 5, reads
    assert len(statements) == 8, statements
