"""The query root: lists as Relay connections with filters, ``node``/``nodes``, ``viewer``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from schema.errors import NotFound, ValidationFailed
from schema.permissions import Allow
from schema.prefetch import connection_nodes, prefetch
from schema.relay import Connection, Node, decode_cursor, decode_global_id
from schema.types.ai import Evaluation
from schema.types.interviews import InterviewOutline, InterviewSession
from schema.types.recruiting import Application, ApplicationOutcome, Candidate, Interview, Job, JobStatusEnum
from schema.types.screening import ScreeningResult, ScreeningRun
from schema.types.workflow import ApprovalInstance, Notification

__all__ = ["NODE_TYPES", "RecruitingQuery", "paginate"]

T = TypeVar("T")

#: Global id type name -> (store entity, GraphQL type, read action).
NODE_TYPES: dict[str, tuple[str, Any, str]] = {
    "Job": ("job", Job, "read:jobs"),
    "Candidate": ("candidate", Candidate, "read:candidates"),
    "Application": ("application", Application, "read:applications"),
    "Interview": ("interview", Interview, "read:interviews"),
    "Evaluation": ("evaluation", Evaluation, "read:evaluations"),
    "ScreeningRun": ("screening_run", ScreeningRun, "read:applications"),
    "ScreeningResult": ("screening_result", ScreeningResult, "read:applications"),
    "InterviewSession": ("interview_session", InterviewSession, "read:interviews"),
    "InterviewOutline": ("interview_outline", InterviewOutline, "read:interviews"),
    "ApprovalInstance": ("approval", ApprovalInstance, "read:applications"),
    "Notification": ("notification", Notification, "read:applications"),
}


_TYPE_OF = {
    "job": "Job",
    "candidate": "Candidate",
    "application": "Application",
    "interview": "Interview",
    "audit": "AuditEntry",
    "screening_run": "ScreeningRun",
    "approval": "ApprovalInstance",
    "notification": "Notification",
}


async def paginate(
    info: Info, entity: str, wrap: Callable[[Any], T], *, filters: dict[str, Any], first: int, after: str | None
) -> Connection[T]:
    limit = info.context.settings.max_page_size if info.context.settings else 100
    if first < 0 or first > limit:
        raise ValidationFailed(f"first must be between 0 and {limit}", field="first")
    after_id = decode_cursor(after)
    page = await info.context.store.list_rows(entity, filters=filters, first=first, after=after_id)
    await prefetch(info, _TYPE_OF[entity], page.rows, connection_nodes(info))
    return Connection.build(
        page.rows, has_next=page.has_next, has_previous=after_id is not None, total=page.total, wrap=wrap
    )


def _read(action: str) -> list[Any]:
    return [PermissionExtension(permissions=[Allow(action)], use_directives=False)]


@strawberry.input
class JobFilter:
    status: JobStatusEnum | None = None  # type: ignore[valid-type]
    search: str | None = strawberry.field(default=None, description="Case-insensitive match on the title.")
    updated_after: datetime | None = None


@strawberry.input
class CandidateFilter:
    search: str | None = strawberry.field(
        default=None,
        description="Names. Where the tenant's policy encrypts names, an exact (normalized) match on first, "
        "last or full name through a blind index; otherwise a case-insensitive substring match.",
    )
    email: str | None = strawberry.field(default=None, description="Exact email, matched through a blind index.")
    phone: str | None = strawberry.field(
        default=None, description="Phone in any common spelling (normalized to E.164)."
    )
    national_id: str | None = strawberry.field(default=None, description="Exact national id (blind index).")
    job_id: strawberry.ID | None = None
    stage: str | None = None
    updated_after: datetime | None = None


@strawberry.input
class ApplicationFilter:
    job_id: strawberry.ID | None = None
    candidate_id: strawberry.ID | None = None
    stage: str | None = None
    outcome: ApplicationOutcome | None = None
    updated_after: datetime | None = None


def _filters(obj: Any, ids: dict[str, str]) -> dict[str, Any]:
    """A filter input as the store's plain dict; global ids become hub ids."""
    out: dict[str, Any] = {}
    if obj is None:
        return out
    for name, value in vars(obj).items():
        if value is None or value is strawberry.UNSET:
            continue
        if name in ids:
            value = decode_global_id(value, expect=ids[name])[1]
        elif hasattr(value, "value"):
            value = value.value
        if name in ("search", "email", "phone", "national_id"):
            value = value.strip()
            if not value or len(value) > 320:
                raise ValidationFailed(f"{name} must be 1 to 320 characters", field=name)
        out[name] = value
    return out


@strawberry.type
class Viewer:
    id: strawberry.ID
    name: str
    kind: str
    roles: list[str]


@strawberry.type
class RecruitingQuery:
    @strawberry.field(description="The signed-in principal.")
    def viewer(self, info: Info) -> Viewer:
        v = info.context.viewer
        return Viewer(id=strawberry.ID(str(v.principal_id)), name=v.name, kind=v.kind, roles=sorted(v.roles))

    @strawberry.field(description="Any object by its global id; another tenant's id answers like a missing one.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return (await _load_nodes(info, [id]))[0]

    @strawberry.field
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > 100:
            raise ValidationFailed("at most 100 ids", field="ids")
        return await _load_nodes(info, ids)

    @strawberry.field(extensions=_read("read:jobs"))
    async def jobs(
        self, info: Info, first: int = 20, after: str | None = None, filter: JobFilter | None = None
    ) -> Connection[Job]:
        return await paginate(info, "job", Job.from_row, filters=_filters(filter, {}), first=first, after=after)

    @strawberry.field(extensions=_read("read:candidates"))
    async def candidates(
        self, info: Info, first: int = 20, after: str | None = None, filter: CandidateFilter | None = None
    ) -> Connection[Candidate]:
        filters = _filters(filter, {"job_id": "Job"})
        return await paginate(info, "candidate", Candidate.from_row, filters=filters, first=first, after=after)

    @strawberry.field(extensions=_read("read:applications"))
    async def applications(
        self, info: Info, first: int = 20, after: str | None = None, filter: ApplicationFilter | None = None
    ) -> Connection[Application]:
        filters = _filters(filter, {"job_id": "Job", "candidate_id": "Candidate"})
        return await paginate(info, "application", Application.from_row, filters=filters, first=first, after=after)

    @strawberry.field(extensions=_read("read:interviews"))
    async def interviews(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Interview]:
        return await paginate(info, "interview", Interview.from_row, filters={}, first=first, after=after)


async def _load_nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    from schema.permissions import ACCESS

    out: list[Node | None] = []
    for gid in ids:
        try:
            type_name, row_id = decode_global_id(gid)
        except NotFound:
            out.append(None)
            continue
        spec = NODE_TYPES.get(type_name)
        if spec is None:
            out.append(None)
            continue
        entity, gql_type, action = spec
        if not ACCESS.decide(info.context.viewer.roles, action).allowed:
            out.append(None)
            continue
        row = (await info.context.store.rows_by_ids(entity, [row_id]))[0]
        out.append(gql_type.from_row(row) if row is not None else None)
    return out
