"""The audit trail: who read or changed which personal field of whom, hash-chained.

During a request the :class:`AuditTrail` collects reads and writes; :meth:`AuditTrail.flush`
appends them before the response leaves, one entry per (action, entity, field, outcome)
with the record ids in ``detail`` (ids only, never values). Appends of one tenant are
serialized (a PostgreSQL advisory lock on the tenant), so the chain never forks;
:func:`verify_tenant` re-checks every link and finds a modified, deleted or inserted row.

Concurrent requests of one process share appends through :class:`AuditWriter` (group
commit): each request still waits until its entries are committed before it answers, but
the requests that arrive while one append is in flight are written together in the next.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, select, text

from hub.db import Database
from hub.db import models as m
from policies import AuditEntry, ChainVerdict, next_entry, verify_chain
from policies.audit import ChainAnchor
from schema.context import Viewer

__all__ = ["AuditTrail", "AuditWriter", "append_entries", "verify_tenant"]


def _lock_key(tenant_id: uuid.UUID) -> int:
    return int.from_bytes(tenant_id.bytes[:8], "big", signed=True)


async def append_entries(db: Database, tenant_id: uuid.UUID, items: list[dict[str, Any]]) -> None:
    """Seal ``items`` onto the tenant's chain and store them, atomically (Core statements: one
    read of the chain's head, one multi-row insert)."""
    if not items:
        return
    table = m.AuditLog.__table__
    async with db.session(tenant_id) as session:
        if db.url.startswith("postgresql"):
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(tenant_id)})
        head_row = (
            await session.execute(
                select(table.c.seq, table.c.hash)
                .where(table.c.tenant_id == tenant_id)
                .order_by(table.c.seq.desc())
                .limit(1)
            )
        ).first()
        head: Any = ChainAnchor(seq=head_row.seq, hash=head_row.hash) if head_row else None
        rows = []
        for item in items:
            entry = next_entry(head, tenant_id=str(tenant_id), **item)
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "seq": entry.seq,
                    "at": entry.at,
                    "actor": entry.actor,
                    "action": entry.action.value,
                    "entity": entry.entity,
                    "record_id": entry.record_id,
                    "field": entry.field,
                    "outcome": entry.outcome.value,
                    "detail": entry.detail,
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                }
            )
            head = entry
        await session.execute(insert(table), rows)
        await session.commit()


def _entry(row: m.AuditLog) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        tenant_id=str(row.tenant_id),
        at=row.at,
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        record_id=row.record_id,
        field=row.field,
        outcome=row.outcome,
        detail=row.detail,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


async def verify_tenant(db: Database, tenant_id: uuid.UUID) -> ChainVerdict:
    async with db.session(tenant_id) as session:
        rows = (await session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))).all()
    return verify_chain([_entry(r) for r in rows])


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


class AuditWriter:
    """Group commit for audit appends: one transaction per tenant for every request waiting.

    :meth:`append` returns once the entries are committed (or raises what the append
    raised). While an append runs, new requests queue; the next append takes all of them,
    so under load a request pays a fraction of an append instead of a whole one. A request
    cancelled while waiting does not take its entries back: they are written regardless.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: list[tuple[uuid.UUID, list[dict[str, Any]], asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None

    async def append(self, tenant_id: uuid.UUID, items: list[dict[str, Any]]) -> None:
        if not items:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        future.add_done_callback(_retrieved)  # a cancelled request's failure is not "never retrieved"
        self._queue.append((tenant_id, items, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="audit-writer")
        await asyncio.shield(future)

    async def _run(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            by_tenant: dict[uuid.UUID, list[tuple[list[dict[str, Any]], asyncio.Future[None]]]] = defaultdict(list)
            for tenant_id, items, future in batch:
                by_tenant[tenant_id].append((items, future))
            for tenant_id, waiting in by_tenant.items():
                try:
                    await append_entries(self.db, tenant_id, [item for items, _ in waiting for item in items])
                except Exception as error:  # each waiting request gets the failure of its append
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(error)
                else:
                    for _, future in waiting:
                        if not future.done():
                            future.set_result(None)

    async def close(self) -> None:
        """Wait for appends in flight (at shutdown)."""
        if self._task is not None and not self._task.done():
            await self._task


class AuditTrail:
    """Collects one request's audited reads and writes."""

    def __init__(self, db: Database, viewer: Viewer, *, writer: AuditWriter | None = None) -> None:
        self.db = db
        self.viewer = viewer
        self.writer = writer
        self._records: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)

    def record(self, action: str, entity: str, field: str, record_id: Any, *, allowed: bool) -> None:
        self._records[(action, entity, field, "allowed" if allowed else "denied")].add(str(record_id))

    def admin(self, entity: str, detail: str, record_id: str | None = None) -> None:
        self._records[("admin", entity, "", "allowed")].add(f"{record_id or ''}|{detail}")

    async def flush(self) -> None:
        if not self._records:
            return
        items = []
        for (action, entity, field, outcome), ids in sorted(self._records.items()):
            ordered = sorted(ids)
            items.append(
                {
                    "actor": self.viewer.actor,
                    "action": action,
                    "entity": entity,
                    "field": field or None,
                    "outcome": outcome,
                    "record_id": ordered[0] if len(ordered) == 1 and action != "admin" else None,
                    "detail": ("records=" + ",".join(ordered)) if action != "admin" else ";".join(ordered),
                }
            )
        self._records.clear()
        if self.writer is not None:
            await self.writer.append(self.viewer.tenant_id, items)
        else:
            await append_entries(self.db, self.viewer.tenant_id, items)
