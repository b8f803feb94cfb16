"""Approvals and notifications as clients see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON

from schema.relay import Node, encode_global_id

__all__ = ["ApprovalInstance", "ApprovalTask", "Notification"]


@strawberry.type
class ApprovalTask:
    approver: str | None
    status: str
    comment: str | None


@strawberry.type(description="An approval in the tenant's OA system (DingTalk, WeCom or Feishu), in canonical form.")
class ApprovalInstance(Node):
    _row: strawberry.Private[Any]
    id: strawberry.ID
    definition_code: str
    title: str | None
    status: str = strawberry.field(description="PENDING, APPROVED, REJECTED, CANCELED, REVERTED, DELETED, EXPIRED")
    subject_type: str | None
    subject_id: strawberry.ID | None
    form: JSON
    tasks: list[ApprovalTask]
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> ApprovalInstance:
        subject = None
        if row.subject_type == "application" and row.subject_id is not None:
            subject = strawberry.ID(encode_global_id("Application", row.subject_id))
        return cls(
            _row=row,
            id=strawberry.ID(encode_global_id("ApprovalInstance", row.id)),
            definition_code=row.definition_code,
            title=row.title,
            status=row.status,
            subject_type=row.subject_type,
            subject_id=subject,
            form=row.form or {},
            tasks=[
                ApprovalTask(approver=t.get("approver"), status=t.get("status", ""), comment=t.get("comment"))
                for t in row.tasks or []
            ],
            created_at=row.created_at,
            finished_at=row.finished_at,
        )


@strawberry.type(description="A message to a candidate (mobile app) or to HR, with its delivery status.")
class Notification(Node):
    _row: strawberry.Private[Any]
    _subject_id: strawberry.Private[uuid.UUID | None]
    id: strawberry.ID
    recipient_kind: str
    channel: str
    title: str
    body: str | None
    deep_link: str | None
    status: str
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Notification:
        return cls(
            _row=row,
            _subject_id=row.recipient_id if row.recipient_kind == "candidate" else None,
            id=strawberry.ID(encode_global_id("Notification", row.id)),
            recipient_kind=row.recipient_kind,
            channel=row.channel,
            title=row.title,
            body=row.body,
            deep_link=row.deep_link,
            status=row.status,
            created_at=row.created_at,
            delivered_at=row.delivered_at,
        )
