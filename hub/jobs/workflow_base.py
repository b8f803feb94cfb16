"""What every workflow step stands on: claiming a step once, recording it, reading and writing upstream.

A step claims an idempotency key (``job_runs``) before it acts (`claim`) and marks it done at the end
(`done`), so a duplicated callback, a retried job or two runners never act twice; a step that failed half
way is claimed again and repeats only what did not happen (each upstream write has its own key).
`StepContext` holds the tenant's database, vault and the event being handled, and the helpers steps use:
load a row, find the connection that performs an operation, name a hub entity as an upstream does, write
back, and leave a line in the application's history (with the rule and the event that moved it).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.services.crypto import PolicyVault
from hub.workflows import Rule

__all__ = ["StepContext", "add_with_event", "claim", "definition_code", "done", "history_line"]


async def claim(db: Database, tenant: uuid.UUID, key: str, function: str) -> bool:
    """Claim a step once per tenant: False when it already ran to the end."""
    async with db.session(tenant) as session:
        existing = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).first()
        if existing is not None:
            if existing.status == "DONE":
                return False
            existing.attempts += 1
            await session.commit()
            return True
        session.add(m.JobRun(idempotency_key=key, function=function))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return await claim(db, tenant, key, function)
        return True


async def done(db: Database, tenant: uuid.UUID, key: str, result: dict[str, Any]) -> None:
    async with db.session(tenant) as session:
        run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
        run.status, run.result, run.finished_at = "DONE", result, utcnow()
        await session.commit()


async def add_with_event(session: Any, row: Any, event_type: str, data: dict[str, Any]) -> None:
    """Add a row and the event that announces it, in the same transaction."""
    session.add(row)
    await session.flush()
    session.add(m.Event(type=event_type, entity=event_type.split(".")[0], entity_id=row.id, data=data))


def definition_code(options: dict[str, Any], connection: m.Connection | None) -> str:
    """The OA approval template: the rule's, else the connection's ``approval_definition_code`` setting (so the
    default rules work with any tenant's OA system), else the hub's generic code."""
    configured = (connection.settings or {}).get("approval_definition_code") if connection is not None else None
    return str(options.get("definition_code") or configured or "PROC-SECOND-ROUND")


def history_line(application: Any, rule: Rule, reason: str, trigger: str = "") -> m.StageChange:
    """A line in the application's history saying what the workflow did, which rule moved it and on which
    event (``trigger``: ``<event type> #<cursor>``)."""
    return m.StageChange(
        application_id=application.id,
        from_stage=application.stage,
        to_stage=application.stage,
        actor_kind="workflow",
        actor_id=rule.id or rule.do,
        reason=f"{reason} [{trigger}]" if trigger else reason,
    )


class StepContext:
    """The tenant a runner works for, the event in hand, and the helpers its steps use."""

    def __init__(self, db: Database, vault: PolicyVault, tenant: uuid.UUID) -> None:
        self.db = db
        self.vault = vault
        self.tenant = tenant
        self.trigger = ""  # the event being handled, as history lines name it: "<type> #<cursor>"

    # -- loading -------------------------------------------------------------------------

    async def _one(self, model: Any, row_id: Any) -> Any:
        if row_id is None:
            return None
        async with self.db.session(self.tenant) as session:
            return (await session.scalars(select(model).where(model.id == uuid.UUID(str(row_id))))).first()

    async def _reference(self, entity: str, entity_id: uuid.UUID, connection_id: uuid.UUID) -> str | None:
        """How that connection's upstream names the hub entity (the mobile app knows HR's ids)."""
        from hub.services.connections import remote_reference

        return await remote_reference(self.db, self.tenant, entity, entity_id, connection_id=connection_id)

    async def _connection(self, model: str, operation: str) -> m.Connection | None:
        from hub.services.connections import find_connection

        return await find_connection(self.db, self.tenant, capability_model=model, operation=operation)

    async def _write(self, connection: m.Connection, operation: str, payload: dict[str, Any], key: str) -> Any:
        from hub.services.connections import write_back

        return await write_back(
            self.db, self.vault, self.tenant, connection.id, operation, payload, idempotency_key=key
        )

    # -- events --------------------------------------------------------------------------
    async def _record(
        self,
        application: Any,
        note: str,
        *,
        emit: bool = True,
        event_type: str = "workflow.note",
        entity: str = "application",
        entity_id: uuid.UUID | None = None,
        **data: Any,
    ) -> None:
        async with self.db.session(self.tenant) as session:
            if emit:
                session.add(
                    m.Event(
                        type=event_type,
                        entity=entity,
                        entity_id=entity_id or application.id,
                        data={"application_id": str(application.id), "job_id": str(application.job_id), **data},
                    )
                )
            session.add(
                m.StageChange(
                    application_id=application.id,
                    from_stage=application.stage,
                    to_stage=application.stage,
                    reason=f"{note} [{self.trigger}]" if self.trigger else note,
                    actor_kind="workflow",
                    actor_id=data.get("rule"),
                )
            )
            await session.commit()

    async def _move(self, application: Any, stage: str | None, reason: str, rule: Rule) -> None:
        if not stage:
            return
        async with self.db.session(self.tenant) as session:
            app = (await session.scalars(select(m.Application).where(m.Application.id == application.id))).one()
            job = (await session.scalars(select(m.Job).where(m.Job.id == app.job_id))).one()
            if stage not in (job.stages or []) or app.stage == stage or app.outcome != "ACTIVE":
                return
            session.add(
                m.StageChange(
                    application_id=app.id,
                    from_stage=app.stage,
                    to_stage=stage,
                    reason=reason,
                    actor_kind="workflow",
                    actor_id=rule.id or rule.do,
                )
            )
            app.stage, app.stage_count, app.last_stage_change_at = stage, app.stage_count + 1, utcnow()
            session.add(
                m.Event(
                    type="application.stage_changed",
                    entity="application",
                    entity_id=app.id,
                    data={
                        "job_id": str(app.job_id),
                        "candidate_id": str(app.candidate_id),
                        "to_stage": stage,
                        "by": "workflow",
                    },
                )
            )
            await session.commit()

    async def _to_hr(
        self,
        rule: Rule,
        application: Any,
        what: tuple[str, str],
        payload: dict[str, Any],
        key: str,
        note: Callable[[str, Any], str],
        *,
        unless_linked: tuple[str, uuid.UUID] | None = None,
        **event: Any,
    ) -> str | None:
        """Write about the application to the HR system (``what``: model and operation) when the tenant has
        one that performs it and knows the application; record the step the first time it happens. Answers
        the HR system's id of what was written (None: nothing was). ``unless_linked`` names the hub entity
        the write creates: when the HR system has it already (it came from there), nothing is written."""
        hr = await self._connection(*what)
        app_remote = await self._reference("application", application.id, hr.id) if hr else None
        if hr is None or not app_remote:
            return None
        if unless_linked is not None:
            async with self.db.session(self.tenant) as session:
                query = select(m.RemoteLink.remote_id).where(
                    m.RemoteLink.connection_id == hr.id,
                    m.RemoteLink.entity == unless_linked[0],
                    m.RemoteLink.entity_id == unless_linked[1],
                )
                there = (await session.scalars(query)).first()
            if there is not None:
                return str(there)
        result = await self._write(hr, what[1], {"application_remote_id": app_remote, **payload}, key)
        remote = getattr(result, "remote_id", None)
        if not (getattr(result, "raw", None) or {}).get("replayed"):
            await self._record(
                application, note(hr.name, remote), rule=rule.id or rule.do, connection_id=str(hr.id), **event
            )
        return str(remote) if remote else None
