"""The recruiting store: :class:`schema.context.RecruitingStore` on SQLAlchemy.

One :class:`SqlStore` per request, holding one tenant-scoped session. Strawberry resolves
fields concurrently, and an ``AsyncSession`` must not be used concurrently, so every
database call takes the store's lock. Writes commit with their outbox event in one
transaction ("writes commit first, then publish").
"""

from __future__ import annotations

import asyncio
import functools
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, any_, bindparam, delete, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.vault import Vault, reveal
from schema.context import Page, Viewer
from schema.errors import Conflict, Forbidden, NotFound, ValidationFailed
from schema.relay import NOT_FOUND_MESSAGE

__all__ = ["ENTITIES", "PERSONAL_FIELDS", "SqlStore"]

ENTITIES: dict[str, type[Any]] = {
    "job": m.Job,
    "candidate": m.Candidate,
    "resume": m.Resume,
    "application": m.Application,
    "stage_change": m.StageChange,
    "interview": m.Interview,
    "evaluation": m.Evaluation,
    "screening_run": m.ScreeningRun,
    "screening_result": m.ScreeningResult,
    "interview_session": m.InterviewSession,
    "interview_outline": m.InterviewOutline,
    "audit": m.AuditLog,
    "principal": m.Principal,
    "approval": m.ApprovalInstance,
    "notification": m.Notification,
    # integration: sealed secrets and raw upstream payloads (listed so key rotation covers them)
    "connection": m.Connection,
    "remote_link": m.RemoteLink,
    "quarantine": m.Quarantine,
    "webhook_receipt": m.WebhookReceipt,
    "webhook_subscription": m.WebhookSubscription,
}

#: Columns that hold personal values and how they are stored: ``text``, or ``list`` (JSON-encoded
#: before sealing). Whether a value is encrypted and indexed is the tenant policy's decision.
PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "candidate": {
        "first_name": "text",
        "last_name": "text",
        "emails": "list",
        "phones": "list",
        "national_id": "text",
        "locations": "list",
        "expected_salary": "text",
    },
    "resume": {"text": "text"},
    # the answers as one JSON document (questions with transcripts), sealed as a whole
    "interview_session": {"answers": "text"},
    # Integration secrets and raw upstream payloads: always sealed when a key-encryption key is
    # configured, whatever the tenant's policy says (hub.services.connections.seal_always).
    "connection": {"credentials": "text", "webhook_secret": "text"},
    "remote_link": {"raw": "text"},
    "quarantine": {"raw": "text"},
    "webhook_receipt": {"payload": "text"},
    "webhook_subscription": {"secret": "text"},
}


@functools.cache
def _columns(model: Any) -> tuple[Any, ...]:
    """Every column of ``model``'s table: reads load plain rows, not ORM instances (much
    cheaper for a page of hundreds)."""
    return tuple(model.__table__.columns)


@functools.cache
def _lookup_statement(model: Any, key: str, postgres: bool) -> Select[Any]:
    column = getattr(model, key)
    if postgres:
        match = column == any_(bindparam("values", type_=ARRAY(column.type)))
    else:
        match = column.in_(bindparam("values", expanding=True))
    tenant = model.__table__.c.tenant_id == bindparam("tenant", type_=model.__table__.c.tenant_id.type)
    return select(*_columns(model)).where(tenant, match).order_by(model.id)


@functools.lru_cache(maxsize=512)
def _record_class(fields: tuple[str, ...]) -> type[tuple[Any, ...]]:
    """A tuple with an attribute per column, for one shape of result.

    SQLAlchemy's ``Row`` resolves ``row.name`` through a Python-level mapping lookup (a couple
    of microseconds each); the API types, the presenter and the loaders read hundreds of
    attributes per page, so reads hand out these instead: same values, same order, and
    ``row.name`` is a C-level item lookup."""
    namespace: dict[str, Any] = {"__slots__": (), "_fields": fields}
    for index, name in enumerate(fields):
        namespace[name] = property(itemgetter(index))
    namespace["_asdict"] = lambda self: dict(zip(fields, self, strict=True))
    # never the values: stored personal data stays out of logs and tracebacks
    namespace["__repr__"] = lambda self: f"Record({', '.join(fields)})"
    return type("Record", (tuple,), namespace)


class SqlStore:
    def __init__(
        self,
        session: AsyncSession,
        viewer: Viewer,
        vault: Vault,
        *,
        release_after_read: bool = False,
        on_commit: Callable[[], None] | None = None,
        audit: Any = None,
    ) -> None:
        self.audit = audit
        self.on_commit = on_commit
        self.session = session
        self.viewer = viewer
        self.vault = vault
        self.release_after_read = release_after_read
        self._lock = asyncio.Lock()

    async def _release(self) -> None:
        """Give the pooled connection back (long-lived WebSocket contexts)."""
        if self.release_after_read:
            self.session.expunge_all()
            await self.session.rollback()

    # -- reads ---------------------------------------------------------------------------

    def _own_rows(self, entity: str, model: Any) -> list[ColumnElement[bool]]:
        """A viewer who is only a candidate sees their own records and nothing else."""
        if self.viewer.roles != frozenset({"candidate"}):
            return []
        me = self.viewer.candidate_id
        if me is None:
            return [model.id.is_(None)]
        own_apps = select(m.Application.id).where(m.Application.candidate_id == me)
        if entity == "candidate":
            return [model.id == me]
        if entity in ("application",):
            return [model.candidate_id == me]
        if entity == "resume":
            return [model.candidate_id == me]
        if entity in ("interview", "stage_change", "evaluation"):
            return [model.application_id.in_(own_apps)]
        if entity == "job":
            return [model.id.in_(select(m.Application.job_id).where(m.Application.candidate_id == me))]
        if entity == "notification":
            return [model.recipient_kind == "candidate", model.recipient_id == me]
        if entity == "interview_session":  # theirs, or (no candidate recorded yet) on their own application
            return [
                or_(
                    model.candidate_id == me,
                    and_(model.candidate_id.is_(None), model.application_id.in_(own_apps)),
                )
            ]
        return [model.id.is_(None)]

    def _filtered(self, entity: str, filters: dict[str, Any]) -> tuple[Any, list[ColumnElement[bool]]]:
        model = ENTITIES[entity]
        where = self._own_rows(entity, model)
        for name, value in filters.items():
            if name == "updated_after":
                where.append(model.updated_at > value)
            elif (
                name == "search"
                and entity == "candidate"
                and self.vault.encrypts(self.viewer.tenant_id, "candidate", "first_name")
            ):
                # Encrypted names: exact (normalized) match on first, last or full name via blind
                # indexes (each field has its own key; full names are indexed with the first-name key).
                tenant = self.viewer.tenant_id
                d_first = self.vault.lookup_digest(tenant, "candidate", "first_name", value) or "-"
                d_last = self.vault.lookup_digest(tenant, "candidate", "last_name", value) or "-"
                bi = m.BlindIndex
                where.append(
                    model.id.in_(
                        select(bi.record_id).where(
                            bi.tenant_id == tenant,
                            bi.entity == "candidate",
                            or_(
                                (bi.field == "first_name") & (bi.digest == d_first),
                                (bi.field == "last_name") & (bi.digest == d_last),
                                (bi.field == "full_name") & (bi.digest == d_first),
                            ),
                        )
                    )
                )
            elif name == "search":
                pattern = f"%{value.lower()}%"
                columns = [model.title] if entity == "job" else [model.first_name, model.last_name]
                where.append(or_(*(func.lower(c).like(pattern) for c in columns)))
            elif entity == "candidate" and name in ("email", "phone", "national_id"):
                field = {"email": "emails", "phone": "phones", "national_id": "national_id"}[name]
                digest = self.vault.lookup_digest(self.viewer.tenant_id, "candidate", field, value)
                where.append(
                    model.id.in_(
                        select(m.BlindIndex.record_id).where(
                            m.BlindIndex.tenant_id == self.viewer.tenant_id,
                            m.BlindIndex.entity == "candidate",
                            m.BlindIndex.field == field,
                            m.BlindIndex.digest == (digest or "-"),
                        )
                    )
                )
            elif entity == "candidate" and name in ("job_id", "stage"):
                column = m.Application.job_id if name == "job_id" else m.Application.stage
                where.append(model.id.in_(select(m.Application.candidate_id).where(column == value)))
            else:
                where.append(getattr(model, name) == value)
        return model, where

    async def _read(self, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
        """Run a read on the session's connection as Core: plain rows, no ORM bookkeeping.

        Core statements bypass the ORM's tenant criteria, so every read here carries
        :meth:`_tenant` explicitly (the tenant-isolation tests cover each read)."""
        async with self._lock:
            connection = await self.session.connection()
            result = await connection.execute(stmt, params)
            record = _record_class(tuple(result.keys()))
            rows = [record(row) for row in result.all()]
            await self._release()
        return rows

    def _lookup(self, entity: str, key: str, values: Sequence[Any]) -> tuple[Any, dict[str, Any]]:
        """The tenant's rows of ``entity`` whose ``key`` is one of ``values``, ordered by id: a
        statement built once per model, key and dialect (``= ANY(array)`` on PostgreSQL, so the driver
        prepares one text whatever the number of values), the tenant and values as parameters. A
        candidate's own-rows condition is added to it."""
        model = ENTITIES[entity]
        postgres = self.session.bind.dialect.name == "postgresql"
        stmt = _lookup_statement(model, key, postgres)
        own = self._own_rows(entity, model)
        if own:
            stmt = stmt.where(*own)
        return stmt, {"tenant": self.viewer.tenant_id, "values": list(dict.fromkeys(values))}

    def _tenant(self, model: Any) -> ColumnElement[bool]:
        return model.__table__.c.tenant_id == self.viewer.tenant_id

    async def list_rows(self, entity: str, *, filters: dict[str, Any], first: int, after: uuid.UUID | None) -> Page:
        model, where = self._filtered(entity, filters)
        where.append(self._tenant(model))
        total = select(func.count()).select_from(model.__table__).where(*where).scalar_subquery()
        page: Select[Any] = (
            select(*_columns(model), total.label("_total")).where(*where).order_by(model.id.desc()).limit(first + 1)
        )
        if after is not None:
            page = page.where(model.id < after)
        rows = await self._read(page)
        if rows:
            count = rows[0]._total
        elif after is None:
            count = 0
        else:
            count = (await self._read(select(func.count()).select_from(model.__table__).where(*where)))[0][0]
        return Page(rows=rows[:first], has_next=len(rows) > first, total=count)

    async def rows_by_ids(self, entity: str, ids: Sequence[uuid.UUID]) -> list[Any | None]:
        if not ids:
            return []
        found = {row.id: row for row in await self._read(*self._lookup(entity, "id", ids))}
        return [found.get(i) for i in ids]

    async def rows_by_key(self, entity: str, key: str, values: Sequence[Any]) -> list[list[Any]]:
        stmt, params = self._lookup(entity, key, values)
        groups: dict[Any, list[Any]] = defaultdict(list)
        for row in await self._read(stmt, params):
            groups[getattr(row, key)].append(row)
        return [groups.get(v, []) for v in values]

    # -- writes --------------------------------------------------------------------------

    def _require_staff(self) -> None:
        if self.viewer.roles == frozenset({"candidate"}):
            raise Forbidden("candidates cannot change recruiting records")

    async def _seal(self, entity: str, row: Any, values: dict[str, Any]) -> dict[str, Any]:
        """Seal personal values per policy and refresh their blind indexes (same transaction)."""
        personal = PERSONAL_FIELDS.get(entity, {})
        out = dict(values)
        tenant = self.viewer.tenant_id
        for name, kind in personal.items():
            if name not in out:
                continue
            value = out[name]
            items = [] if value is None else (list(value) if kind == "list" else [value])
            digests = self.vault.blind_indexes(tenant, entity, name, items)
            await self.session.execute(
                delete(m.BlindIndex).where(
                    m.BlindIndex.entity == entity, m.BlindIndex.field == name, m.BlindIndex.record_id == row.id
                )
            )
            self.session.add_all(m.BlindIndex(entity=entity, field=name, digest=d, record_id=row.id) for d in digests)
            if entity == "candidate" and name in ("first_name", "last_name"):
                full = self._full_name({**self._current_names(row), **out})
                fulls = self.vault.blind_indexes(tenant, entity, "first_name", full)
                await self.session.execute(
                    delete(m.BlindIndex).where(
                        m.BlindIndex.entity == entity,
                        m.BlindIndex.field == "full_name",
                        m.BlindIndex.record_id == row.id,
                    )
                )
                self.session.add_all(
                    m.BlindIndex(entity=entity, field="full_name", digest=d, record_id=row.id) for d in fulls
                )
            if self.audit is not None:
                self.audit.record("write", entity, name, row.id, allowed=True)
            if not items:
                out[name] = None
                continue
            text = json.dumps(items, ensure_ascii=False) if kind == "list" else value
            out[name] = self.vault.seal(tenant, entity, name, row.id, text)
        return out

    def _current_names(self, row: Any) -> dict[str, Any]:
        names = {}
        for name in ("first_name", "last_name"):
            stored = getattr(row, name, None)
            if stored is not None:
                names[name] = reveal(self.vault.open(self.viewer.tenant_id, "candidate", name, row.id, stored))
        return names

    @staticmethod
    def _full_name(values: dict[str, Any]) -> list[str]:
        first, last = values.get("first_name") or "", values.get("last_name") or ""
        if not first or not last:
            return []
        return [f"{last}{first}", f"{first} {last}", f"{last} {first}"]

    def _event(self, type_: str, entity: str, row: Any, **data: Any) -> None:
        if entity == "application":  # ids only: subscribers filter by job or candidate
            data.update(job_id=str(row.job_id), candidate_id=str(row.candidate_id))
        elif hasattr(row, "application_id") and row.application_id is not None:
            data["application_id"] = str(row.application_id)
        self.session.add(m.Event(type=type_, entity=entity, entity_id=row.id, data=data))

    async def create(self, entity: str, values: dict[str, Any]) -> Any:
        self._require_staff()
        model = ENTITIES[entity]
        async with self._lock:
            if entity == "application":
                values = await self._prepare_application(values)
            if entity == "interview":
                await self._get_locked("application", values["application_id"])
            row = model(id=new_id())
            for name, value in (await self._seal(entity, row, values)).items():
                setattr(row, name, value)
            self.session.add(row)
            if entity == "application":
                self.session.add(
                    m.StageChange(
                        application_id=row.id,
                        from_stage=None,
                        to_stage=row.stage,
                        reason="application created",
                        actor_kind=self.viewer.kind,
                        actor_id=str(self.viewer.principal_id),
                    )
                )
            self._event(f"{entity}.created", entity, row)
            await self._commit()
        return row

    async def update(self, entity: str, row_id: uuid.UUID, values: dict[str, Any]) -> Any:
        self._require_staff()
        async with self._lock:
            row = await self._get_locked(entity, row_id)
            for name, value in (await self._seal(entity, row, values)).items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            self._event(f"{entity}.updated", entity, row, fields=sorted(values))
            await self._commit()
        return row

    async def move_stage(self, application_id: uuid.UUID, to_stage: str, reason: str | None) -> Any:
        self._require_staff()
        async with self._lock:
            app = await self._get_locked("application", application_id)
            job = await self._get_locked("job", app.job_id)
            if job.stages and to_stage not in job.stages:
                raise ValidationFailed(f"stage must be one of the job's stages: {job.stages}", field="to_stage")
            if app.outcome != "ACTIVE":
                raise Conflict(f"application is {app.outcome}; its stage cannot change")
            if to_stage == app.stage:
                raise Conflict("application is already in this stage")
            self.session.add(
                m.StageChange(
                    application_id=app.id,
                    from_stage=app.stage,
                    to_stage=to_stage,
                    reason=reason,
                    actor_kind=self.viewer.kind,
                    actor_id=str(self.viewer.principal_id),
                )
            )
            app.stage = to_stage
            app.stage_count += 1
            app.last_stage_change_at = app.updated_at = utcnow()
            self._event("application.stage_changed", "application", app, to_stage=to_stage)
            await self._commit()
        return app

    async def _get_locked(self, entity: str, row_id: uuid.UUID) -> Any:
        model = ENTITIES[entity]
        row = (await self.session.scalars(select(model).where(model.id == row_id))).first()
        if row is None:
            raise NotFound(NOT_FOUND_MESSAGE)
        return row

    async def _prepare_application(self, values: dict[str, Any]) -> dict[str, Any]:
        await self._get_locked("candidate", values["candidate_id"])
        job = await self._get_locked("job", values["job_id"])
        stages = job.stages or ["APPLIED"]
        stage = values.get("stage") or stages[0]
        if stage not in stages:
            raise ValidationFailed(f"stage must be one of the job's stages: {stages}", field="stage")
        return {**values, "stage": stage, "applied_at": utcnow()}

    async def _commit(self) -> None:
        try:
            await self.session.commit()
        except IntegrityError:
            await self.session.rollback()
            raise Conflict("this would duplicate an existing record") from None
        if self.on_commit is not None:
            self.on_commit()  # events were committed with the change: publish them now
