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
from collections import OrderedDict
from collections.abc import Iterator
from functools import partial
from typing import Any

from graphql import GraphQLError, ValidationRule
from graphql.language import DirectiveNode
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.disable_introspection import DisableIntrospection
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from schema.errors import HubError

__all__ = ["CodedErrors", "DocumentCache", "ParsedDocuments", "code_error", "schema_extensions"]

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


class ParsedDocuments:
    """Parsed documents by query text, least recently used dropped first, each marked once it
    has passed validation. One instance per schema: the validation rules are the schema's."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[Any, bool]] = OrderedDict()

    def get(self, text: str) -> tuple[Any, bool] | None:
        entry = self._entries.get(text)
        if entry is not None:
            self._entries.move_to_end(text)
        return entry

    def put(self, text: str, document: Any, *, valid: bool) -> None:
        self._entries[text] = (document, valid)
        self._entries.move_to_end(text)
        if len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class DocumentCache(SchemaExtension):
    """Parse and validate each distinct query text once.

    The same text always parses to the same document and, against the same schema and
    rules, validates the same way; so a text seen before reuses its parsed document, and
    one that passed validation skips it. Handing back the same document object also lets
    :mod:`schema.execution` reuse the operation's compiled plan. Texts that fail to parse or
    validate are not remembered as valid and go through the full checks every time.
    """

    def __init__(self, *, documents: ParsedDocuments) -> None:
        self.documents = documents

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        if text and context.graphql_document is None:
            entry = self.documents.get(text)
            if entry is not None:
                context.graphql_document = entry[0]
        yield
        if text and context.graphql_document is not None and self.documents.get(text) is None:
            self.documents.put(text, context.graphql_document, valid=False)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        text = context.query
        entry = self.documents.get(text) if text else None
        known_valid = entry is not None and entry[1] and entry[0] is context.graphql_document
        if known_valid and context.pre_execution_errors is None:
            context.pre_execution_errors = []
        yield
        if text and not known_valid and context.pre_execution_errors == [] and context.graphql_document is not None:
            self.documents.put(text, context.graphql_document, valid=True)


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
    # The limit rules are built once here: Strawberry's QueryDepthLimiter and MaxAliasesLimiter
    # would create a new rule class for every request.
    limits = [
        depth_validator(max_depth, None, None),
        aliases_validator(max_aliases),
        _max_directives(max_directives),
    ]
    extensions: list[Any] = [
        partial(DocumentCache, documents=ParsedDocuments()),
        partial(MaxTokensLimiter, max_token_count=max_tokens),
        partial(AddValidationRules, limits),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    extensions.append(partial(CodedErrors, debug=debug))
    return extensions
