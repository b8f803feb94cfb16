"""Subscriptions over Server-Sent Events (GraphQL over SSE, "distinct connections" mode).

``POST /graphql`` with ``Accept: text/event-stream`` and a subscription operation answers
a stream of ``event: next`` messages and a final ``event: complete``. Mobile networks and
proxies that break WebSockets keep working; a client that reconnects passes the last
``cursor`` it saw as ``after``. A comment line every ``KEEPALIVE`` seconds keeps idle
connections open through proxies. When the client goes away, the subscription's reader
is released (no task or Redis reader is left behind).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import StreamingResponse

from schema.context import Context
from schema.extensions import code_error
from schema.fanout import shared_payload

__all__ = ["KEEPALIVE", "sse_response"]

KEEPALIVE = 15.0


def _frame(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


async def _events(schema: Any, params: dict[str, Any], context: Context, debug: bool) -> AsyncIterator[str]:
    result = await schema.subscribe(
        params["query"],
        variable_values=params.get("variables"),
        context_value=context,
        operation_name=params.get("operationName"),
    )
    if not hasattr(result, "__aiter__"):  # an error before the stream started
        errors = [code_error(e, debug=debug).formatted for e in (result.errors or [])]
        yield _frame("next", {"errors": errors})
        yield "event: complete\ndata:\n\n"
        return
    iterator = result.__aiter__()
    try:
        pending = asyncio.ensure_future(iterator.__anext__())
        while True:
            done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE)
            if not done:
                yield ": keep-alive\n\n"
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                break
            body: dict[str, Any] = {"data": item.data}
            if item.errors:
                body["errors"] = [e.formatted for e in item.errors]
            if item.extensions:
                body["extensions"] = item.extensions
            shared = shared_payload(body)  # serialized once for every subscriber of its group
            yield f"event: next\ndata: {shared}\n\n" if shared is not None else _frame("next", body)
            pending = asyncio.ensure_future(iterator.__anext__())
        yield "event: complete\ndata:\n\n"
    finally:
        if not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration, Exception):
                await pending
        with contextlib.suppress(Exception):
            await iterator.aclose()


def sse_response(
    schema: Any, params: dict[str, Any], context: Context, *, debug: bool, on_close: Any = None
) -> StreamingResponse:
    async def body() -> AsyncIterator[str]:
        try:
            async for chunk in _events(schema, params, context, debug):
                yield chunk
        finally:
            if on_close is not None:
                await on_close()

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"cache-control": "no-store", "x-accel-buffering": "no"}
    )
