"""``/graphql`` over WebSocket with ``graphql-transport-ws`` (Strawberry's protocol handler).

Authentication happens on ``connection_init``: the payload carries
``{"authorization": "Bearer <token>"}``; a missing or bad credential closes the socket
with 4403 ``Forbidden``, before any operation runs. Each connection gets one context;
its store releases the database connection after every read, so an idle subscriber
holds no pooled connection. When the connection ends, its last audited reads are appended
and its session released.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler

from hub.runtime import Runtime
from hub.services.audit import AuditTrail
from hub.services.presenter import Presenter
from hub.services.reauthorize import reauthorizer
from hub.services.store import SqlStore
from schema.context import Context, Viewer
from schema.errors import HubError
from schema.fanout import shared_payload
from schema.loaders import Loaders

__all__ = ["WsContext", "graphql_websocket"]

log = logging.getLogger("hub.websocket")


class WsContext:
    """A WebSocket connection's context; becomes a full :class:`Context` once authenticated."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.connection_params: dict[str, Any] = {}
        self._context: Context | None = None
        self._session: Any = None

    async def authenticate(self) -> None:
        params = self.connection_params if isinstance(self.connection_params, dict) else {}
        header = params.get("authorization") or params.get("Authorization")
        viewer: Viewer = await self.runtime.auth.authenticate(header if isinstance(header, str) else None)
        await self.runtime.vault.prepare(viewer.tenant_id)
        audit = AuditTrail(self.runtime.db, viewer, writer=self.runtime.audit)
        self._session_cm = self.runtime.db.session(viewer.tenant_id)
        self._session = await self._session_cm.__aenter__()
        store = SqlStore(
            self._session,
            viewer,
            self.runtime.vault,
            release_after_read=True,
            on_commit=self.runtime.events.nudge,
            audit=audit,
        )
        context = self._context = Context(
            viewer=viewer,
            store=store,
            presenter=Presenter(viewer, self.runtime.vault, audit),
            loaders=Loaders(store),
            settings=self.runtime.settings,
            events=self.runtime.events,
            services=self.runtime.extras,
            audit_flush=audit.flush,
        )
        context.reauthorize = reauthorizer(self.runtime.auth, lambda: context)
        context.loaders = None  # type: ignore[assignment]  # fresh ones per use: see __getattr__

    def __getattr__(self, name: str) -> Any:
        context = self.__dict__.get("_context")
        if context is None:
            raise AttributeError(name)
        if name == "loaders":
            # Loaders cache per operation; a long-lived connection must not serve stale rows (nor
            # keep a set of them alive per idle subscriber: about 10 KiB).
            return Loaders(context.store)
        return getattr(context, name)

    async def close(self) -> None:
        """The connection ended: append the audited reads of the last events pushed (they are
        otherwise appended when the next event arrives), then release the session."""
        try:
            if self._context is not None and self._context.audit_flush is not None:
                await self._context.audit_flush()
        except Exception:
            log.exception("appending a closed subscription's audited reads failed")
            raise
        finally:
            if self._session is not None:
                self._session = None
                await self._session_cm.__aexit__(None, None, None)


class _TransportWS(BaseGraphQLTransportWSHandler[Any, Any]):
    async def shutdown(self) -> None:
        try:
            await super().shutdown()  # every operation's task has ended when this returns
        finally:
            if isinstance(self.context, WsContext):
                await self.context.close()


class _HubGraphQL(GraphQL):
    graphql_transport_ws_handler_class = _TransportWS
    def __init__(self, runtime: Runtime) -> None:
        super().__init__(
            runtime.schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            keep_alive=True,
            keep_alive_interval=15,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=10),
            max_subscriptions_per_connection=runtime.settings.max_subscriptions_per_connection,
        )
        self.runtime = runtime

    def encode_json(self, data: object) -> str | bytes:
        """A ``next`` message whose payload a subscriber group shares reuses its serialized form
        (one ``json.dumps`` per group and event, not per subscriber)."""
        if type(data) is dict and data.get("type") == "next":
            payload = shared_payload(data.get("payload"))
            if payload is not None:
                return f'{{"id":{json.dumps(data.get("id"))},"type":"next","payload":{payload}}}'
        return super().encode_json(data)

    async def get_context(self, request: Request | WebSocket, response: Any) -> WsContext:  # type: ignore[override]
        return WsContext(self.runtime)

    async def on_ws_connect(self, context: WsContext) -> Any:  # type: ignore[override]
        try:
            await context.authenticate()
        except HubError as error:
            raise ConnectionRejectionError({"code": error.code, "message": error.message}) from None
        return None


def graphql_websocket(runtime: Runtime) -> Any:
    app = _HubGraphQL(runtime)

    return app
