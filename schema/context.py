"""What a resolver may use: the viewer and the services the hub hands in.

The GraphQL layer never touches SQLAlchemy or Redis. It declares here, as protocols, what
it needs; :mod:`hub.services` implements them and :func:`hub.app.create_app` puts them in
the :class:`Context` of every request.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from schema.loaders import Loaders

__all__ = ["ROLES", "Context", "EventEnvelope", "EventStream", "FieldPresenter", "Page", "RecruitingStore", "Viewer"]

ROLES = ("admin", "hr", "interviewer", "approver", "candidate", "integrator")


@dataclass(frozen=True)
class Viewer:
    """The verified principal of a request. ``tenant_id`` comes from the token only."""

    principal_id: uuid.UUID
    tenant_id: uuid.UUID
    kind: str  # user | integrator
    name: str
    roles: frozenset[str]
    candidate_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.principal_id}"

    def has_any(self, *roles: str) -> bool:
        return not self.roles.isdisjoint(roles)


@dataclass
class Page:
    """One page of a keyset-paginated list, as the store answers it."""

    rows: Sequence[Any]
    has_next: bool
    total: int


class RecruitingStore(Protocol):
    """Reads and writes of the recruiting entities, scoped to the viewer's tenant."""

    async def list_rows(self, entity: str, *, filters: dict[str, Any], first: int, after: uuid.UUID | None) -> Page: ...

    async def rows_by_ids(self, entity: str, ids: Sequence[uuid.UUID]) -> list[Any | None]: ...

    async def rows_by_key(self, entity: str, key: str, values: Sequence[Any]) -> list[list[Any]]: ...

    async def create(self, entity: str, values: dict[str, Any]) -> Any: ...

    async def update(self, entity: str, row_id: uuid.UUID, values: dict[str, Any]) -> Any: ...

    async def move_stage(self, application_id: uuid.UUID, to_stage: str, reason: str | None) -> Any: ...


class FieldPresenter(Protocol):
    """Turns a stored personal value into what the viewer may see (clear, masked, hidden)."""

    def present(self, entity: str, field: str, row: Any, subject_candidate_id: uuid.UUID | None) -> Any: ...


@dataclass(frozen=True)
class EventEnvelope:
    """A thin event as it travels the stream: type and ids, never personal data."""

    cursor: str
    event_id: str
    type: str
    entity: str | None
    entity_id: uuid.UUID | None
    occurred_at: datetime
    data: dict[str, Any]


class EventStream(Protocol):
    """The tenant's ordered, resumable event stream."""

    def subscribe(self, tenant_id: uuid.UUID, *, after: str | None) -> AsyncIterator[EventEnvelope]:
        """Events after ``after`` (replayed), then live ones; raises ``ResyncRequired`` when
        ``after`` is older than the stream's retention."""
        ...


@dataclass
class Context:
    viewer: Viewer
    store: RecruitingStore
    presenter: FieldPresenter
    loaders: Loaders
    settings: Any = None
    events: EventStream | None = None
    services: dict[str, Any] = field(default_factory=dict)
    #: Appends the audited reads collected so far (long-lived subscriptions call it per event).
    audit_flush: Callable[[], Awaitable[None]] | None = None
    #: Re-reads the viewer's principal (roles changed, disabled) and applies it to this context.
    reauthorize: Callable[[], Awaitable[None]] | None = None
    request: Any = None
    now: datetime | None = None
