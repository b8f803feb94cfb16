"""Automation rules per job, approvals and notifications."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.errors import ValidationFailed
from schema.permissions import Allow
from schema.queries import paginate
from schema.relay import Connection, decode_global_id
from schema.types.recruiting import Job
from schema.types.workflow import ApprovalInstance, Notification

__all__ = ["WorkflowMutation", "WorkflowQuery"]


def _guard(action: str) -> list[Any]:
    return [PermissionExtension(permissions=[Allow(action)], use_directives=False)]


@strawberry.input(
    description="Rules: a list of {on, when, do, with} (see README). `useDefault` installs the default chain."
)
class SetJobAutomationInput:
    job_id: strawberry.ID
    rules: JSON | None = None
    use_default: bool = False


@strawberry.type
class JobAutomationPayload:
    job: Job
    rules: JSON


@strawberry.type
class WorkflowQuery:
    @strawberry.field(extensions=_guard("read:applications"))
    async def approvals(
        self, info: Info, first: int = 20, after: str | None = None, status: str | None = None
    ) -> Connection[ApprovalInstance]:
        filters = {"status": status} if status else {}
        return await paginate(info, "approval", ApprovalInstance.from_row, filters=filters, first=first, after=after)

    @strawberry.field(description="Notifications: a candidate sees their own; staff see all of the tenant's.")
    async def notifications(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Notification]:
        return await paginate(info, "notification", Notification.from_row, filters={}, first=first, after=after)


@strawberry.type
class WorkflowMutation:
    @strawberry.mutation(
        extensions=_guard("write:jobs"),
        description="Set a job's automation rules (validated); they run on the tenant's events.",
    )
    async def set_job_automation(self, info: Info, input: SetJobAutomationInput) -> JobAutomationPayload:
        validate = info.context.services["validate_automation"]
        _, job_id = decode_global_id(input.job_id, expect="Job")
        if input.use_default == (input.rules is not None):
            raise ValidationFailed("give either rules or useDefault: true", field="rules")
        try:
            rules = validate(None if input.use_default else input.rules)
        except ValueError as exc:
            raise ValidationFailed(str(exc), field="rules") from None
        row = await info.context.store.update("job", job_id, {"automation": rules})
        return JobAutomationPayload(job=Job.from_row(row), rules=rules)
