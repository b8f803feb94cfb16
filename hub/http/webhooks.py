"""``POST /webhooks/{connection_id}`` (and ``GET``, for the URL checks WeCom runs): inbound webhooks.

The body is read raw, up to ``HUB_MAX_BODY_BYTES`` (413 ``PAYLOAD_TOO_LARGE`` beyond), and handed to
`hub.services.inbound.receive`, which verifies it with the connection's connector before anything parses
it. The vendor gets its expected reply at once (DingTalk's encrypted ``success``, Feishu's ``{}``, an empty
200 for WeCom); the event is processed by the job ``hub.jobs.process_webhook``. When the job cannot be
queued the receipt is dropped and the vendor gets 503, so its redelivery is processed rather than
deduplicated away.

Refusals answer ``{"error": {"code", "message"}}``: 404 ``CONNECTION_NOT_FOUND``, 401
``WEBHOOK_SIGNATURE_INVALID`` / ``WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE``, 400 ``WEBHOOK_PAYLOAD_INVALID``,
409 ``CONNECTOR_CONFIG_INVALID``, 413, 503 ``QUEUE_UNAVAILABLE``.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from hub.runtime import Runtime
from hub.services.inbound import forget, receive
from hub.services.integration import install

__all__ = ["WebhookEndpoint"]

log = logging.getLogger("hub.webhooks")


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"error": {"code": code, "message": message}})
    return Response(body, status, media_type="application/json")


class WebhookEndpoint:
    """The ASGI endpoint; building it installs the integration service into the runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        install(runtime)

    async def __call__(self, scope: Any, receive_: Any, send: Any) -> None:
        request = Request(scope, receive_)
        response = await self.handle(request)
        await response(scope, receive_, send)

    async def _body(self, request: Request) -> bytes | None:
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    async def handle(self, request: Request) -> Response:
        body = await self._body(request)
        if body is None:
            return _error(413, "PAYLOAD_TOO_LARGE", f"body larger than {self.runtime.settings.max_body_bytes} bytes")
        runtime = self.runtime
        reception = await receive(
            runtime.db,
            runtime.vault,
            request.path_params["connection_id"],
            request.headers,
            dict(request.query_params),
            body,
        )
        if reception.receipt_id is not None and reception.tenant_id is not None:
            try:
                runtime.queues.enqueue(
                    "hub.jobs.process_webhook",
                    str(reception.tenant_id),
                    str(reception.receipt_id),
                    idempotency_key=f"webhook:{reception.receipt_id}",
                    queue="high",
                    timeout=120,
                )
            except Exception as exc:
                log.warning("could not queue a webhook for processing: %s", type(exc).__name__)
                await forget(runtime.db, reception.tenant_id, reception.receipt_id)
                return _error(503, "QUEUE_UNAVAILABLE", "the event could not be queued; deliver it again")
        return Response(reception.body, reception.status, media_type=reception.content_type)
