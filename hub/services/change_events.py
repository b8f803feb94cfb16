"""What a synced change says: the events written with it and an application's history entries.

``<entity>.created`` / ``.updated`` carrying the ids subscribers filter on (an application's job and
candidate, a row's application), ``application.stage_changed`` (with a ``stage_changes`` entry by the
connector), ``interview_session.submitted`` when a session reaches SUBMITTED, and
``approval.status_changed`` ``{status, application_id}`` when an approval's status changes (the
application when the approval is about one). Events carry ids and types only.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hub.db.base import new_id

__all__ = ["ChangeEvents"]


class ChangeEvents:
    """Event and history rows for one connection's changes in one tenant."""

    def __init__(self, tenant_id: uuid.UUID, connection: Any, source: str) -> None:
        self.tenant_id = tenant_id
        self.connection = connection
        self.source = source

    def event(self, type_: str, entity: str, entity_id: uuid.UUID, now: datetime, **data: Any) -> dict[str, Any]:
        data = {"connection_id": str(self.connection.id), "source": self.source, **data}
        return {
            "id": new_id(),
            "tenant_id": self.tenant_id,
            "type": type_,
            "entity": entity,
            "entity_id": entity_id,
            "data": {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in data.items() if v is not None},
            "created_at": now,
            "updated_at": now,
        }

    def _ids(self, entity: str, values: dict[str, Any], before: Any = None) -> dict[str, Any]:
        """The ids an event carries so subscribers can filter (as the store's events do)."""

        def pick(name: str) -> Any:
            return values.get(name) if values.get(name) is not None else getattr(before, name, None)

        if entity == "application":
            return {"job_id": pick("job_id"), "candidate_id": pick("candidate_id")}
        out = {}
        for name in ("application_id", "candidate_id"):
            if pick(name) is not None:
                out[name] = pick(name)
        return out

    def created(self, entity: str, entity_id: uuid.UUID, values: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
        ids = self._ids(entity, values)
        events = [self.event(f"{entity}.created", entity, entity_id, now, **ids)]
        status = values.get("status")
        if entity == "interview_session" and status == "SUBMITTED":
            events.append(self.event("interview_session.submitted", entity, entity_id, now, **ids))
        if entity == "approval" and status != "PENDING":
            events.append(self.event("approval.status_changed", entity, entity_id, now, status=status))
        return events

    def updated(
        self,
        entity: str,
        entity_id: uuid.UUID,
        values: dict[str, Any],
        before: Any,
        now: datetime,
        stage_rows: list[dict[str, Any]],
    ) -> list[dict[str, Any]]:
        ids = self._ids(entity, values, before)
        events = [self.event(f"{entity}.updated", entity, entity_id, now, **ids)]
        status = values.get("status")
        if entity == "application" and values.get("stage") != before.stage:
            stage_rows.append(self.stage_change(entity_id, before.stage, values["stage"], now))
            events.append(
                self.event(
                    "application.stage_changed",
                    entity,
                    entity_id,
                    now,
                    to_stage=values["stage"],
                    by="connector",
                    **ids,
                )
            )
        if entity == "interview_session" and status == "SUBMITTED" and before.status != "SUBMITTED":
            events.append(self.event("interview_session.submitted", entity, entity_id, now, **ids))
        if entity == "approval" and status != before.status:
            subject = before.subject_id if before.subject_type == "application" else None
            events.append(
                self.event("approval.status_changed", entity, entity_id, now, status=status, application_id=subject)
            )
        return events

    def stage_change(self, application_id: uuid.UUID, before: str | None, after: str, now: datetime) -> dict:
        return {
            "id": new_id(),
            "tenant_id": self.tenant_id,
            "application_id": application_id,
            "from_stage": before,
            "to_stage": after,
            "reason": f"synced from {self.connection.name}",
            "actor_kind": "connector",
            "actor_id": str(self.connection.id),
            "created_at": now,
            "updated_at": now,
        }
