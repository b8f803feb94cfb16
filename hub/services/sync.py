"""Sync: one connection's model read from its upstream into the hub, page by page.

A run is a ``SyncRun`` row (created QUEUED by `start_sync`, for ``triggerSync`` and the CLI) that a job
executes with `run_sync`:

- **incremental** reads start at the model's stored watermark (``SyncState.watermark``, the newest
  ``updated_at`` a completed run saw); **full** reads start from nothing and, when complete, mark every
  provenance link they did not see as deleted upstream (``remote_deleted_at`` and a
  ``<entity>.remote_deleted`` event). A run becomes full by request (``full``), on the first sync, or when
  the last full read is older than the connection setting ``full_sync_hours`` (default 24). Deletion
  detection is off for approvals (the OA list APIs only cover a time window) unless the connection sets
  ``detect_deletions: true``;
- each page is one transaction: records normalize and upsert (`hub.services.upsert`), the ones that do not
  go to quarantine (`hub.services.quarantine`) and the run's cursor and counts move on, so a killed or
  failed run resumes at the page it stopped on and nothing is half-written;
- statuses per connection and model (``SyncState.status``): SYNCING while a run reads, DONE, PARTIALLY_SYNCED
  (some records were quarantined), FAILED (``last_error`` says why, with the error's code), PAUSED (no run
  reads until resumed: `set_paused`);
- the upstream is read through the connection's connector (`hub.services.connections.open_connector`):
  retries with backoff honouring ``Retry-After``, the shared circuit breaker, timeouts.

On PostgreSQL a run holds an advisory lock on (connection, model); a second run of the same model meanwhile
is SKIPPED.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from connectors.base import Capability, Connector, Page, RawItem
from connectors.errors import ConnectorError, NormalizationError
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.canonical_values import ENTITY_OF, MODEL_ORDER, TABLES
from hub.services.connections import ConnectorFailed, get_connection, open_connector, save_breaker
from hub.services.connector_kinds import connector_class
from hub.services.quarantine import quarantine, replay_unresolved, resolve_quarantined
from hub.services.upsert import BatchResult, Item, Upserter
from hub.services.vault import Vault
from schema.errors import Conflict, ValidationFailed

__all__ = ["SYNC_STATUSES", "readable_models", "run_sync", "set_paused", "start_sync"]

SYNC_STATUSES = ("SYNCING", "DONE", "PARTIALLY_SYNCED", "FAILED", "PAUSED")
LINKS = m.RemoteLink.__table__
#: A run ANALYZEs the tables it fills once it created this many rows, then each time the count doubles
#: (PostgreSQL; see `_analyze`).
_ANALYZE_FIRST = 500
_COUNTS = ("read", "created", "updated", "unchanged", "deleted", "skipped", "quarantined")


def readable_models(cls: type[Connector]) -> list[str]:
    """The models a connector reads, in the order references need (`MODEL_ORDER`)."""
    models = [model for model in cls.capabilities if cls.supports(model, Capability.READ) and model in ENTITY_OF]
    return sorted(models, key=lambda name: MODEL_ORDER.index(name))


async def start_sync(
    db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, models: Sequence[str] | None, *, full: bool
) -> list[m.SyncRun]:
    """Create QUEUED runs for the models (default: every readable one), in dependency order.

    Raises:
        NotFound: unknown connection. ValidationFailed: a model the connector does not read.
        Conflict: the connection is not ACTIVE.
    """
    connection = await get_connection(db, tenant_id, connection_id)
    if connection.status != "ACTIVE":
        raise Conflict(f"the connection is {connection.status}; resume it first", field="connection_id")
    readable = readable_models(await connector_class(db, tenant_id, connection.connector_kind))
    wanted = list(dict.fromkeys(models)) if models else readable
    unknown = [model for model in wanted if model not in readable]
    if unknown:
        raise ValidationFailed(
            f"{connection.connector_kind} does not read {', '.join(unknown)}; it reads {', '.join(readable)}",
            field="models",
        )
    wanted.sort(key=lambda name: MODEL_ORDER.index(name))
    runs = [
        m.SyncRun(
            id=new_id(),
            connection_id=connection_id,
            model=model,
            mode="full" if full else "incremental",
            status="QUEUED",
            stats={},
        )
        for model in wanted
    ]
    async with db.session(tenant_id) as session:
        session.add_all(runs)
        await session.commit()
    return runs


async def set_paused(
    db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, model: str | None, paused: bool
) -> list[m.SyncState]:
    """Pause (or resume) syncing one model, or every model when ``model`` is None."""
    connection = await get_connection(db, tenant_id, connection_id)
    models = [model] if model else readable_models(await connector_class(db, tenant_id, connection.connector_kind))
    async with db.session(tenant_id) as session:
        states = []
        for name in models:
            state = await _state(session, connection_id, name)
            if paused:
                state.status = "PAUSED"
            elif state.status == "PAUSED":
                state.status = "DONE"
            states.append(state)
        await session.commit()
    return states


async def _state(session: Any, connection_id: uuid.UUID, model: str) -> m.SyncState:
    state = (
        await session.scalars(
            select(m.SyncState).where(m.SyncState.connection_id == connection_id, m.SyncState.model == model)
        )
    ).first()
    if state is None:
        state = m.SyncState(connection_id=connection_id, model=model, status="DONE")
        session.add(state)
        await session.flush()
    return state


async def _lock(db: Database, connection_id: uuid.UUID, model: str) -> AsyncConnection | bool | None:
    """A session-level advisory lock on PostgreSQL (None elsewhere); False when another run holds it."""
    if not db.url.startswith("postgresql"):
        return None
    key = int.from_bytes(connection_id.bytes[:8], "big", signed=True) ^ zlib.crc32(model.encode())
    conn = await db.engine.connect()
    got = (await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
    if not got:
        await conn.close()
        return False
    conn.info["sync_lock"] = key
    return conn


async def _unlock(conn: AsyncConnection | bool | None) -> None:
    if isinstance(conn, AsyncConnection):
        await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": conn.info["sync_lock"]})
        await conn.commit()
        await conn.close()


async def run_sync(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    model: str,
    *,
    run_id: uuid.UUID | None = None,
    full: bool = False,
    **connector_options: Any,
) -> dict[str, Any]:
    """Execute one run (see the module docstring); answers its outcome:
    ``{status, run_id, model, mode, retryable?, error?, <counts>}``."""
    await vault.prepare(tenant_id)
    connection = await get_connection(db, tenant_id, connection_id)
    async with db.session(tenant_id) as session:
        run = None
        if run_id is not None:
            run = (await session.scalars(select(m.SyncRun).where(m.SyncRun.id == run_id))).first()
        if run is None:
            run = m.SyncRun(
                id=run_id or new_id(),
                connection_id=connection_id,
                model=model,
                mode="full" if full else "incremental",
                status="QUEUED",
                stats={},
            )
            session.add(run)
        if run.status in ("DONE", "PARTIALLY_SYNCED", "SKIPPED"):
            return _outcome(run)
        state = await _state(session, connection_id, model)
        if connection.status != "ACTIVE" or state.status == "PAUSED":
            run.status, run.finished_at = "SKIPPED", utcnow()
            run.stats = {**(run.stats or {}), "reason": "paused"}
            if connection.status != "ACTIVE":
                state.status = "PAUSED"
            await session.commit()
            return _outcome(run)
        settings = connection.settings or {}
        stale = state.last_full_sync_at is None or state.last_full_sync_at < utcnow() - timedelta(
            hours=float(settings.get("full_sync_hours", 24))
        )
        if run.status == "QUEUED" and (full or stale or state.watermark is None):
            run.mode = "full"
        if run.started_at is None:
            run.started_at = utcnow()
        run.status = state.status = "SYNCING"
        since = None if run.mode == "full" else state.watermark
        await session.commit()
    lock = await _lock(db, connection_id, model)
    if lock is False:
        return await _finish(db, tenant_id, run.id, "SKIPPED", reason="another run of this model is in progress")
    try:
        return await _read(db, vault, tenant_id, connection, run, since, connector_options)
    finally:
        await _unlock(lock)


async def _read(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection: m.Connection,
    run: m.SyncRun,
    since: datetime | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    model, entity = run.model, ENTITY_OF[run.model]
    stats: dict[str, Any] = {name: 0 for name in _COUNTS} | {"pages": 0} | dict(run.stats or {})
    try:
        connector, breaker = await open_connector(db, vault, tenant_id, connection, **options)
    except ConnectorFailed as exc:
        return await _failed(db, tenant_id, run, exc.error, stats)
    error: ConnectorError | None = None
    analyzed_at = _ANALYZE_FIRST // 2
    pending = await _open_quarantine(db, tenant_id, connection.id, model)
    ahead: asyncio.Task[Page] | None = None
    try:
        cursor = stats.get("cursor")
        ahead = asyncio.ensure_future(connector.read_page(model, cursor=cursor, since=since))
        while ahead is not None:
            page = await ahead
            # Read the next page while this one is normalized, sealed and written.
            ahead = (
                asyncio.ensure_future(connector.read_page(model, cursor=page.next_cursor, since=since))
                if page.next_cursor
                else None
            )
            now = utcnow()
            async with db.session(tenant_id) as session:
                result, quarantined = await _store_page(
                    session, vault, tenant_id, connection, connector, model, page.items, now, pending=pending
                )
                pending = pending or quarantined > 0
                if run.mode == "full":  # what did not map still exists upstream: not a deletion
                    unseen = [i.remote_id for i in page.items if i.remote_id not in result.entity_ids]
                    await _seen(session, tenant_id, connection.id, entity, unseen, now)
                stats["pages"] += 1
                stats["read"] += len(page.items)
                for name in ("created", "updated", "unchanged", "deleted", "skipped"):
                    stats[name] += getattr(result, name)
                stats["quarantined"] += quarantined
                if page.watermark is not None:
                    mark = page.watermark.isoformat()
                    stats["watermark"] = max(stats.get("watermark") or mark, mark)
                stats["cursor"] = page.next_cursor
                await session.execute(update(m.SyncRun).where(m.SyncRun.id == run.id).values(stats=dict(stats)))
                await session.commit()
            if stats["created"] >= 2 * analyzed_at:
                analyzed_at = stats["created"]
                await _analyze(db, entity)
    except ConnectorError as exc:
        error = exc
    finally:
        if ahead is not None and not ahead.done():
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectorError):
                await ahead
        await connector.aclose()
        await save_breaker(db, tenant_id, connection.id, breaker)
    if error is not None:
        return await _failed(db, tenant_id, run, error, stats)
    if run.mode == "full" and _detects_deletions(connection, model):
        stats["deleted"] += await _mark_unseen(db, vault, tenant_id, connection, entity, run.started_at)
    status = "PARTIALLY_SYNCED" if stats["quarantined"] else "DONE"
    stats.pop("cursor", None)
    outcome = await _finish(db, tenant_id, run.id, status, stats=stats)
    if stats["created"] or stats["updated"]:
        outcome["replayed"] = await replay_unresolved(db, vault, tenant_id, connection.id)
    return outcome


async def _store_page(
    session: Any,
    vault: Vault,
    tenant_id: uuid.UUID,
    connection: m.Connection,
    connector: Connector,
    model: str,
    raw_items: Sequence[RawItem],
    now: datetime,
    *,
    pending: bool = True,
) -> tuple[BatchResult, int]:
    """Normalize, upsert and quarantine one page (the caller commits); answers the upsert's result and how
    many records were quarantined."""
    good: list[Item] = []
    quarantined = 0
    for raw in raw_items:
        try:
            good.append(Item(raw, connector.normalize(model, raw.payload)))
        except NormalizationError as exc:
            await quarantine(
                session,
                vault,
                tenant_id,
                connection.id,
                model,
                raw.remote_id or None,
                raw.payload,
                code=exc.code,
                reason=exc.reason,
                path=exc.path,
                errors=[e.to_dict() for e in exc.errors],
                now=now,
            )
            quarantined += 1
    result = await Upserter(session, vault, tenant_id, connection).upsert(model, good, now=now)
    for miss in result.unresolved:
        await quarantine(
            session,
            vault,
            tenant_id,
            connection.id,
            model,
            miss.item.record.remote_id,
            miss.item.raw.payload,
            code="REFERENCE_UNRESOLVED",
            reason=miss.reason,
            path=miss.path,
            now=now,
        )
    if pending:  # a good copy closes the record's open quarantine row
        await resolve_quarantined(session, tenant_id, connection.id, model, sorted(result.entity_ids))
    return result, quarantined + len(result.unresolved)


async def _seen(
    session: Any, tenant_id: uuid.UUID, connection_id: uuid.UUID, entity: str, remote_ids: list[str], now: datetime
) -> None:
    """A full read saw these copies (quarantined ones too: a record that fails to map still exists)."""
    ids = [r for r in remote_ids if r]
    if ids:
        await session.execute(
            update(LINKS)
            .where(
                LINKS.c.tenant_id == tenant_id,
                LINKS.c.connection_id == connection_id,
                LINKS.c.entity == entity,
                LINKS.c.remote_id.in_(ids),
            )
            .values(last_seen_at=now)
        )


async def _analyze(db: Database, entity: str) -> None:
    """Refresh PostgreSQL's statistics during a bulk import. A table that grew from nothing within
    seconds still looks empty to the planner until autovacuum analyzes it, and lookups by remote id then
    scan every link of the connection instead of probing the unique index: quadratic on a first sync."""
    if not db.url.startswith("postgresql"):
        return
    tables = ["remote_links", "blind_indexes"]
    if entity in TABLES:
        tables.append(TABLES[entity].__tablename__)
    async with db.engine.connect() as conn:
        await conn.execute(text(f"ANALYZE {', '.join(tables)}"))
        await conn.commit()


async def _open_quarantine(db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID, model: str) -> bool:
    async with db.session(tenant_id) as session:
        found = await session.scalars(
            select(m.Quarantine.id)
            .where(
                m.Quarantine.connection_id == connection_id,
                m.Quarantine.model == model,
                m.Quarantine.status == "OPEN",
            )
            .limit(1)
        )
        return found.first() is not None


def _detects_deletions(connection: m.Connection, model: str) -> bool:
    setting = (connection.settings or {}).get("detect_deletions")
    return bool(setting) if setting is not None else model != "approval"


async def _mark_unseen(
    db: Database, vault: Vault, tenant_id: uuid.UUID, connection: m.Connection, entity: str, started: datetime | None
) -> int:
    """After a complete full read: what it did not see was deleted upstream."""
    if started is None:
        return 0
    async with db.session(tenant_id) as session:
        conn = await session.connection()
        rows = (
            await conn.execute(
                select(LINKS.c.id, LINKS.c.entity_id).where(
                    LINKS.c.tenant_id == tenant_id,
                    LINKS.c.connection_id == connection.id,
                    LINKS.c.entity == entity,
                    LINKS.c.remote_deleted_at.is_(None),
                    (LINKS.c.last_seen_at < started) | LINKS.c.last_seen_at.is_(None),
                )
            )
        ).all()
        if not rows:
            return 0
        now = utcnow()
        await conn.execute(
            update(LINKS).where(LINKS.c.id.in_([r.id for r in rows])).values(remote_deleted_at=now, updated_at=now)
        )
        upserter = Upserter(session, vault, tenant_id, connection)
        if entity == "interview_stage":
            await upserter.rebuild_stages(conn, {r.entity_id for r in rows}, now)
        else:
            await conn.execute(
                m.Event.__table__.insert(),
                [upserter.changes.event(f"{entity}.remote_deleted", entity, r.entity_id, now) for r in rows],
            )
        await session.commit()
    return len(rows)


async def _failed(
    db: Database, tenant_id: uuid.UUID, run: m.SyncRun, error: ConnectorError, stats: dict[str, Any]
) -> dict[str, Any]:
    outcome = await _finish(
        db, tenant_id, run.id, "FAILED", stats=stats, error=f"{error.code}: {error.message}"[:2000], code=error.code
    )
    outcome["retryable"] = error.retryable
    if getattr(error, "retry_after", None) is not None:
        outcome["retry_after"] = error.retry_after  # type: ignore[attr-defined]
    return outcome


async def _finish(
    db: Database,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    status: str,
    *,
    stats: dict[str, Any] | None = None,
    error: str | None = None,
    code: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    now = utcnow()
    async with db.session(tenant_id) as session:
        run = (await session.scalars(select(m.SyncRun).where(m.SyncRun.id == run_id))).one()
        run.stats = {**(run.stats or {}), **(stats or {}), **({"reason": reason} if reason else {})}
        if status != "FAILED":
            run.stats.pop("cursor", None)
        run.status, run.error_code = status, code
        run.finished_at = now
        if status != "SKIPPED":
            state = await _state(session, run.connection_id, run.model)
            state.status = status
            state.last_error = (
                error
                if status == "FAILED"
                else (
                    f"{run.stats.get('quarantined', 0)} record(s) quarantined" if status == "PARTIALLY_SYNCED" else None
                )
            )
            mark = run.stats.get("watermark")
            if status != "FAILED" and mark:
                new = datetime.fromisoformat(mark)
                state.watermark = max(state.watermark, new) if state.watermark else new
            if status != "FAILED" and run.mode == "full":
                state.last_full_sync_at = run.started_at or now
        await session.commit()
        return _outcome(run)


def _outcome(run: m.SyncRun) -> dict[str, Any]:
    stats = {k: v for k, v in (run.stats or {}).items() if k != "cursor"}
    return {
        "status": run.status,
        "run_id": str(run.id),
        "model": run.model,
        "mode": run.mode,
        **({"error": run.error_code} if run.error_code else {}),
        **stats,
    }
