"""The one schema: ``build_schema(...)`` assembles query, mutation and subscription roots."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.extensions import schema_extensions
from schema.mutations import Mutation
from schema.queries import Query
from schema.subscriptions import Subscription
from schema.types.ai import Evaluation
from schema.types.recruiting import Application, Candidate, Interview, Job, Resume

__all__ = ["build_schema", "sdl"]


class HubSchema(strawberry.Schema):
    """Strawberry's schema without its own error logging: :class:`~schema.extensions.CodedErrors`
    logs unexpected errors once, with a reference id and without personal data."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema(*, extensions: list[Any] | None = None) -> strawberry.Schema:
    """The hub's schema. ``extensions`` defaults to production limits with introspection off."""
    return HubSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Job, Candidate, Resume, Application, Interview, Evaluation],
        extensions=schema_extensions() if extensions is None else extensions,
        config=StrawberryConfig(auto_camel_case=True),
    )


def sdl() -> str:
    """The SDL committed as ``schema/schema.graphql``."""
    return build_schema(extensions=[]).as_str() + "\n"
