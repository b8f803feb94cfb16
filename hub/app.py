"""``create_app(settings)``: the hub's Starlette application, built from explicit lists.

Routes: ``/graphql`` (POST and GET per GraphQL over HTTP; WebSocket with
``graphql-transport-ws``), ``/healthz``, ``/readyz``. Middleware, in order: security
headers, then the routes. Everything the app needs is in its :class:`~hub.runtime.Runtime`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.http.graphql import GraphQLEndpoint
from hub.http.health import healthz, readyz
from hub.http.webhooks import WebhookEndpoint
from hub.http.websocket import graphql_websocket
from hub.runtime import Runtime
from hub.settings import Settings

__all__ = ["create_app"]


class SecurityHeaders:
    """Headers every response carries: no sniffing, no framing, no caching of API data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"cache-control", b"no-store"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> Starlette:
    runtime = runtime or Runtime.create(settings)
    endpoint = GraphQLEndpoint(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        runtime.events.start()
        yield
        await runtime.close()

    routes = [
        Route("/graphql", endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql_websocket(runtime)),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/webhooks/{connection_id}", WebhookEndpoint(runtime), methods=["GET", "POST"]),
    ]
    middleware = [Middleware(SecurityHeaders)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan, debug=False)
    app.state.runtime = runtime
    return app
