"""The schema's extensions, collected in one place: limits and error coding.

``schema_extensions(...)`` is the explicit list the schema is built with (as Starlette
builds its middleware stack from a list). Every error a client sees leaves through
:class:`CodedErrors`: a :class:`~schema.errors.HubError` keeps its message and code,
GraphQL's own parse and validation errors get ``GRAPHQL_PARSE_FAILED`` /
``GRAPHQL_VALIDATION_FAILED`` / ``QUERY_TOO_COMPLEX``, and anything else becomes
``INTERNAL`` with a generic message (the detail goes to the log with a reference id).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from functools import partial
from typing import Any

from graphql import GraphQLError, ValidationRule
from graphql.language import DirectiveNode
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.extensions.disable_introspection import DisableIntrospection

from schema.errors import HubError

__all__ = ["CodedErrors", "code_error", "schema_extensions"]

log = logging.getLogger("hub.graphql")

_LIMIT_MARKERS = ("exceeds maximum operation depth", "aliases found", "more than", "directives found")


def code_error(error: GraphQLError, *, debug: bool) -> GraphQLError:
    """Give ``error`` a stable ``extensions.code`` and a message safe to show."""
    original = error.original_error
    if original is None and error.extensions and "code" in error.extensions:
        return error  # already coded (a streamed result passes through twice)
    if isinstance(original, HubError):
        message = original.message if (original.expose or debug) else "Internal server error."
        return _rebuild(error, message, original.to_extensions())
    if original is None or (isinstance(original, GraphQLError) and error.path is None):
        message = error.message
        if any(m in message for m in _LIMIT_MARKERS):
            code = "QUERY_TOO_COMPLEX"
        elif message.startswith("Syntax Error"):
            code = "GRAPHQL_PARSE_FAILED"
        elif message.startswith("Variable"):
            code = "BAD_USER_INPUT"
        else:
            code = "GRAPHQL_VALIDATION_FAILED"
        return _rebuild(error, message, {"code": code})
    reference = uuid.uuid4().hex[:12]
    log.error(
        "unhandled error %s in %s: %s",
        reference,
        ".".join(map(str, error.path or [])),
        type(original).__name__,
        exc_info=(type(original), original, original.__traceback__) if debug else None,
    )
    message = f"{type(original).__name__}: {original}" if debug else "Internal server error."
    return _rebuild(error, message, {"code": "INTERNAL", "reference": reference})


def _rebuild(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


class CodedErrors(SchemaExtension):
    def __init__(self, *, debug: bool = False) -> None:
        self.debug = debug

    def _code(self, result: Any) -> None:
        if result is not None and getattr(result, "errors", None):
            result.errors = [code_error(e, debug=self.debug) for e in result.errors]

    def on_operation(self) -> Iterator[None]:
        yield
        self._code(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Each subscription event leaves through here before it reaches the client."""
        self._code(result)
        yield None


def _max_directives(limit: int) -> type[ValidationRule]:
    class MaxDirectives(ValidationRule):
        count = 0

        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            self.count += 1
            if self.count == limit + 1:
                self.report_error(GraphQLError(f"{self.count} directives found. Allowed: {limit}", node))

    return MaxDirectives


def schema_extensions(
    *,
    max_depth: int = 10,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    max_directives: int = 20,
    introspection: bool = False,
    debug: bool = False,
) -> list[Any]:
    # Factories, not instances: Strawberry builds fresh extensions for every operation.
    extensions: list[Any] = [
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        partial(QueryDepthLimiter, max_depth=max_depth),
        partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        partial(AddValidationRules, [_max_directives(max_directives)]),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    extensions.append(partial(CodedErrors, debug=debug))
    return extensions
