"""The one schema: ``build_schema(...)`` merges each domain's roots into Query, Mutation
and Subscription. A domain adds its root class to the tuples below, nothing else."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.admin_api import AdminMutation, AdminQuery
from schema.engines_api import EnginesMutation, EnginesQuery
from schema.execution import CompiledExecution
from schema.extensions import schema_extensions
from schema.integration_api import IntegrationMutation, IntegrationQuery
from schema.mutations import RecruitingMutation
from schema.queries import RecruitingQuery
from schema.subscriptions import EventSubscription
from schema.types.ai import Evaluation
from schema.types.interviews import InterviewOutline, InterviewSession
from schema.types.recruiting import Application, Candidate, Interview, Job, Resume
from schema.types.screening import ScreeningResult, ScreeningRun
from schema.types.workflow import ApprovalInstance, Notification
from schema.workflow_api import WorkflowMutation, WorkflowQuery

__all__ = ["MUTATION_ROOTS", "QUERY_ROOTS", "SUBSCRIPTION_ROOTS", "build_schema", "sdl"]

QUERY_ROOTS: tuple[type, ...] = (RecruitingQuery, AdminQuery, WorkflowQuery, EnginesQuery)
QUERY_ROOTS += (IntegrationQuery,)
MUTATION_ROOTS: tuple[type, ...] = (RecruitingMutation, WorkflowMutation, AdminMutation, EnginesMutation)
MUTATION_ROOTS += (IntegrationMutation,)
SUBSCRIPTION_ROOTS: tuple[type, ...] = (EventSubscription,)
NODE_CLASSES: list[type] = [Job, Candidate, Resume, Application, Interview, Evaluation, ApprovalInstance, Notification]
NODE_CLASSES += [ScreeningRun, ScreeningResult, InterviewSession, InterviewOutline]  # engines


class HubSchema(strawberry.Schema):
    """Strawberry's schema without its own error logging: :class:`~schema.extensions.CodedErrors`
    logs unexpected errors once, with a reference id and without personal data."""

    def process_errors(self, errors: Any, execution_context: Any = None) -> None:
        return None


def build_schema(*, extensions: list[Any] | None = None, compiled: bool = True) -> strawberry.Schema:
    """The hub's schema. ``extensions`` defaults to production limits with introspection off;
    ``compiled`` runs queries through :mod:`schema.execution`'s plans (graphql-core otherwise)."""
    return HubSchema(
        query=merge_types("Query", QUERY_ROOTS),
        mutation=merge_types("Mutation", MUTATION_ROOTS),
        subscription=merge_types("Subscription", SUBSCRIPTION_ROOTS),
        types=NODE_CLASSES,
        extensions=schema_extensions() if extensions is None else extensions,
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=CompiledExecution if compiled else None,
    )


def sdl() -> str:
    """The SDL committed as ``schema/schema.graphql``."""
    return build_schema(extensions=[]).as_str() + "\n"
