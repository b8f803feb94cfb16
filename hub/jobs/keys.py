"""Key jobs: re-encrypting a tenant's sealed columns onto its primary data key."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.jobs.runtime import idempotent, settings
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.keys import reencrypt_batch, retire_unused_keys

__all__ = ["reencrypt_tenant"]


async def _save_cursor(db: Database, tenant: uuid.UUID, key: str, cursor: dict[str, Any], changed: int) -> None:
    async with db.session(tenant) as session:
        run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
        progress = dict(run.result or {})
        progress["cursor"] = cursor
        progress["changed"] = progress.get("changed", 0) + changed
        run.result = progress
        await session.commit()


async def _load_cursor(db: Database, tenant: uuid.UUID, key: str) -> tuple[dict[str, Any], int]:
    async with db.session(tenant) as session:
        run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).first()
    progress = (run.result or {}) if run is not None else {}
    return dict(progress.get("cursor") or {"column": 0, "after": None}), int(progress.get("changed", 0))


def reencrypt_tenant(
    tenant_id: str,
    *,
    idempotency_key: str,
    batch_size: int = 200,
    settle_seconds: float = 30.0,
    max_batches: int | None = None,
) -> dict[str, Any]:
    """Rewrite every sealed value of the tenant onto its primary key, then retire unused keys.

    Resumable: the cursor is saved after each batch in the job's ``job_runs`` row, so a
    killed run (or one stopped by ``max_batches``) continues where it stopped. Before the
    final pass it waits ``settle_seconds`` (the vault cache lifetime), so no process still
    encrypts with the previous primary when keys are retired.
    """
    config = settings()
    kek = kek_from_settings(config)
    if kek is None:
        return {"status": "no-kek"}

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        vault = PolicyVault(db, kek, cache_seconds=0)
        await vault.prepare(tenant)
        cursor, changed = await _load_cursor(db, tenant, idempotency_key)
        batches = 0
        while cursor is not None:
            if max_batches is not None and batches >= max_batches:
                raise InterruptedError("stopped after max_batches (simulated crash); resume to continue")
            next_cursor, n = await reencrypt_batch(db, vault, tenant, cursor, batch_size=batch_size)
            changed += n
            batches += 1
            if next_cursor is not None:
                await _save_cursor(db, tenant, idempotency_key, next_cursor, n)
            cursor = next_cursor
        await asyncio.sleep(settle_seconds)
        cursor = {"column": 0, "after": None}  # final pass: values written meanwhile under an old key
        while cursor is not None:
            cursor, n = await reencrypt_batch(db, vault, tenant, cursor, batch_size=batch_size)
            changed += n
        retired = await retire_unused_keys(db, kek, tenant)
        return {"status": "ok", "changed": changed, "retired": retired}

    return idempotent(tenant_id, idempotency_key, "hub.jobs.reencrypt_tenant", body)
