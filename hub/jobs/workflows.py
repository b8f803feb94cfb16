"""The workflow runner: the recruiting chain that runs itself.

Every time events are published, ``hub.jobs.run_workflows(tenant)`` is enqueued. It reads the
tenant's events after its cursor (``workflow_cursors``, locked while it runs, so two workers
never process one tenant at once), evaluates each job's automation rules, and performs the
steps. A step claims an idempotency key (``job_runs``) before it acts, so a duplicated
callback, a retried job or two runners never send a second approval or a second notification.
Steps that talk to upstream systems go through :mod:`hub.services.connections`; they carry
the hub's own id as the upstream idempotency key.

Each step leaves an event and, where it concerns an application, an entry in the
application's history with ``actor_kind = "workflow"`` and the rule that moved it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hub.db import Database
from hub.db import models as m
from hub.db.base import utcnow
from hub.jobs.runtime import database, publish_events, run_async, settings
from hub.queues import Queues
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.notifications import Invitation, hr_notice, interview_invitation, interviewers_of
from hub.workflows import Rule, parse_rules, rule_matches

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


async def _claim(db: Database, tenant: uuid.UUID, key: str, function: str) -> bool:
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
            return await _claim(db, tenant, key, function)
        return True


async def _done(db: Database, tenant: uuid.UUID, key: str, result: dict[str, Any]) -> None:
    async with db.session(tenant) as session:
        run = (await session.scalars(select(m.JobRun).where(m.JobRun.idempotency_key == key))).one()
        run.status, run.result, run.finished_at = "DONE", result, utcnow()
        await session.commit()


async def _add_with_event(session: Any, row: Any, event_type: str, data: dict[str, Any]) -> None:
    """Add a row and the event that announces it, in the same transaction."""
    session.add(row)
    await session.flush()
    session.add(m.Event(type=event_type, entity=event_type.split(".")[0], entity_id=row.id, data=data))


def _definition_code(options: dict[str, Any], connection: m.Connection | None) -> str:
    """The OA approval template: the rule's, else the connection's ``approval_definition_code`` setting (so the
    default rules work with any tenant's OA system), else the hub's generic code."""
    configured = (connection.settings or {}).get("approval_definition_code") if connection is not None else None
    return str(options.get("definition_code") or configured or "PROC-SECOND-ROUND")


def _note(application: Any, rule: Rule, reason: str, trigger: str = "") -> m.StageChange:
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


class Runner:
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

    async def _rules(self, job_id: uuid.UUID, trigger: str) -> list[Rule]:
        job = await self._one(m.Job, job_id)
        if job is None:
            return []
        try:
            return [r for r in parse_rules(job.automation) if r.on == trigger]
        except ValueError as exc:  # stored rules are validated on the way in; never crash the chain
            log.warning("job automation invalid: %s", exc)
            return []

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

    async def _once(self, application: Any, key: str, note: str, *, actor: str) -> None:
        """A history line for a step the workflow saw happen (not one it performed), written once."""
        if not await _claim(self.db, self.tenant, key, "workflow.history"):
            return
        await self._record(application, note, emit=False, rule=actor)
        await _done(self.db, self.tenant, key, {})

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

    async def _do_start_approval(
        self, rule: Rule, application: Any, *, evaluation: Any = None, reason: str, **_: Any
    ) -> None:
        key = f"wf:approval:{application.id}:{rule.id or rule.do}"
        if not await _claim(self.db, self.tenant, key, "workflow.start_approval"):
            return
        options = rule.with_
        connection = await self._connection("approval", "approval.create")
        code = _definition_code(options, connection)
        async with self.db.session(self.tenant) as session:
            approval = (
                await session.scalars(
                    select(m.ApprovalInstance).where(
                        m.ApprovalInstance.subject_id == application.id,
                        m.ApprovalInstance.definition_code == code,
                    )
                )
            ).first()
            if approval is None:
                approval = m.ApprovalInstance(
                    connection_id=connection.id if connection else None,
                    definition_code=code,
                    title=options.get("title", "二面审批"),
                    status="PENDING",
                    subject_type="application",
                    subject_id=application.id,
                    form={
                        "evaluation_id": str(evaluation.id) if evaluation else None,
                        "total": evaluation.total if evaluation else None,
                        "recommendation": evaluation.recommendation if evaluation else None,
                    },
                )
                await _add_with_event(
                    session,
                    approval,
                    "approval.created",
                    {
                        "application_id": str(application.id),
                        "job_id": str(application.job_id),
                        "rule": rule.id or rule.do,
                    },
                )
                session.add(_note(application, rule, f"second-round approval requested ({reason})", self.trigger))
            await session.commit()
        remote = None
        if connection is not None:
            payload = await self._approval_payload(connection, approval, application, evaluation, options)
            result = await self._write(connection, "approval.create", payload, f"approval:{approval.id}")
            remote = getattr(result, "remote_id", None)
            if remote:
                async with self.db.session(self.tenant) as session:
                    exists = (
                        await session.scalars(
                            select(m.RemoteLink).where(
                                m.RemoteLink.connection_id == connection.id,
                                m.RemoteLink.entity == "approval",
                                m.RemoteLink.remote_id == remote,
                            )
                        )
                    ).first()
                    if exists is None:
                        session.add(
                            m.RemoteLink(
                                connection_id=connection.id,
                                entity="approval",
                                entity_id=approval.id,
                                remote_id=remote,
                                fetched_at=utcnow(),
                            )
                        )
                    await session.commit()
        await self._move(application, options.get("move_to_stage"), "second-round approval requested", rule)
        await _done(self.db, self.tenant, key, {"approval_id": str(approval.id), "remote_id": remote})

    async def _approval_payload(
        self, connection: m.Connection, approval: Any, application: Any, evaluation: Any, options: dict[str, Any]
    ) -> dict[str, Any]:
        from hub.services.vault import reveal

        await self.vault.prepare(self.tenant)
        candidate = await self._one(m.Candidate, application.candidate_id)
        name = ""
        if candidate is not None:
            parts = [
                reveal(self.vault.open(self.tenant, "candidate", f, candidate.id, getattr(candidate, f)))
                for f in ("last_name", "first_name")
                if getattr(candidate, f)
            ]
            name = "".join(parts)
        job = await self._one(m.Job, application.job_id)
        settings_ = connection.settings or {}
        summary = f"{name} · {job.title if job else ''} · AI 面试 {evaluation.total if evaluation else '-'} 分"
        fields = {
            "candidate": ("候选人", name),
            "job": ("职位", job.title if job else ""),
            "score": ("AI 面试得分", str(evaluation.total if evaluation else "")),
            "recommendation": ("建议", evaluation.recommendation if evaluation else ""),
        }
        # An OA template names its controls its own way: ``form_ids`` maps the hub's fields onto them
        # (only mapped fields are sent then); without it, fields go by name.
        form_ids: dict[str, str] | None = options.get("form_ids")
        form = [
            {"id": form_ids[key] if form_ids else key, "name": label, "value": value}
            for key, (label, value) in fields.items()
            if form_ids is None or key in form_ids
        ]
        payload: dict[str, Any] = {
            "definition_code": _definition_code(options, connection),
            "originator": options.get("originator", settings_.get("originator", "")),
            "form": form,
            "report": {"summary": summary, "score": evaluation.total if evaluation else None},
            "summary": summary,
            "approval_id": str(approval.id),
        }
        department = options.get("department_id", settings_.get("department_id"))
        if department:
            payload["department_id"] = department
        if options.get("approvers"):
            payload["approvers"] = options["approvers"]
        return payload

    async def _do_schedule_interview(
        self, rule: Rule, application: Any, *, approval: Any = None, reason: str, **_: Any
    ) -> None:
        """Approved: the interview row, the candidate's push through the mobile app (time, place and
        interviewers), the entry on the HR system's calendar. Each part is idempotent on its own key, so a
        retry after a failed write repeats only what did not happen."""
        key = f"wf:schedule:{approval.id if approval else application.id}:{rule.id or rule.do}"
        if not await _claim(self.db, self.tenant, key, "workflow.schedule_interview"):
            return
        options = rule.with_
        interviewers = interviewers_of(options.get("interviewers"))
        round_ = int(options.get("round", 2))
        start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(
            hours=int(options.get("start_in_hours", 48))
        )
        end = start + timedelta(minutes=int(options.get("duration_minutes", 60)))
        async with self.db.session(self.tenant) as session:
            interview = (
                await session.scalars(
                    select(m.Interview).where(m.Interview.application_id == application.id, m.Interview.round == round_)
                )
            ).first()
            if interview is None:
                interview = m.Interview(
                    application_id=application.id,
                    round=round_,
                    mode=options.get("mode", "ONSITE"),
                    interviewers=[i.id for i in interviewers],
                    start_at=start,
                    end_at=end,
                    location=options.get("location"),
                )
                await _add_with_event(
                    session,
                    interview,
                    "interview.created",
                    {"application_id": str(application.id), "by": "workflow", "rule": rule.id or rule.do},
                )
                note = f"round {interview.round} interview scheduled ({reason})"
                session.add(_note(application, rule, note, self.trigger))
            if interview.start_at is None or interview.end_at is None:  # an upstream copy without a time yet
                interview.start_at, interview.end_at = start, end
            invitation = interview_invitation(
                interview.start_at,
                interview.end_at,
                location=interview.location,
                interviewers=interviewers,
                timezone=options.get("timezone"),
                interview_id=str(interview.id),
                round_=interview.round,
            )
            notification = (
                await session.scalars(
                    select(m.Notification).where(m.Notification.dedupe_key == f"interview-invite:{interview.id}")
                )
            ).first()
            if notification is None:
                notification = m.Notification(
                    recipient_kind="candidate",
                    recipient_id=application.candidate_id,
                    channel="mobile",
                    title=invitation.title,
                    body=invitation.body,
                    deep_link=f"hub://interviews/{interview.id}",
                    dedupe_key=f"interview-invite:{interview.id}",
                )
                await _add_with_event(
                    session,
                    notification,
                    "notification.created",
                    {"application_id": str(application.id), "candidate_id": str(application.candidate_id)},
                )
            await session.commit()
        await self._move(application, options.get("move_to_stage"), "second-round interview scheduled", rule)
        status = await self._push(rule, application, notification, invitation)
        calendar = await self._calendar(rule, application, interview)
        await _done(
            self.db, self.tenant, key, {"interview_id": str(interview.id), "notified": status, "calendar": calendar}
        )

    async def _push(self, rule: Rule, application: Any, notification: Any, invitation: Invitation) -> str:
        """Send the candidate's invitation through the mobile app; the notification's delivery status."""
        mobile = await self._connection("notification", "notification.push")
        to = await self._reference("candidate", application.candidate_id, mobile.id) if mobile else None
        fresh = True  # whether this run sent it (a replayed write-back already recorded its step)
        if mobile is None or not to:
            status, note = "PENDING_CHANNEL", "candidate not notified: no mobile app connection knows the candidate"
        else:
            result = await self._write(
                mobile,
                "notification.push",
                {
                    "to": to,
                    "title": notification.title,
                    "body": notification.body,
                    "deep_link": notification.deep_link,
                    "data": invitation.data,
                },
                f"notification:{notification.id}",
            )
            status = str(getattr(result, "status", None) or "SENT")
            fresh = not (getattr(result, "raw", None) or {}).get("replayed")
            note = f"candidate notified through {mobile.name} ({status}): {notification.body}"
        async with self.db.session(self.tenant) as session:
            row = (await session.scalars(select(m.Notification).where(m.Notification.id == notification.id))).one()
            if fresh and (row.status != status or mobile is not None):
                row.status = status
                row.delivered_at = utcnow() if status in ("SENT", "DELIVERED") else None
                session.add(
                    m.Event(
                        type="notification.status_changed",
                        entity="notification",
                        entity_id=row.id,
                        data={
                            "status": status,
                            "application_id": str(application.id),
                            "candidate_id": str(application.candidate_id),
                            "by": "workflow",
                        },
                    )
                )
                session.add(_note(application, rule, note, self.trigger))
            await session.commit()
        return status

    async def _calendar(self, rule: Rule, application: Any, interview: Any) -> str | None:
        """Put the interview on the HR system's calendar; the HR system's id for it (None: no HR system)."""
        payload = {
            "interviewers": interview.interviewers or [],
            "location": interview.location,
            "start_at": interview.start_at.isoformat(),
            "end_at": interview.end_at.isoformat(),
        }
        return await self._to_hr(
            rule,
            application,
            ("interview", "interview.create"),
            payload,
            f"interview:{interview.id}",
            lambda hr, remote: f"round {interview.round} interview on the HR calendar of {hr} (HR id {remote})",
            event_type="interview.calendar_written",
            entity="interview",
            entity_id=interview.id,
        )

    async def _to_hr(
        self,
        rule: Rule,
        application: Any,
        what: tuple[str, str],
        payload: dict[str, Any],
        key: str,
        note: Callable[[str, Any], str],
        **event: Any,
    ) -> str | None:
        """Write about the application to the HR system (``what``: model and operation) when the tenant has
        one that performs it and knows the application; record the step the first time it happens. Answers
        the HR system's id of what was written (None: nothing was)."""
        hr = await self._connection(*what)
        app_remote = await self._reference("application", application.id, hr.id) if hr else None
        if hr is None or not app_remote:
            return None
        result = await self._write(hr, what[1], {"application_remote_id": app_remote, **payload}, key)
        remote = getattr(result, "remote_id", None)
        if not (getattr(result, "raw", None) or {}).get("replayed"):
            await self._record(
                application, note(hr.name, remote), rule=rule.id or rule.do, connection_id=str(hr.id), **event
            )
        return str(remote) if remote else None

    async def _do_notify_hr(self, rule: Rule, application: Any, *, approval: Any = None, reason: str, **_: Any) -> None:
        """The approval ended without a yes: record it and tell HR. The candidate is neither rejected nor told;
        a person decides what happens next."""
        key = f"wf:notify-hr:{approval.id if approval else application.id}:{rule.on}"
        if not await _claim(self.db, self.tenant, key, "workflow.notify_hr"):
            return
        status = approval.status if approval is not None else rule.on.rsplit(".", 1)[-1].upper()
        title, body = hr_notice(status, approval.title if approval is not None else None)
        async with self.db.session(self.tenant) as session:
            note = (await session.scalars(select(m.Notification).where(m.Notification.dedupe_key == key))).first()
            if note is None:
                note = m.Notification(
                    recipient_kind="hr",
                    recipient_id=application.job_id,
                    channel="hub",
                    title=title,
                    body=body,
                    deep_link=f"hub://applications/{application.id}",
                    dedupe_key=key,
                    status="SENT",
                    delivered_at=utcnow(),
                )
                await _add_with_event(
                    session,
                    note,
                    "notification.created",
                    {
                        "application_id": str(application.id),
                        "job_id": str(application.job_id),
                        "recipient_kind": "hr",
                        "approval_id": str(approval.id) if approval is not None else None,
                    },
                )
                session.add(_note(application, rule, f"{reason}; HR notified (no automatic rejection)", self.trigger))
            await session.commit()
        upstream = await self._note_in_hr(rule, application, note)
        await _done(self.db, self.tenant, key, {"notification_id": str(note.id), "hr_note": upstream})

    async def _note_in_hr(self, rule: Rule, application: Any, notification: Any) -> str | None:
        """Tell the recruiters where they work: a note on the application in the HR system; its id there."""
        return await self._to_hr(
            rule,
            application,
            ("application", "application.note"),
            {"subject": notification.title, "body": notification.body},
            f"notification:{notification.id}",
            lambda hr, remote: f"HR told in {hr}: note on the application (HR id {remote})",
            event_type="application.note_written",
            notification_id=str(notification.id),
        )

    async def _do_invite_ai_interview(self, rule: Rule, application: Any, **_: Any) -> None:
        key = f"wf:invite:{application.id}"
        if not await _claim(self.db, self.tenant, key, "workflow.invite_ai_interview"):
            return
        mobile = await self._connection("interview_session", "session.invite")
        remote = await self._reference("candidate", application.candidate_id, mobile.id) if mobile else None
        if mobile is not None and remote:
            # The app names the application and job as the HR system does, so the submitted session comes
            # back linked to this application (and can be scored).
            payload = {"candidate_remote_id": remote, "package_id": rule.with_.get("package_id", "default")}
            for entity, entity_id in (("application", application.id), ("job", application.job_id)):
                reference = await self._reference(entity, entity_id, mobile.id)
                if reference:
                    payload[f"{entity}_remote_id"] = reference
            if rule.with_.get("questions"):
                payload["questions"] = rule.with_["questions"]
            await self._write(mobile, "session.invite", payload, f"invite:{application.id}")
        await self._record(application, "invited to the AI interview", rule=rule.id or rule.do)
        await _done(self.db, self.tenant, key, {"invited": mobile is not None and bool(remote)})


def _sync_redis() -> Any:
    from hub.redis import sync_redis

    return sync_redis(settings().redis_url)


async def _batch(db: Database, tenant: uuid.UUID, batch: int) -> tuple[m.WorkflowCursor | None, list[m.Event]]:
    async with db.session(tenant) as session:
        cursor = (await session.scalars(select(m.WorkflowCursor))).first()
        if cursor is None:
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


async def _run(tenant: uuid.UUID, *, batch: int = 200) -> dict[str, Any]:
    db = database()
    vault = PolicyVault(db, kek_from_settings(settings()))
    runner = Runner(db, vault, tenant)
    processed = 0
    lock = None
    if db.url.startswith("postgresql"):  # one runner per tenant at a time, across every worker
        lock = await db.engine.connect()
        key = int.from_bytes(tenant.bytes[8:], "big", signed=True)
        await lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
    try:
        while True:
            _cursor, events = await _batch(db, tenant, batch)
            for event in events:
                await runner.handle(event)  # a failure leaves the cursor before this event: retried
                await _advance(db, tenant, event.seq or 0)  # events read after a cursor all have one
                processed += 1
            await publish_events()
            if len(events) < batch:
                return {"status": "ok", "processed": processed}
    finally:
        if lock is not None:
            await lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            await lock.close()


def run_workflows(tenant_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Process the tenant's new events through its jobs' automation rules (see module doc)."""
    result: dict[str, Any] = run_async(_run(uuid.UUID(tenant_id)))
    return result
