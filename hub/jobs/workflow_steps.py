"""The actions a rule can take (``do:`` in :mod:`hub.workflows`): each one a step that claims its key once.

- ``start_approval``: an approval row, then the approval in the tenant's OA system carrying the report;
- ``schedule_interview``: the interview, the candidate's push through the mobile app (time, place and
  interviewers, :mod:`hub.services.notifications`), the entry on the HR system's calendar;
- ``notify_hr``: a notification in the hub and a note on the application in the HR system; nobody is
  rejected and the candidate is not told;
- ``invite_ai_interview``: the candidate's invitation in the mobile app.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from hub.db import models as m
from hub.db.base import utcnow
from hub.jobs.workflow_base import StepContext, add_with_event, claim, definition_code, done, history_line
from hub.services.notifications import Interviewer, Invitation, hr_notice, interview_invitation, interviewers_of
from hub.workflows import Rule

__all__ = ["Steps"]


class Steps(StepContext):
    """The rule actions, as ``_do_<action>`` methods."""

    async def _do_start_approval(
        self, rule: Rule, application: Any, *, evaluation: Any = None, reason: str, **_: Any
    ) -> None:
        key = f"wf:approval:{application.id}:{rule.id or rule.do}"
        if not await claim(self.db, self.tenant, key, "workflow.start_approval"):
            return
        options = rule.with_
        connection = await self._connection("approval", "approval.create")
        code = definition_code(options, connection)
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
                await add_with_event(
                    session,
                    approval,
                    "approval.created",
                    {
                        "application_id": str(application.id),
                        "job_id": str(application.job_id),
                        "rule": rule.id or rule.do,
                    },
                )
                session.add(
                    history_line(application, rule, f"second-round approval requested ({reason})", self.trigger)
                )
            await session.commit()
        remote = None
        if connection is not None:
            payload = await self._approval_payload(connection, approval, application, evaluation, options)
            result = await self._write(connection, "approval.create", payload, f"approval:{approval.id}")
            remote = getattr(result, "remote_id", None)  # write_back linked it to the approval (its approval_id)
        await self._move(application, options.get("move_to_stage"), "second-round approval requested", rule)
        await done(self.db, self.tenant, key, {"approval_id": str(approval.id), "remote_id": remote})

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
            "definition_code": definition_code(options, connection),
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
        if not await claim(self.db, self.tenant, key, "workflow.schedule_interview"):
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
                await add_with_event(
                    session,
                    interview,
                    "interview.created",
                    {"application_id": str(application.id), "by": "workflow", "rule": rule.id or rule.do},
                )
                note = f"round {interview.round} interview scheduled ({reason})"
                session.add(history_line(application, rule, note, self.trigger))
            if interview.start_at is None or interview.end_at is None:  # an upstream copy without a time yet
                interview.start_at, interview.end_at = start, end
            # The interview as it stands (it may have come from the HR system), its interviewers by the
            # names the rule gives them.
            names = {i.id: i.name for i in interviewers}
            invitation = interview_invitation(
                interview.start_at,
                interview.end_at,
                location=interview.location,
                interviewers=[Interviewer(i, names.get(i, i)) for i in interview.interviewers or []],
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
                await add_with_event(
                    session,
                    notification,
                    "notification.created",
                    {"application_id": str(application.id), "candidate_id": str(application.candidate_id)},
                )
            await session.commit()
        await self._move(application, options.get("move_to_stage"), "second-round interview scheduled", rule)
        status = await self._push(rule, application, notification, invitation)
        calendar = await self._calendar(rule, application, interview)
        await done(
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
                session.add(history_line(application, rule, note, self.trigger))
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
            unless_linked=("interview", interview.id),
            event_type="interview.calendar_written",
            entity="interview",
            entity_id=interview.id,
        )

    async def _do_notify_hr(self, rule: Rule, application: Any, *, approval: Any = None, reason: str, **_: Any) -> None:
        """The approval ended without a yes: record it and tell HR. The candidate is neither rejected nor told;
        a person decides what happens next."""
        key = f"wf:notify-hr:{approval.id if approval else application.id}:{rule.on}"
        if not await claim(self.db, self.tenant, key, "workflow.notify_hr"):
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
                await add_with_event(
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
                session.add(
                    history_line(application, rule, f"{reason}; HR notified (no automatic rejection)", self.trigger)
                )
            await session.commit()
        upstream = await self._note_in_hr(rule, application, note)
        await done(self.db, self.tenant, key, {"notification_id": str(note.id), "hr_note": upstream})

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
        if not await claim(self.db, self.tenant, key, "workflow.invite_ai_interview"):
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
        await done(self.db, self.tenant, key, {"invited": mobile is not None and bool(remote)})
