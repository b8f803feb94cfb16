"""Key rotation, KEK rotation and crypto-shredding for one tenant.

Rotating a data key, without downtime:

1. :func:`add_data_key` — a new key, ``DECRYPT_ONLY``. Wait for every process's vault cache
   to expire (``HUB``'s vault caches for 30 s), so all of them can read values under it.
2. :func:`promote_data_key` — the new key becomes primary; the old one decrypts only.
3. The re-encryption job (``hub.jobs.reencrypt_tenant``) rewrites every sealed column in
   batches with compare-and-set (``UPDATE ... WHERE value = old``), so a concurrent edit
   wins; it records its cursor after each batch, so a killed job resumes where it stopped.
4. :func:`retire_unused_keys` — once no stored value names an old key, it is retired.

Rotating the key-encryption key only re-wraps data keys and the blind-index root
(:func:`rewrap_tenant`). :func:`shred_tenant` deletes a tenant's keys: every ciphertext and
blind index of the tenant becomes unreadable for good.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, update

from hub.db import Database
from hub.db import models as m
from hub.services.crypto import _INDEX_CONTEXT, _to_policy_key
from hub.services.store import ENTITIES, PERSONAL_FIELDS
from policies import DataKey, KeyRing, KeyStatus, LocalKek

__all__ = [
    "SEALED_COLUMNS",
    "add_data_key",
    "key_usage",
    "load_ring",
    "promote_data_key",
    "reencrypt_batch",
    "retire_unused_keys",
    "rewrap_tenant",
    "shred_tenant",
]

#: (entity, model, column) for every column that may hold a ciphertext token, in a fixed order.
SEALED_COLUMNS: list[tuple[str, Any, str]] = [
    (entity, ENTITIES[entity], field) for entity, fields in PERSONAL_FIELDS.items() for field in fields
]


async def load_ring(session: Any, tenant_id: uuid.UUID, kek: LocalKek) -> KeyRing:
    rows = (await session.scalars(select(m.DataKey))).all()
    return KeyRing(str(tenant_id), [_to_policy_key(r) for r in rows], kek)


async def _persist(session: Any, records: list[DataKey]) -> None:
    existing = {r.key_id: r for r in (await session.scalars(select(m.DataKey))).all()}
    for record in records:
        row = existing.get(record.key_id)
        if row is None:
            session.add(
                m.DataKey(
                    key_id=record.key_id, status=record.status.value, kek_id=record.kek_id, wrapped=record.wrapped
                )
            )
        else:
            row.status, row.kek_id, row.wrapped = record.status.value, record.kek_id, record.wrapped


async def add_data_key(db: Database, kek: LocalKek, tenant_id: uuid.UUID) -> str:
    async with db.session(tenant_id) as session:
        ring = await load_ring(session, tenant_id, kek)
        record = ring.generate()
        await _persist(session, [record])
        await session.commit()
    return record.key_id


async def promote_data_key(db: Database, kek: LocalKek, tenant_id: uuid.UUID, key_id: str) -> None:
    async with db.session(tenant_id) as session:
        ring = await load_ring(session, tenant_id, kek)
        await _persist(session, ring.promote(key_id))
        await session.commit()


async def key_usage(db: Database, tenant_id: uuid.UUID) -> dict[str, int]:
    """How many stored values name each data key (the proof before a key is retired)."""
    usage: dict[str, int] = {}
    async with db.session(tenant_id) as session:
        keys = [r.key_id for r in (await session.scalars(select(m.DataKey))).all()]
        for key_id in keys:
            total = 0
            for _entity, model, column in SEALED_COLUMNS:
                col = getattr(model, column)
                total += (
                    await session.execute(
                        select(func.count()).select_from(model).where(col.like(f"enc:v1:A256GCM:{key_id}:%"))
                    )
                ).scalar_one()
            usage[key_id] = total
    return usage


async def retire_unused_keys(db: Database, kek: LocalKek, tenant_id: uuid.UUID) -> list[str]:
    usage = await key_usage(db, tenant_id)
    retired = []
    async with db.session(tenant_id) as session:
        ring = await load_ring(session, tenant_id, kek)
        changed = []
        for record in ring.keys:
            if record.status is KeyStatus.DECRYPT_ONLY and usage.get(record.key_id, 0) == 0:
                changed.append(ring.retire(record.key_id))
                retired.append(record.key_id)
        await _persist(session, changed)
        await session.commit()
    return retired


async def reencrypt_batch(
    db: Database, vault: Any, tenant_id: uuid.UUID, cursor: dict[str, Any], *, batch_size: int = 200
) -> tuple[dict[str, Any] | None, int]:
    """Rewrite one batch onto the primary key; answer (next cursor or None when done, rows changed)."""
    protection = vault.protection(tenant_id)
    cipher = protection.cipher
    index = cursor.get("column", 0)
    if cipher is None or index >= len(SEALED_COLUMNS):
        return None, 0
    entity, model, column = SEALED_COLUMNS[index]
    table = model.__table__
    col = table.c[column]
    after = uuid.UUID(cursor["after"]) if cursor.get("after") else None
    stmt = select(table.c.id, col).where(table.c.tenant_id == tenant_id, col.like("enc:%")).order_by(table.c.id)
    if after is not None:
        stmt = stmt.where(table.c.id > after)
    changed = 0
    async with db.session(tenant_id) as session:
        connection = await session.connection()
        rows = (await connection.execute(stmt.limit(batch_size))).all()
        for row_id, token in rows:
            if not cipher.needs_reencryption(token):
                continue
            new = cipher.reencrypt(token, tenant_id=str(tenant_id), entity=entity, field=column, record_id=str(row_id))
            result = await connection.execute(
                update(table)
                .where(table.c.tenant_id == tenant_id, table.c.id == row_id, col == token)
                .values({column: new})
            )
            changed += result.rowcount  # 0: a concurrent edit won; it wrote under the primary already
        await session.commit()
    if len(rows) < batch_size:
        return {"column": index + 1, "after": None}, changed
    return {"column": index, "after": str(rows[-1][0])}, changed


async def rewrap_tenant(db: Database, old: LocalKek, new: LocalKek, tenant_id: uuid.UUID) -> int:
    """KEK rotation: re-wrap data keys and the blind-index root; ciphertexts stay as they are."""
    async with db.session(tenant_id) as session:
        ring = await load_ring(session, tenant_id, old)
        changed = ring.rewrap(new)
        await _persist(session, changed)
        tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.id == tenant_id))).one()
        if tenant.index_key is not None:
            context = _INDEX_CONTEXT + str(tenant_id).encode()
            tenant.index_key = new.wrap(old.unwrap(tenant.index_key, context=context), context=context)
        await session.commit()
    return len(changed)


async def shred_tenant(db: Database, tenant_id: uuid.UUID) -> int:
    """Crypto-shredding: delete the tenant's data keys and index key."""
    async with db.session(tenant_id) as session:
        count = (await session.execute(delete(m.DataKey))).rowcount
        tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.id == tenant_id))).one()
        tenant.index_key = None
        await session.execute(delete(m.BlindIndex))
        await session.commit()
    return count
