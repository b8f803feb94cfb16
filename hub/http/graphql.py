"""``POST /graphql`` (and read-only ``GET``), per the GraphQL-over-HTTP specification.

- Requests: ``application/json`` bodies only (``text/plain``, forms and multipart are the
  content types a cross-site form can send, so they are refused with 415), at most
  ``HUB_MAX_BODY_BYTES`` (413), a JSON object or a batch array of at most
  :data:`MAX_BATCH` objects. ``GET`` carries queries only: a mutation over GET gets 405.
- Responses: ``application/graphql-response+json`` when the client accepts it (the
  default), with 4xx for request errors (parse, validation, variables, auth) and 200 once
  execution started; ``application/json`` with 200 for clients that ask for it.
- Every error carries ``extensions.code``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from graphql import OperationType, parse
from graphql.error import GraphQLError, GraphQLSyntaxError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub.http.sse import sse_response
from hub.runtime import Runtime
from hub.services.audit import AuditTrail
from hub.services.presenter import Presenter
from hub.services.reauthorize import reauthorizer
from hub.services.store import SqlStore
from schema.context import Context, Viewer
from schema.errors import (
    AuthError,
    BadRequestError,
    HubError,
    PayloadTooLarge,
    QueryTooComplex,
    UnsupportedMediaType,
)
from schema.loaders import Loaders

__all__ = ["MAX_BATCH", "GraphQLEndpoint"]


class _ResultResponse(JSONResponse):
    """Execution results serialized with orjson: the same JSON as the standard library's (UTF-8,
    no ASCII escaping), several times faster for a page of a hundred objects."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)

MAX_BATCH = 10
GRAPHQL_RESPONSE = "application/graphql-response+json"


class _Problem(Exception):
    def __init__(self, error: HubError, status: int | None = None) -> None:
        self.error = error
        self.status = status or error.http_status


def _error_body(error: HubError) -> dict[str, Any]:
    return {"errors": [{"message": error.message, "extensions": error.to_extensions()}]}


def _wants_graphql_response(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    if not accept or GRAPHQL_RESPONSE in accept or "*/*" in accept:
        return True
    return "application/json" not in accept


class GraphQLEndpoint:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        modern = _wants_graphql_response(request)
        media = GRAPHQL_RESPONSE if modern else "application/json"
        try:
            if request.method == "GET":
                operations = [self._from_query_string(request)]
                batch = False
            elif request.method == "POST":
                payload = await self._read_json(request)
                batch = isinstance(payload, list)
                operations = payload if batch else [payload]
                if batch and not 1 <= len(operations) <= MAX_BATCH:
                    raise _Problem(QueryTooComplex(f"a batch holds 1 to {MAX_BATCH} operations"))
            else:
                return JSONResponse(
                    _error_body(BadRequestError("use POST (or GET for queries)")),
                    status_code=405,
                    headers={"Allow": "GET, POST"},
                    media_type=media,
                )
            params = [self._params(op) for op in operations]
            if request.method == "GET":
                self._refuse_mutation_over_get(params[0])
            viewer = await self.runtime.auth.authenticate(request.headers.get("authorization"))
        except _Problem as problem:
            return JSONResponse(_error_body(problem.error), status_code=problem.status, media_type=media)
        except AuthError as error:
            return JSONResponse(
                _error_body(error),
                status_code=401,
                media_type=media,
                headers={"WWW-Authenticate": 'Bearer realm="hub"'},
            )
        except HubError as error:
            return JSONResponse(_error_body(error), status_code=error.http_status, media_type=media)

        if "text/event-stream" in request.headers.get("accept", "") and not batch and request.method == "POST":
            return await self._stream(viewer, params[0])

        results = [await self.execute(viewer, p, request) for p in params]
        bodies = [body for body, _ in results]
        status = 200
        if modern and not batch and results[0][1]:
            status = 400
        return _ResultResponse(bodies if batch else bodies[0], status_code=status, media_type=media)

    async def execute(
        self, viewer: Viewer, params: dict[str, Any], request: Request | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Run one operation for ``viewer``; answer (body, was it a request error)."""
        runtime = self.runtime
        await runtime.vault.prepare(viewer.tenant_id)
        audit = AuditTrail(runtime.db, viewer, writer=runtime.audit)
        async with runtime.db.session(viewer.tenant_id) as session:
            store = SqlStore(session, viewer, runtime.vault, on_commit=runtime.events.nudge, audit=audit)
            context = Context(
                viewer=viewer,
                store=store,
                presenter=Presenter(viewer, runtime.vault, audit),
                loaders=Loaders(store),
                settings=runtime.settings,
                request=request,
                events=runtime.events,
                services=runtime.extras,
            )
            try:
                result = await runtime.schema.execute(
                    params["query"],
                    variable_values=params.get("variables"),
                    context_value=context,
                    operation_name=params.get("operationName"),
                )
            finally:
                context.loaders.clear()  # the request's rows and objects go now, not at the next collection
        await audit.flush()  # the audit entries are durable before the data leaves
        body: dict[str, Any] = {}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        request_error = result.data is None and bool(result.errors) and all(e.path is None for e in result.errors)
        if not request_error:
            body["data"] = result.data
        return body, request_error

    async def _stream(self, viewer: Viewer, params: dict[str, Any]) -> Response:
        runtime = self.runtime
        await runtime.vault.prepare(viewer.tenant_id)
        audit = AuditTrail(runtime.db, viewer, writer=runtime.audit)
        session_cm = runtime.db.session(viewer.tenant_id)
        session = await session_cm.__aenter__()
        store = SqlStore(
            session, viewer, runtime.vault, release_after_read=True, on_commit=runtime.events.nudge, audit=audit
        )
        context = Context(
            viewer=viewer,
            store=store,
            presenter=Presenter(viewer, runtime.vault, audit),
            loaders=Loaders(store),
            settings=runtime.settings,
            events=runtime.events,
            services=runtime.extras,
            audit_flush=audit.flush,
        )
        context.reauthorize = reauthorizer(runtime.auth, lambda: context)

        async def close() -> None:
            try:
                await audit.flush()
            finally:
                await session_cm.__aexit__(None, None, None)

        return sse_response(runtime.schema, params, context, debug=runtime.settings.development, on_close=close)

    async def _read_json(self, request: Request) -> Any:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise _Problem(
                UnsupportedMediaType(
                    "send the operation as application/json; other content types are refused (CSRF protection)"
                )
            )
        limit = self.runtime.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise _Problem(PayloadTooLarge(f"request body larger than {limit} bytes"))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _Problem(PayloadTooLarge(f"request body larger than {limit} bytes"))
            chunks.append(chunk)
        try:
            return json.loads(b"".join(chunks))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _Problem(BadRequestError("the request body is not valid JSON")) from None

    def _from_query_string(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        params: dict[str, Any] = {"query": q.get("query")}
        if "operationName" in q:
            params["operationName"] = q["operationName"]
        if "variables" in q:
            try:
                params["variables"] = json.loads(q["variables"])
            except json.JSONDecodeError:
                raise _Problem(BadRequestError("variables must be a JSON object")) from None
        return params

    def _params(self, op: Any) -> dict[str, Any]:
        if not isinstance(op, dict):
            raise _Problem(BadRequestError("each operation must be a JSON object"))
        query = op.get("query")
        if not isinstance(query, str) or not query.strip():
            raise _Problem(BadRequestError("the operation needs a 'query' string"))
        variables = op.get("variables")
        if variables is not None and not isinstance(variables, dict):
            raise _Problem(BadRequestError("'variables' must be a JSON object"))
        name = op.get("operationName")
        if name is not None and not isinstance(name, str):
            raise _Problem(BadRequestError("'operationName' must be a string"))
        extensions = op.get("extensions")
        if extensions is not None and not isinstance(extensions, dict):
            raise _Problem(BadRequestError("'extensions' must be a JSON object"))
        return {"query": query, "variables": variables, "operationName": name}

    def _refuse_mutation_over_get(self, params: dict[str, Any]) -> None:
        try:
            document = parse(params["query"], max_tokens=self.runtime.settings.max_tokens)
        except (GraphQLSyntaxError, GraphQLError):
            return  # execution reports the syntax error with its code
        for definition in document.definitions:
            operation = getattr(definition, "operation", None)
            name = getattr(getattr(definition, "name", None), "value", None)
            if (
                operation is not None
                and operation != OperationType.QUERY
                and (params.get("operationName") in (None, name))
            ):
                raise _Problem(BadRequestError("mutations and subscriptions need POST"), status=405)
