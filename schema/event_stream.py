"""How every subscription walks the tenant's event stream for one subscriber.

:func:`stream` resumes after the client's cursor (``RESYNC_REQUIRED`` past retention, from
:class:`~schema.context.EventStream`), applies a ``principal.updated`` about the subscriber
before anything else (new roles count from the next event on; a disabled principal ends the
stream), and hands each event to the subscription's ``present`` function, which filters it,
re-authorizes it and loads its objects for the subscriber as they are now, answering what to
push or ``None``.

Subscribers of one process whose results would be identical share that work: see
:mod:`schema.fanout`. The group key is built here from the inputs a result depends on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import Any

from strawberry.types import Info

from schema.context import EventEnvelope, Viewer
from schema.errors import ValidationFailed
from schema.fanout import Lead

__all__ = ["Present", "load_row", "stream"]

#: Filters, authorizes and loads one event for the subscriber: what to push, or ``None``.
Present = Callable[[Info, EventEnvelope], Awaitable[Any]]


def _operation_key(info: Info) -> Hashable | None:
    """What the result depends on besides the viewer and the event: the operation's text,
    name and variables. ``None`` when the text is unknown (no grouping then)."""
    raw = info._raw_info
    location = raw.operation.loc
    if location is None:
        return None
    name = raw.operation.name.value if raw.operation.name else None
    variables = json.dumps(info.variable_values, sort_keys=True, separators=(",", ":"), default=str)
    return (location.source.body, name, variables)


def _viewer_key(viewer: Viewer) -> Hashable:
    """The effective authorization: tenant, kind and roles, and the candidate a viewer is tied
    to (a candidate's own records, and ``is_self`` field decisions, depend on it)."""
    return (viewer.tenant_id, viewer.kind, viewer.roles, viewer.candidate_id)


async def stream(info: Info, after: str | None, present: Present) -> AsyncGenerator[Any, None]:
    context = info.context
    events = context.events
    if events is None:
        raise ValidationFailed("subscriptions are not available on this transport")
    shared = context.services.get("fanout")
    operation = _operation_key(info) if shared is not None else None
    flush = context.audit_flush
    async for envelope in events.subscribe(context.viewer.tenant_id, after=after):
        if flush is not None:
            await flush()  # the reads of the event pushed before this one
        if envelope.type == "principal.updated" and envelope.entity_id == context.viewer.principal_id:
            if context.reauthorize is not None:
                await context.reauthorize()  # new roles apply from the next event on
            continue
        if operation is None:
            payload = await present(info, envelope)
        else:
            key = (operation, _viewer_key(context.viewer), envelope.cursor)
            payload = await shared.deliver(key, lambda envelope=envelope: present(info, envelope))
        if isinstance(payload, Lead):
            try:
                yield payload
            finally:
                payload.slot.abandon()  # no-op once its execution settled the slot
        elif payload is not None:
            yield payload


async def load_row(info: Info, entity: str, row_id: uuid.UUID, cursor: str) -> Any:
    """The row behind an event as the subscriber may see it now (``None``: not theirs to see).

    Staff read through the process's per-event row cache (``services["event_rows"]``, keyed by
    tenant and cursor); a viewer tied to a candidate reads through its own store, which only
    answers that candidate's records."""
    context = info.context
    cache = context.services.get("event_rows")
    if cache is not None and context.viewer.candidate_id is None and "candidate" not in context.viewer.roles:
        return await cache(context.viewer.tenant_id, entity, row_id, cursor, context.store)
    return (await context.store.rows_by_ids(entity, [row_id]))[0]
