"""The subscription root: the tenant's event stream and the live views built on it.

Every subscription takes ``after`` (the last cursor the client saw) and replays from it; a
cursor older than the retention answers ``RESYNC_REQUIRED``. Each event's objects are
loaded at push time through the same store, permissions and field policies as a query, for
the subscriber as they are now: a candidate only ever receives their own records, and a
role changed mid-stream applies from the next event on (:mod:`schema.event_stream`).

- ``events(types, after)``: everything (optionally of some types), with the object as ``node``.
- ``applicationEvents(jobId, applicationId, after)``: stage moves and results of applications.
- ``interviewResults(sessionId, candidateId, applicationId, jobId, after)``: AI evaluations
  written, updated or overridden, narrowed by any of the filters (all must match).
- ``screeningRunEvents(runId, after)``: a screening run's progress, completion, failure and
  human decisions on its results.
- ``approvalEvents(approvalId, applicationId, after)``: approvals created and their status changes.
- ``myNotifications(after)``: notifications to the signed-in candidate (only theirs).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from schema.context import EventEnvelope
from schema.errors import Forbidden, NotFound, ValidationFailed
from schema.event_stream import load_row, stream
from schema.permissions import ACCESS
from schema.queries import NODE_TYPES
from schema.relay import NOT_FOUND_MESSAGE, Node, decode_global_id, encode_global_id
from schema.types.ai import Evaluation
from schema.types.screening import ScreeningResult, ScreeningRun
from schema.types.workflow import ApprovalInstance, Notification

__all__ = [
    "ApprovalEvent",
    "EvaluationEvent",
    "EventSubscription",
    "HubEvent",
    "NotificationEvent",
    "ScreeningRunEvent",
    "StreamEvent",
]

_TYPE_OF_ENTITY = {entity: type_name for type_name, (entity, _gql, _action) in NODE_TYPES.items()}

EVALUATION_EVENTS = frozenset({"evaluation.created", "evaluation.updated", "evaluation.overridden"})
SCREENING_RUN_EVENTS = frozenset(
    {"screening_run.created", "screening_run.progress", "screening_run.completed", "screening_run.failed"}
)
APPROVAL_EVENTS = frozenset({"approval.created", "approval.updated", "approval.status_changed"})
NOTIFICATION_EVENTS = frozenset({"notification.created", "notification.updated", "notification.status_changed"})


@strawberry.interface(description="An event of the tenant's ordered stream, as every subscription pushes it.")
class StreamEvent:
    cursor: str = strawberry.field(description="Pass as `after` to resume right after this event.")
    type: str = strawberry.field(description="What happened, e.g. `evaluation.created`.")
    occurred_at: datetime


@strawberry.type(description="One event of the tenant's stream; `node` is loaded for you when it is pushed.")
class HubEvent(StreamEvent):
    entity_type: str | None
    entity_id: strawberry.ID | None
    node: Node | None


@strawberry.type(description="An AI interview evaluation was written (evaluation.created), updated or overridden.")
class EvaluationEvent(StreamEvent):
    evaluation: Evaluation


@strawberry.type(
    description="A screening run was created, progressed, completed or failed (screening_run.*), or one of its "
    "results was decided (screening_result.decided)."
)
class ScreeningRunEvent(StreamEvent):
    run: ScreeningRun
    result: ScreeningResult | None = strawberry.field(description="The decided result (screening_result.decided).")


@strawberry.type(description="An approval was created, updated or changed status (approval.status_changed).")
class ApprovalEvent(StreamEvent):
    approval: ApprovalInstance


@strawberry.type(
    description="A notification to the signed-in candidate was created, updated or changed delivery status "
    "(notification.status_changed)."
)
class NotificationEvent(StreamEvent):
    notification: Notification


def _stamp(envelope: EventEnvelope) -> dict[str, Any]:
    return {"cursor": envelope.cursor, "type": envelope.type, "occurred_at": envelope.occurred_at}


def _may_read(info: Info, action: str) -> bool:
    return ACCESS.decide(info.context.viewer.roles, action).allowed


async def _node(info: Info, envelope: EventEnvelope, type_name: str) -> Node | None:
    entity, gql_type, action = NODE_TYPES[type_name]
    if not _may_read(info, action) or envelope.entity_id is None:
        return None
    row = await load_row(info, entity, envelope.entity_id, envelope.cursor)
    return gql_type.from_row(row) if row is not None else None


async def _hub_event(info: Info, envelope: EventEnvelope) -> HubEvent | None:
    type_name = _TYPE_OF_ENTITY.get(envelope.entity or "")
    gid = encode_global_id(type_name, envelope.entity_id) if type_name and envelope.entity_id else None
    node = await _node(info, envelope, type_name) if gid and type_name else None
    if node is None and (info.context.viewer.roles == frozenset({"candidate"}) or gid is None):
        return None  # not theirs to see (or no object behind it)
    return HubEvent(
        **_stamp(envelope),
        entity_type=type_name,
        entity_id=strawberry.ID(gid) if gid else None,
        node=node,
    )


def _id(value: strawberry.ID | None, type_name: str) -> uuid.UUID | None:
    return decode_global_id(value, expect=type_name)[1] if value is not None else None


async def _require_visible(info: Info, type_name: str, row_id: uuid.UUID) -> Any:
    """Subscribing to one object: it must exist and be the viewer's to see (else NOT_FOUND,
    the same answer as another tenant's id)."""
    entity, _gql, action = NODE_TYPES[type_name]
    row = (await info.context.store.rows_by_ids(entity, [row_id]))[0] if _may_read(info, action) else None
    if row is None:
        raise NotFound(NOT_FOUND_MESSAGE)
    return row


async def _related_application(info: Info, application_id: uuid.UUID | None, cursor: str) -> Any:
    return await load_row(info, "application", application_id, cursor) if application_id else None


@strawberry.type
class EventSubscription:
    @strawberry.subscription(description="Every event of the tenant (optionally of some types), resumable.")
    async def events(
        self, info: Info, types: list[str] | None = None, after: str | None = None
    ) -> AsyncGenerator[HubEvent, None]:
        wanted = frozenset(types or [])
        if len(wanted) > 50:
            raise ValidationFailed("at most 50 event types", field="types")

        async def present(info: Info, e: EventEnvelope) -> HubEvent | None:
            return await _hub_event(info, e) if not wanted or e.type in wanted else None

        async for event in stream(info, after, present):
            yield event

    @strawberry.subscription(description="Changes to applications (stage moves, results) of a job or one application.")
    async def application_events(
        self,
        info: Info,
        job_id: strawberry.ID | None = None,
        application_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[HubEvent, None]:
        job, app = _id(job_id, "Job"), _id(application_id, "Application")

        def keep(e: EventEnvelope) -> bool:
            if e.entity != "application" and "application_id" not in e.data:
                return False
            if app is not None:
                return str(app) in (str(e.entity_id), e.data.get("application_id"))
            if job is not None:
                return str(job) == e.data.get("job_id")
            return True

        async def present(info: Info, e: EventEnvelope) -> HubEvent | None:
            return await _hub_event(info, e) if keep(e) else None

        async for event in stream(info, after, present):
            yield event

    @strawberry.subscription(
        description="AI interview results as they are scored (and updated or overridden), by interview session, "
        "candidate, application or job; every filter given must match. A candidate receives only their own."
    )
    async def interview_results(
        self,
        info: Info,
        session_id: strawberry.ID | None = None,
        candidate_id: strawberry.ID | None = None,
        application_id: strawberry.ID | None = None,
        job_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[EvaluationEvent, None]:
        session = _id(session_id, "InterviewSession")
        candidate, app, job = _id(candidate_id, "Candidate"), _id(application_id, "Application"), _id(job_id, "Job")

        async def present(info: Info, e: EventEnvelope) -> EvaluationEvent | None:
            if e.type not in EVALUATION_EVENTS or e.entity != "evaluation" or e.entity_id is None:
                return None
            if app is not None and e.data.get("application_id") not in (None, str(app)):
                return None  # cheap early exit; the row decides below
            if not _may_read(info, "read:evaluations"):
                return None
            row = await load_row(info, "evaluation", e.entity_id, e.cursor)
            if row is None or (session and row.session_id != session) or (app and row.application_id != app):
                return None
            if candidate is not None or job is not None:
                application = await _related_application(info, row.application_id, e.cursor)
                if application is None:
                    return None
                if (candidate and application.candidate_id != candidate) or (job and application.job_id != job):
                    return None
            return EvaluationEvent(**_stamp(e), evaluation=Evaluation.from_row(row))

        async for event in stream(info, after, present):
            yield event

    @strawberry.subscription(
        description="A screening run's progress and results: created, progress steps, completed (ranked, "
        "shortlist sized) or failed, and people's decisions on its results."
    )
    async def screening_run_events(
        self, info: Info, run_id: strawberry.ID, after: str | None = None
    ) -> AsyncGenerator[ScreeningRunEvent, None]:
        run = decode_global_id(run_id, expect="ScreeningRun")[1]
        await _require_visible(info, "ScreeningRun", run)

        async def present(info: Info, e: EventEnvelope) -> ScreeningRunEvent | None:
            decided = e.type == "screening_result.decided" and e.data.get("run_id") == str(run)
            if not decided and (e.type not in SCREENING_RUN_EVENTS or e.entity_id != run):
                return None
            if not _may_read(info, "read:applications"):
                return None
            row = await load_row(info, "screening_run", run, e.cursor)
            result = None
            if decided and e.entity_id is not None:
                result = await load_row(info, "screening_result", e.entity_id, e.cursor)
            if row is None or (decided and result is None):
                return None
            decision = ScreeningResult.from_row(result) if result is not None else None
            return ScreeningRunEvent(**_stamp(e), run=ScreeningRun.from_row(row), result=decision)

        async for event in stream(info, after, present):
            yield event

    @strawberry.subscription(
        description="Approvals created and their status changes (APPROVED, REJECTED, ...), for one approval "
        "instance or every approval about one application (or all the viewer may see)."
    )
    async def approval_events(
        self,
        info: Info,
        approval_id: strawberry.ID | None = None,
        application_id: strawberry.ID | None = None,
        after: str | None = None,
    ) -> AsyncGenerator[ApprovalEvent, None]:
        approval, app = _id(approval_id, "ApprovalInstance"), _id(application_id, "Application")
        if approval is not None:
            await _require_visible(info, "ApprovalInstance", approval)

        async def present(info: Info, e: EventEnvelope) -> ApprovalEvent | None:
            if e.type not in APPROVAL_EVENTS or e.entity != "approval" or e.entity_id is None:
                return None
            if (approval and e.entity_id != approval) or not _may_read(info, "read:applications"):
                return None
            row = await load_row(info, "approval", e.entity_id, e.cursor)
            if row is None:
                return None
            if app is not None and (row.subject_type != "application" or row.subject_id != app):
                return None
            return ApprovalEvent(**_stamp(e), approval=ApprovalInstance.from_row(row))

        async for event in stream(info, after, present):
            yield event

    @strawberry.subscription(
        description="Notifications to the signed-in candidate (mobile app messages such as interview invitations), "
        "as they are created and delivered. Only for a candidate's sign-in; each candidate sees only their own."
    )
    async def my_notifications(
        self, info: Info, after: str | None = None
    ) -> AsyncGenerator[NotificationEvent, None]:
        if info.context.viewer.candidate_id is None:
            raise Forbidden("only a candidate's sign-in has notifications to subscribe to")

        async def present(info: Info, e: EventEnvelope) -> NotificationEvent | None:
            me = info.context.viewer.candidate_id
            if e.type not in NOTIFICATION_EVENTS or e.entity != "notification" or e.entity_id is None or me is None:
                return None
            if e.data.get("candidate_id") not in (None, str(me)):
                return None  # cheap early exit; the row decides below
            row = await load_row(info, "notification", e.entity_id, e.cursor)
            if row is None or row.recipient_kind != "candidate" or row.recipient_id != me:
                return None
            return NotificationEvent(**_stamp(e), notification=Notification.from_row(row))

        async for event in stream(info, after, present):
            yield event
