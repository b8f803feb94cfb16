"""The workflow runner: the recruiting chain that runs itself.

Every time events are published, ``hub.jobs.run_workflows(tenant)`` is enqueued. It reads the
tenant's events after its cursor (``workflow_cursors``, locked while it runs, so two workers
never process one tenant at once), evaluates each job's automation rules, and performs the
steps. A step claims an idempotency key (``job_runs``) before it acts, so a duplicated
callback, a retried job or two runners never send a second approval or a second notification.
Steps that talk to upstream systems go through :mod:`hub.services.connections`; they carry
the hub's own id as the upstream idempotency key.

Each step leaves an event and, where it concerns an application, an entry in the
application's history with ``actor_kind = "workflow"``, the rule that moved it and the event it
acted on. Steps the workflow sees happen rather than performs (the candidate's submission on the
phone, the score, the approver's decision) get a history line too. The actions are in
:mod:`hub.jobs.workflow_steps`, what they stand on in :mod:`hub.jobs.workflow_base`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import select, text

from hub.db import Database
from hub.db import models as m
from hub.jobs.runtime import database, publish_events, run_async, settings
from hub.jobs.workflow_base import claim, done
from hub.jobs.workflow_steps import Steps
from hub.queues import Queues
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.workflows import Rule, parse_rules, rule_matches, screening_rule_matches

__all__ = ["enqueue_workflows", "run_workflows"]

log = logging.getLogger("hub.workflows")

#: Canonical approval status -> the trigger a rule listens for.
_APPROVAL_TRIGGERS = {
    "APPROVED": "approval.approved",
    "REJECTED": "approval.rejected",
    "CANCELED": "approval.canceled",
    "REVERTED": "approval.reverted",
    "EXPIRED": "approval.expired",
}


def enqueue_workflows(queues: Queues, published: dict[uuid.UUID, int]) -> None:
    for tenant_id, seq in published.items():
        try:
            queues.enqueue(
                "hub.jobs.run_workflows",
                str(tenant_id),
                idempotency_key=f"wf:{tenant_id}:{seq}",
                queue="high",
                timeout=300,
            )
        except Exception as exc:  # the next publish enqueues again; the cursor catches up
            log.warning("could not enqueue workflows for a tenant: %s", type(exc).__name__)


class Runner(Steps):
    """Handles one tenant's events: decides which rules fire and runs their steps."""

    async def _rules(self, job_id: uuid.UUID, trigger: str) -> list[Rule]:
        job = await self._one(m.Job, job_id)
        if job is None:
            return []
        try:
            return [r for r in parse_rules(job.automation) if r.on == trigger]
        except ValueError as exc:  # stored rules are validated on the way in; never crash the chain
            log.warning("job automation invalid: %s", exc)
            return []

    async def handle(self, event: m.Event) -> None:
        data = event.data or {}
        self.trigger = f"{event.type} #{event.seq}"
        if event.type == "interview_session.submitted":
            await self._score(event)
        elif event.type == "evaluation.created":
            application = await self._one(m.Application, data.get("application_id"))
            evaluation = await self._one(m.Evaluation, event.entity_id)
            if application is None or evaluation is None:
                return
            await self._once(
                application,
                f"wf:scored:{evaluation.id}",
                f"AI interview scored: total {evaluation.total}, recommendation {evaluation.recommendation}",
                actor="scoring",
            )
            for rule in await self._rules(application.job_id, "evaluation.created"):
                matched, why = rule_matches(rule, evaluation)
                if matched:
                    await self._act(rule, application, evaluation=evaluation, reason=why)
                else:
                    await self._record(application, f"rule {rule.id or rule.do} did not fire: {why}", emit=False)
        elif event.type == "approval.status_changed":
            trigger = _APPROVAL_TRIGGERS.get(str(data.get("status")))
            approval = await self._one(m.ApprovalInstance, event.entity_id)
            if trigger is None or approval is None or approval.subject_type != "application":
                return
            application = await self._one(m.Application, approval.subject_id)
            if application is None:
                return
            status = str(data.get("status"))
            oa = await self._one(m.Connection, approval.connection_id)
            await self._once(
                application,
                f"wf:approval-status:{approval.id}:{status}",
                f"approval {status} in {oa.name if oa else 'the OA system'} ({data.get('source') or 'callback'})",
                actor="oa-callback",
            )
            for rule in await self._rules(application.job_id, trigger):
                await self._act(rule, application, approval=approval, reason=f"approval {status.lower()}")
        elif event.type == "screening_result.passed":
            await self._passed(event)
        elif event.type == "connection.resumed":
            await self._resumed(event)

    async def _passed(self, event: m.Event) -> None:
        """A result in a screening run's shortlist (:mod:`hub.services.screening_passed`): the job's
        ``screening_result.passed`` rules act on it, unless a person has held or rejected it meanwhile or
        the application is no longer active."""
        data = event.data or {}
        result = await self._one(m.ScreeningResult, event.entity_id)
        application = await self._one(m.Application, result.application_id if result is not None else None)
        if result is None or application is None or not result.passed or application.outcome != "ACTIVE":
            return
        if result.human_decision in ("HOLD", "REJECT"):
            await self._record(
                application, f"screening shortlist: no automation, a person decided {result.human_decision}", emit=False
            )
            return
        reason = f"shortlisted by screening run {data.get('run_id')} (rank {result.rank})"
        await self._once(application, f"wf:passed:{result.id}", reason, actor="screening")
        for rule in await self._rules(application.job_id, "screening_result.passed"):
            matched, why = screening_rule_matches(rule, result)
            if matched:
                await self._act(rule, application, screening_result=result, reason=reason)
            else:
                await self._record(application, f"rule {rule.id or rule.do} did not fire: {why}", emit=False)

    async def _resumed(self, event: m.Event) -> None:
        """A connection is ACTIVE again: plan anew the screening write-backs it missed while it was not
        (:func:`hub.services.screening_sync.pending_runs`); each result is still written once."""
        from hub.jobs.engines import WRITE_BACK_TIMEOUT_SECONDS
        from hub.services.screening_sync import pending_runs

        runs = await pending_runs(self.db, self.tenant, event.entity_id)
        if not runs:
            return
        redis = _sync_redis()
        try:
            queues = Queues(redis, prefix=settings().redis_prefix)
            for run_id in runs:
                queues.enqueue(
                    "hub.jobs.sync_screening_results",
                    str(self.tenant),
                    str(run_id),
                    idempotency_key=f"screening:{run_id}:write-back:resumed:{event.id}",
                    queue="low",
                    timeout=WRITE_BACK_TIMEOUT_SECONDS,
                )
        finally:
            redis.close()

    async def _once(self, application: Any, key: str, note: str, *, actor: str) -> None:
        """A history line for a step the workflow saw happen (not one it performed), written once."""
        if not await claim(self.db, self.tenant, key, "workflow.history"):
            return
        await self._record(application, note, emit=False, rule=actor)
        await done(self.db, self.tenant, key, {})

    async def _score(self, event: m.Event) -> None:
        """AI interview submitted: score it (the scoring job checks consent and is idempotent)."""
        from hub.jobs import __all__ as job_names

        if "score_interview_session" not in job_names:
            return
        interview = await self._one(m.InterviewSession, event.entity_id)
        connection = await self._one(m.Connection, (event.data or {}).get("connection_id"))
        application = await self._one(m.Application, interview.application_id if interview else None)
        redis = _sync_redis()
        try:
            Queues(redis, prefix=settings().redis_prefix).enqueue(
                "hub.jobs.score_interview_session",
                str(self.tenant),
                str(event.entity_id),
                idempotency_key=f"score:{event.entity_id}",
            )
        finally:
            redis.close()
        if application is not None:
            source = f"through {connection.name}" if connection is not None else "on the mobile app"
            await self._once(
                application,
                f"wf:submitted:{event.entity_id}",
                f"AI interview submitted {source}; scoring queued",
                actor="candidate",
            )

    async def _act(self, rule: Rule, application: Any, **context: Any) -> None:
        action = getattr(self, f"_do_{rule.do}")
        await action(rule, application, **context)

    # -- steps ---------------------------------------------------------------------------


def _sync_redis() -> Any:
    from hub.redis import sync_redis

    return sync_redis(settings().redis_url)


class _TenantGone(Exception):
    """The tenant was deleted after the job was queued."""


async def _batch(db: Database, tenant: uuid.UUID, batch: int) -> tuple[m.WorkflowCursor | None, list[m.Event]]:
    async with db.session(tenant) as session:
        cursor = (await session.scalars(select(m.WorkflowCursor))).first()
        if cursor is None:
            # A tenant's cursor goes with the tenant: a job queued for one deleted since finds none.
            if (await session.scalars(select(m.Tenant.id).where(m.Tenant.id == tenant))).first() is None:
                raise _TenantGone
            session.add(m.WorkflowCursor(last_seq=0))
            await session.commit()
            cursor = (await session.scalars(select(m.WorkflowCursor))).one()
        events = list(
            (
                await session.scalars(
                    select(m.Event).where(m.Event.seq > cursor.last_seq).order_by(m.Event.seq).limit(batch)
                )
            ).all()
        )
    return cursor, events


async def _advance(db: Database, tenant: uuid.UUID, seq: int) -> None:
    async with db.session(tenant) as session:
        cursor = (await session.scalars(select(m.WorkflowCursor))).one()
        cursor.last_seq = max(cursor.last_seq, seq)
        await session.commit()


async def _pending(db: Database, tenant: uuid.UUID) -> bool:
    """Whether the tenant has events past its workflow cursor."""
    _cursor, events = await _batch(db, tenant, 1)
    return bool(events)


async def _drain(db: Database, tenant: uuid.UUID, runner: Runner, batch: int) -> int:
    processed = 0
    while True:
        _cursor, events = await _batch(db, tenant, batch)
        for event in events:
            await runner.handle(event)  # a failure leaves the cursor before this event: retried
            await _advance(db, tenant, event.seq or 0)  # events read after a cursor all have one
            processed += 1
        await publish_events()
        if len(events) < batch:
            return processed


async def _run(tenant: uuid.UUID, *, batch: int = 200) -> dict[str, Any]:
    """Process the tenant's events past its cursor, one runner per tenant at a time across every worker.

    On PostgreSQL the runner holds the tenant's advisory lock. A job that finds it held returns at once
    instead of waiting (a worker blocked on a lock is a worker the queue does not have): the holder checks
    for events once more after releasing it and goes on when there are some, so an event published while
    it finished is never left for the next publish.
    """
    db = database()
    vault = PolicyVault(db, kek_from_settings(settings()))
    runner = Runner(db, vault, tenant)
    if not db.url.startswith("postgresql"):
        return {"status": "ok", "processed": await _drain(db, tenant, runner, batch)}
    key = int.from_bytes(tenant.bytes[8:], "big", signed=True)
    processed = 0
    lock = await db.engine.connect()
    try:
        while True:
            if not (await lock.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar():
                return {"status": "busy", "processed": processed}  # the holder sees what we were queued for
            try:
                processed += await _drain(db, tenant, runner, batch)
            finally:
                await lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            if not await _pending(db, tenant):
                return {"status": "ok", "processed": processed}
    finally:
        await lock.close()


def run_workflows(tenant_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Process the tenant's new events through its jobs' automation rules (see module doc)."""
    try:
        result: dict[str, Any] = run_async(_run(uuid.UUID(tenant_id)))
    except _TenantGone:  # nothing of it is left to react to, and retrying cannot help
        return {"status": "tenant_gone", "processed": 0}
    return result
