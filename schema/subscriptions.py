"""The subscription root: the tenant's event stream, re-authorized per event.

Every subscription takes ``after`` (the last cursor the client saw) and replays from it;
a cursor older than the retention answers ``RESYNC_REQUIRED``. Each event's object is
loaded at push time through the same store, permissions and field policies as a query,
for the subscriber as they are now: a candidate only ever receives their own records, and
a role changed mid-stream applies from the next event on.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from schema.context import EventEnvelope
from schema.errors import ValidationFailed
from schema.queries import NODE_TYPES
from schema.relay import Node, decode_global_id, encode_global_id

__all__ = ["EventSubscription", "HubEvent"]

_TYPE_OF_ENTITY = {entity: type_name for type_name, (entity, _gql, _action) in NODE_TYPES.items()}


@strawberry.type(description="One event of the tenant's stream; `node` is loaded for you when it is pushed.")
class HubEvent:
    cursor: str = strawberry.field(description="Pass as `after` to resume right after this event.")
    type: str
    occurred_at: datetime
    entity_type: str | None
    entity_id: strawberry.ID | None
    node: Node | None


async def _event_node(info: Info, envelope: EventEnvelope, type_name: str) -> Node | None:
    """The event's object for this subscriber, re-authorized now; the row read is shared by
    every staff subscriber of the process (``services["event_rows"]``), never across tenants."""
    from schema.permissions import ACCESS

    entity, gql_type, action = NODE_TYPES[type_name]
    viewer = info.context.viewer
    if not ACCESS.decide(viewer.roles, action).allowed:
        return None
    shared = info.context.services.get("event_rows")
    if shared is not None and "candidate" not in viewer.roles:
        row = await shared(viewer.tenant_id, entity, envelope.entity_id, envelope.cursor, info.context.store)
    else:
        row = (await info.context.store.rows_by_ids(entity, [envelope.entity_id]))[0]
    return gql_type.from_row(row) if row is not None else None


async def _present(info: Info, envelope: EventEnvelope) -> HubEvent | None:
    type_name = _TYPE_OF_ENTITY.get(envelope.entity or "")
    gid = encode_global_id(type_name, envelope.entity_id) if type_name and envelope.entity_id else None
    node = await _event_node(info, envelope, type_name) if gid and type_name else None
    viewer = info.context.viewer
    if node is None and (viewer.roles == frozenset({"candidate"}) or gid is None):
        return None  # not theirs to see (or no object behind it)
    return HubEvent(
        cursor=envelope.cursor,
        type=envelope.type,
        occurred_at=envelope.occurred_at,
        entity_type=type_name,
        entity_id=strawberry.ID(gid) if gid else None,
        node=node,
    )


async def _stream(info: Info, after: str | None, keep: Any) -> AsyncGenerator[HubEvent, None]:
    events = info.context.events
    if events is None:
        raise ValidationFailed("subscriptions are not available on this transport")
    flush = info.context.audit_flush
    async for envelope in events.subscribe(info.context.viewer.tenant_id, after=after):
        if flush is not None:
            await flush()  # the reads of the event pushed before this one
        if envelope.type == "principal.updated" and envelope.entity_id == info.context.viewer.principal_id:
            if info.context.reauthorize is not None:
                await info.context.reauthorize()  # new roles apply from the next event on
            continue
        if not keep(envelope):
            continue
        event = await _present(info, envelope)
        if event is not None:
            yield event


@strawberry.type
class EventSubscription:
    @strawberry.subscription(description="Every event of the tenant (optionally of some types), resumable.")
    async def events(
        self, info: Info, types: list[str] | None = None, after: str | None = None
    ) -> AsyncGenerator[HubEvent, None]:
        wanted = set(types or [])
        if len(wanted) > 50:
            raise ValidationFailed("at most 50 event types", field="types")
        async for event in _stream(info, after, lambda e: not wanted or e.type in wanted):
            yield event

    @strawberry.subscription(description="Changes to applications (stage moves, results) of a job or one application.")
    async def application_events(
        self,
        info: Info,
        job_id: strawberry.ID | None = None,
        application_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[HubEvent, None]:
        job = decode_global_id(job_id, expect="Job")[1] if job_id else None
        app = decode_global_id(application_id, expect="Application")[1] if application_id else None

        def keep(e: EventEnvelope) -> bool:
            if e.entity != "application" and "application_id" not in e.data:
                return False
            if app is not None:
                return app in (e.entity_id, e.data.get("application_id"))
            if job is not None:
                return str(job) == e.data.get("job_id")
            return True

        async for event in _stream(info, after, keep):
            yield event
