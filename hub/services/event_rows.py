"""One database read per event and process, however many subscribers push it.

When an event reaches a thousand subscribers of one hub process, each of them re-authorizes
it and presents it through its own field policy — but the row behind it is the same. The
cache loads it once (concurrent loads of the same event coalesce on one future) and keeps
the last ``size`` events' rows. Keys carry the tenant and the event's cursor, so a row is
never served across tenants nor for a later event. Candidates, whose visibility is narrower
than the tenant, always read through their own store.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from typing import Any

__all__ = ["EventRowCache"]


class EventRowCache:
    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._rows: OrderedDict[tuple[uuid.UUID, str, uuid.UUID, str], asyncio.Future[Any]] = OrderedDict()
        self.loads = 0

    async def __call__(self, tenant_id: uuid.UUID, entity: str, row_id: uuid.UUID, cursor: str, store: Any) -> Any:
        key = (tenant_id, entity, row_id, cursor)
        future = self._rows.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._rows[key] = future
            if len(self._rows) > self.size:
                self._rows.popitem(last=False)
            try:
                self.loads += 1
                future.set_result((await store.rows_by_ids(entity, [row_id]))[0])
            except BaseException as exc:
                self._rows.pop(key, None)
                future.set_exception(exc)
                future.exception()  # retrieved: the caller re-raises it below
                raise
        return await asyncio.shield(future)
