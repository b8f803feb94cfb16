"""The event bus: outbox publishing, the durable log, and per-process fan-out.

How an event travels::

    store/job commits change + Event row (published_at NULL, seq NULL)     -- one transaction
      -> publish_pending(): under one global lock, give each event its tenant's next ``seq``,
         stamp published_at, commit; then XADD {prefix}events:{tenant} (MAXLEN ~)
      -> StreamHub (one per hub process): one reader per tenant with subscribers, XREAD on
         the tenant's stream, fan out to local subscriber queues
      -> subscribe(tenant, after=seq): replay seq > after from the events table, then live;
         a gap in the live sequence (Redis lost an entry, restarted, or was down) is filled
         from the table, so nothing is skipped and nothing is delivered twice.

The events table is the source of truth; Redis is only the fast path between processes.
A cursor older than the table's retention answers ``RESYNC_REQUIRED``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import func, select, text

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from schema.context import EventEnvelope
from schema.errors import ResyncRequired, ValidationFailed

__all__ = ["EventBus", "publish_pending", "stream_key"]

log = logging.getLogger("hub.events")

#: Entries kept per tenant stream in Redis (approximate trim); replays older than this come from the table.
STREAM_MAXLEN = 10_000
_RELAY_LOCK = 0x4855425F  # "HUB_" : one publisher at a time across every process


def stream_key(prefix: str, tenant_id: uuid.UUID) -> str:
    return f"{prefix}events:{tenant_id}"


def _envelope(row: Any) -> EventEnvelope:
    return EventEnvelope(
        cursor=str(row.seq),
        event_id=str(row.id),
        type=row.type,
        entity=row.entity,
        entity_id=row.entity_id,
        occurred_at=row.created_at,
        data=row.data or {},
    )


async def publish_pending(
    db: Database, redis: aioredis.Redis | None, prefix: str, *, limit: int = 1000
) -> dict[uuid.UUID, int]:
    """Sequence and publish committed events that are not yet published; answer, per tenant
    that had any, the highest sequence number published (empty: nothing was pending)."""
    async with db.system_session() as session:
        if db.url.startswith("postgresql"):
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _RELAY_LOCK})
        rows = list(
            (
                await session.scalars(
                    select(m.Event)
                    .where(m.Event.published_at.is_(None))
                    .order_by(m.Event.created_at, m.Event.id)
                    .limit(limit)
                )
            ).all()
        )
        if not rows:
            return {}
        tenants = {r.tenant_id for r in rows}
        last = dict(
            (
                await session.execute(
                    select(m.Event.tenant_id, func.max(m.Event.seq))
                    .where(m.Event.tenant_id.in_(tenants))
                    .group_by(m.Event.tenant_id)
                )
            ).all()
        )
        now = utcnow()
        for row in rows:
            last[row.tenant_id] = (last.get(row.tenant_id) or 0) + 1
            row.seq = last[row.tenant_id]
            row.published_at = now
        envelopes = [_envelope(r) for r in rows]
        await session.commit()
    if redis is not None:
        try:
            async with redis.pipeline(transaction=False) as pipe:
                for env in envelopes:
                    pipe.xadd(
                        stream_key(prefix, _tenant_of(rows, env)), _fields(env), maxlen=STREAM_MAXLEN, approximate=True
                    )
                await pipe.execute()
        except Exception as exc:  # the table has them; subscribers fill gaps from it
            log.warning(
                "event fan-out to Redis failed (%s); subscribers will catch up from the log", type(exc).__name__
            )
    return {tenant: last[tenant] for tenant in tenants}


def _tenant_of(rows: list[Any], env: EventEnvelope) -> uuid.UUID:
    for row in rows:
        if str(row.id) == env.event_id:
            return row.tenant_id
    raise KeyError(env.event_id)


def _fields(env: EventEnvelope) -> dict[str, str]:
    return {
        "seq": env.cursor,
        "id": env.event_id,
        "type": env.type,
        "entity": env.entity or "",
        "entity_id": str(env.entity_id) if env.entity_id else "",
        "at": env.occurred_at.isoformat(),
        "data": json.dumps(env.data),
    }


def _from_fields(fields: dict[bytes, bytes]) -> EventEnvelope:
    f = {k.decode(): v.decode() for k, v in fields.items()}
    return EventEnvelope(
        cursor=f["seq"],
        event_id=f["id"],
        type=f["type"],
        entity=f["entity"] or None,
        entity_id=uuid.UUID(f["entity_id"]) if f["entity_id"] else None,
        occurred_at=datetime.fromisoformat(f["at"]).astimezone(UTC),
        data=json.loads(f["data"]),
    )


class _TenantReader:
    """One per tenant with local subscribers: Redis stream in, subscriber queues out.

    When Redis is quiet for a second, or failing, the reader looks in the events table for
    anything newer than what it dispatched (one query per tenant, not per subscriber), so
    an entry Redis never carried still arrives."""

    def __init__(self, bus: EventBus, tenant_id: uuid.UUID) -> None:
        self.bus = bus
        self.tenant_id = tenant_id
        self.queues: set[asyncio.Queue[EventEnvelope]] = set()
        self.task: asyncio.Task[None] | None = None
        self.last_seq = 0

    def start(self, last_seq: int) -> None:
        self.last_seq = last_seq
        self.task = asyncio.create_task(self._run(), name=f"events-{self.tenant_id}")

    def _dispatch(self, envelope: EventEnvelope) -> None:
        seq = int(envelope.cursor)
        if seq <= self.last_seq:
            return
        self.last_seq = seq
        for queue in list(self.queues):
            queue.put_nowait(envelope)

    async def _catch_up(self) -> None:
        try:
            for envelope in await self.bus._log_after(self.tenant_id, self.last_seq):
                self._dispatch(envelope)
        except Exception as exc:
            log.warning("catching up events from the log failed (%s)", type(exc).__name__)

    async def _run(self) -> None:
        key = stream_key(self.bus.prefix, self.tenant_id)
        last_id = "$"
        while True:
            try:
                answer = await self.bus.redis.xread({key: last_id}, block=1000, count=500)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reading %s failed (%s); serving from the log", key, type(exc).__name__)
                await self._catch_up()
                await asyncio.sleep(0.5)
                continue
            if not answer:
                await self._catch_up()
                continue
            for _key, entries in answer:
                for entry_id, fields in entries:
                    last_id = entry_id
                    self._dispatch(_from_fields(fields))


class EventBus:
    """Per-process event machinery: publishing after commits and serving subscriptions."""

    def __init__(
        self,
        db: Database,
        redis: aioredis.Redis,
        prefix: str,
        *,
        on_published: Callable[[dict[uuid.UUID, int]], None] | None = None,
    ) -> None:
        self.on_published = on_published
        self.db = db
        self.redis = redis
        self.prefix = prefix
        self._readers: dict[uuid.UUID, _TenantReader] = {}
        self._publish_lock = asyncio.Lock()
        self._nudged = asyncio.Event()
        self._relay: asyncio.Task[None] | None = None

    # -- publishing ----------------------------------------------------------------------

    async def publish(self) -> int:
        """Publish what is pending; answer how many tenants had events."""
        async with self._publish_lock:
            published = await publish_pending(self.db, self.redis, self.prefix)
        if published and self.on_published is not None:
            self.on_published(published)  # e.g. run the tenants' workflows on the new events
        return len(published)

    def nudge(self) -> None:
        """Called after a commit that wrote events: publish soon, from the relay task."""
        self._nudged.set()

    def start(self, *, sweep_seconds: float = 1.0) -> None:
        self._relay = asyncio.create_task(self._relay_loop(sweep_seconds), name="event-relay")

    async def _relay_loop(self, sweep_seconds: float) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._nudged.wait(), timeout=sweep_seconds)
            self._nudged.clear()
            try:
                while await self.publish() > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the sweep retries on the next tick
                log.warning("event relay failed (%s); retrying", type(exc).__name__)

    async def stop(self) -> None:
        tasks = [r.task for r in self._readers.values() if r.task] + ([self._relay] if self._relay else [])
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._readers.clear()

    # -- subscribing ---------------------------------------------------------------------

    async def _log_after(self, tenant_id: uuid.UUID, after: int, limit: int = 500) -> list[EventEnvelope]:
        async with self.db.session(tenant_id) as session:
            rows = (
                await session.scalars(select(m.Event).where(m.Event.seq > after).order_by(m.Event.seq).limit(limit))
            ).all()
        return [_envelope(r) for r in rows]

    async def _bounds(self, tenant_id: uuid.UUID) -> tuple[int | None, int]:
        async with self.db.session(tenant_id) as session:
            low, high = (
                await session.execute(
                    select(func.min(m.Event.seq), func.max(m.Event.seq)).where(m.Event.seq.is_not(None))
                )
            ).one()
        return low, high or 0

    def _register(self, tenant_id: uuid.UUID, high: int) -> asyncio.Queue[EventEnvelope]:
        reader = self._readers.get(tenant_id)
        if reader is None:
            reader = self._readers[tenant_id] = _TenantReader(self, tenant_id)
            reader.start(high)
        queue: asyncio.Queue[EventEnvelope] = asyncio.Queue()
        reader.queues.add(queue)
        return queue

    def _unregister(self, tenant_id: uuid.UUID, queue: asyncio.Queue[EventEnvelope]) -> None:
        reader = self._readers.get(tenant_id)
        if reader is None:
            return
        reader.queues.discard(queue)
        if not reader.queues:
            del self._readers[tenant_id]
            if reader.task:
                reader.task.cancel()

    def subscriber_count(self) -> dict[uuid.UUID, int]:
        return {t: len(r.queues) for t, r in self._readers.items()}

    async def subscribe(self, tenant_id: uuid.UUID, *, after: str | None) -> AsyncIterator[EventEnvelope]:
        low, high = await self._bounds(tenant_id)
        queue = self._register(tenant_id, high)
        try:
            if after is None:
                last = high
            else:
                try:
                    last = int(after)
                except ValueError:
                    raise ValidationFailed("malformed event cursor", field="after") from None
                if last < 0 or last > high:
                    raise ValidationFailed("unknown event cursor", field="after")
                if low is not None and last < low - 1:
                    raise ResyncRequired(
                        "the cursor is older than the event retention; reload and resubscribe",
                        oldest_cursor=str(low - 1),
                    )
            while True:  # replay from the durable log
                batch = await self._log_after(tenant_id, last)
                for env in batch:
                    yield env
                    last = int(env.cursor)
                if len(batch) < 500:
                    break
            while True:  # live, filling any gap from the log
                item = await queue.get()
                seq = int(item.cursor)
                if seq <= last:
                    continue
                if seq > last + 1:
                    for env in await self._log_after(tenant_id, last, limit=seq - last - 1):
                        yield env
                        last = int(env.cursor)
                if seq == last + 1:
                    yield item
                    last = seq
        finally:
            self._unregister(tenant_id, queue)
