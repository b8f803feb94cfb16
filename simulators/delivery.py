"""Outbound callbacks and webhooks: send one signed request, judge the answer, keep a log.

Every simulator that calls back (HR webhooks, DingTalk, WeCom and Feishu callbacks, mobile webhooks) sends
through one `Deliverer`. Each attempt lands in `Deliverer.log` and is visible at ``GET /_sim/deliveries``
(``DELETE`` clears it), so tests and the demo can see exactly what went out and how the receiver answered.
A dialect passes a ``judge`` that checks the receiver's answer the way the vendor does (DingTalk wants an
encrypted ``success``); the verdict is recorded, never retried, so tests stay deterministic.
"""

from __future__ import annotations

import functools
import ssl
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

__all__ = ["Deliverer", "Delivery", "Judge"]

Judge = Callable[[httpx.Response], str | None]
"""Checks a receiver's answer: None when acceptable, otherwise the reason it is not."""


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    # Building a context costs tens of milliseconds; build it once per process.
    return ssl.create_default_context()


def _default_judge(response: httpx.Response) -> str | None:
    return None if response.is_success else f"receiver answered HTTP {response.status_code}"


@dataclass
class Delivery:
    """One attempt to deliver one event."""

    id: str
    event: str
    url: str
    sent_at: float
    request_headers: dict[str, str]
    request_body: str
    params: dict[str, str] = field(default_factory=dict)
    status_code: int | None = None
    response_body: str = ""
    error: str | None = None
    accepted: bool = False


class Deliverer:
    """Sends callbacks over HTTP (or through ``transport`` in tests) and logs every attempt."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        keep: int = 1000,
    ) -> None:
        self.transport = transport
        self.timeout = timeout
        self.log: list[Delivery] = []
        self._clock = clock
        self._keep = keep

    async def send(
        self,
        event: str,
        url: str,
        *,
        body: bytes,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        judge: Judge | None = None,
        method: str = "POST",
    ) -> Delivery:
        """Send ``body`` to ``url`` (POST unless told); never raises for network errors (they are logged)."""
        delivery = Delivery(
            id=str(uuid.uuid4()),
            event=event,
            url=url,
            sent_at=self._clock(),
            request_headers=dict(headers),
            request_body=body.decode(errors="replace"),
            params=dict(params or {}),
        )
        try:
            async with httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, verify=_ssl_context()
            ) as client:
                response = await client.request(method, url, content=body or None, headers=dict(headers), params=params)
        except httpx.HTTPError as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        else:
            delivery.status_code = response.status_code
            delivery.response_body = response.text[:4000]
            verdict = (judge or _default_judge)(response)
            delivery.accepted = verdict is None
            delivery.error = verdict
        self.log.append(delivery)
        del self.log[: -self._keep]
        return delivery

    def routes(self) -> list[Route]:
        """``GET``/``DELETE /_sim/deliveries``."""

        async def handle(request: Request) -> JSONResponse:
            if request.method == "DELETE":
                self.log.clear()
            return JSONResponse({"deliveries": [asdict(item) for item in self.log]})

        return [Route("/_sim/deliveries", handle, methods=["GET", "DELETE"])]
