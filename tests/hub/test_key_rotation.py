"""Data-key rotation under concurrent reads and writes, with the re-encryption job killed
and resumed: no failed read, no lost update, no row left on the old key."""

from __future__ import annotations

import asyncio
import random
import uuid

import pytest
from sqlalchemy import select

from hub import jobs
from hub.db import models as m
from hub.http.graphql import GraphQLEndpoint
from hub.jobs.runtime import release_thread
from hub.runtime import Runtime
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.keys import add_data_key, key_usage, promote_data_key
from hub.services.store import SqlStore
from hub.settings import Settings
from tests.factories import make_actor, make_tenant

PAGE = (
    "query($after: String) { candidates(first: 100, after: $after) { pageInfo { hasNextPage endCursor } "
    "edges { node { id phones emails firstName } } } }"
)


def _run_job(tenant: uuid.UUID, key: str, **kwargs: object) -> dict:
    try:
        return jobs.reencrypt_tenant(str(tenant), idempotency_key=key, batch_size=50, settle_seconds=0.5, **kwargs)
    finally:
        release_thread()


async def test_rotation_with_concurrent_traffic_and_a_killed_job(settings: Settings) -> None:
    runtime = Runtime.create(settings)
    runtime.vault = PolicyVault(runtime.db, kek_from_settings(settings), cache_seconds=0.2)
    jobs.configure(settings)
    try:
        tenant = await make_tenant(runtime.db)
        hr = await make_actor(runtime.db, settings, tenant, "hr")
        viewer = await runtime.auth.authenticate(f"Bearer {hr.token}")
        await runtime.vault.prepare(tenant)
        ids = []
        async with runtime.db.session(tenant) as session:
            store = SqlStore(session, viewer, runtime.vault)
            for i in range(240):
                row = await store.create(
                    "candidate",
                    {"first_name": f"c{i}", "emails": [f"c{i}@example.com"], "phones": [f"+86-138-0000-{i:04d}"]},
                )
                ids.append(row.id)
        kek = kek_from_settings(settings)
        assert kek is not None
        old_key = runtime.vault.protection(tenant).cipher.keyring.primary.key_id  # type: ignore[union-attr]
        new_key = await add_data_key(runtime.db, kek, tenant)
        await asyncio.sleep(0.3)  # every process has seen the decrypt-only key
        await promote_data_key(runtime.db, kek, tenant, new_key)

        stop = asyncio.Event()
        last_written: dict[uuid.UUID, str] = {}
        failures: list[object] = []

        async def writer() -> None:
            rng = random.Random(7)
            n = 0
            while not stop.is_set():
                target = rng.choice(ids)
                phone = f"+86-139-{n:04d}-{rng.randint(1000, 9999)}"
                await runtime.vault.prepare(tenant)
                async with runtime.db.session(tenant) as session:
                    await SqlStore(session, viewer, runtime.vault).update("candidate", target, {"phones": [phone]})
                last_written[target] = phone
                n += 1
                await asyncio.sleep(0.005)

        async def reader() -> None:
            endpoint = GraphQLEndpoint(runtime)
            while not stop.is_set():
                after = None
                while True:
                    body, _ = await endpoint.execute(viewer, {"query": PAGE, "variables": {"after": after}})
                    if "errors" in body:
                        failures.append(body["errors"])
                        return
                    page = body["data"]["candidates"]
                    if not page["pageInfo"]["hasNextPage"]:
                        break
                    after = page["pageInfo"]["endCursor"]

        tasks = [asyncio.create_task(writer()), asyncio.create_task(reader())]
        key = f"reencrypt:{new_key}"
        with pytest.raises(InterruptedError):  # the worker dies after one batch
            await asyncio.to_thread(_run_job, tenant, key, max_batches=1)
        async with runtime.db.session(tenant) as session:
            run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
            assert run.status == "RUNNING" and run.result["cursor"] is not None
        result = await asyncio.to_thread(_run_job, tenant, key)  # resumed
        stop.set()
        await asyncio.gather(*tasks)

        assert failures == []
        assert result["status"] == "ok" and old_key in result["retired"]
        usage = await key_usage(runtime.db, tenant)
        assert usage[old_key] == 0 and usage[new_key] > 0
        async with runtime.db.session(tenant) as session:
            status = {r.key_id: r.status for r in (await session.scalars(select(m.DataKey))).all()}
        assert status == {old_key: "RETIRED", new_key: "ACTIVE_PRIMARY"}
        runtime.vault.invalidate()
        await runtime.vault.prepare(tenant)
        endpoint = GraphQLEndpoint(runtime)
        for candidate_id, phone in last_written.items():  # no update was lost
            from schema.relay import encode_global_id

            body, _ = await endpoint.execute(
                viewer,
                {
                    "query": "query($id: ID!) { node(id: $id) { ... on Candidate { phones } } }",
                    "variables": {"id": encode_global_id("Candidate", candidate_id)},
                },
            )
            assert body["data"]["node"]["phones"] == [phone]
        assert len(last_written) > 10
    finally:
        await runtime.close()
