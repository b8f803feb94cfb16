"""Feishu's rendering of an approval instance and of its ``approval_instance`` event.

snake_case keys; times are epoch milliseconds as STRINGS, ``"0"`` while open; ``form`` is a JSON string.
An instance reads PENDING, APPROVED, REJECTED, CANCELED or DELETED; events add REVERTED (a withdrawn
approval, whose instance then reads CANCELED with ``reverted: true``) and OVERTIME_CLOSE (an instance closed
by timeout, read as CANCELED). In a REVERTED event ``operate_time`` is an integer, not a string.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from simulators.approvals import Instance
from simulators.timefmt import epoch_ms, epoch_ms_str

__all__ = ["EVENT_STATUS", "INSTANCE_STATUS", "render_event", "render_instance"]

INSTANCE_STATUS = {
    "PENDING": "PENDING",
    "APPROVED": "APPROVED",
    "PAID": "APPROVED",
    "REJECTED": "REJECTED",
    "CANCELED": "CANCELED",
    "REVERTED": "CANCELED",
    "EXPIRED": "CANCELED",
    "DELETED": "DELETED",
}
EVENT_STATUS = {**INSTANCE_STATUS, "REVERTED": "REVERTED", "EXPIRED": "OVERTIME_CLOSE"}
_TASK = {"PENDING": "PENDING", "APPROVED": "APPROVED", "REJECTED": "REJECTED", "DONE": "DONE", "CANCELED": "DONE"}
_TIMELINE = {
    "START": "START",
    "AGREE": "PASS",
    "REFUSE": "REJECT",
    "CANCEL": "CANCEL",
    "DELETE": "DELETE",
    "REVERT": "CANCEL",
    "EXPIRE": "AUTO_REJECT",
    "PAY": "PASS",
}


def render_instance(instance: Instance, open_ids: Mapping[str, str], approval_name: str) -> dict[str, Any]:
    """``data`` of ``GET /open-apis/approval/v4/instances/:instance_code``; ``open_ids`` maps user_id to open_id."""
    form = [{"id": f.id, "name": f.name, "type": f.component_type, "value": f.value} for f in instance.form]
    return {
        "approval_code": instance.definition,
        "approval_name": approval_name,
        "instance_code": instance.instance_id,
        "serial_number": instance.business_id[:8] + instance.business_id[-4:],
        "status": INSTANCE_STATUS[instance.status],
        "reverted": instance.status == "REVERTED",
        "start_time": epoch_ms_str(instance.created_at),
        "end_time": epoch_ms_str(instance.finished_at),
        "user_id": instance.originator,
        "open_id": open_ids.get(instance.originator, ""),
        "department_id": instance.department,
        "uuid": instance.extra.get("uuid", ""),
        "form": json.dumps(form, ensure_ascii=False, separators=(",", ":")),
        "task_list": [
            {
                "id": task.task_id,
                "user_id": task.user_id,
                "open_id": open_ids.get(task.user_id, ""),
                "status": _TASK[task.status],
                "node_id": "b078ffd28db767c502ac367053f6e0ac",
                "node_name": task.node_name,
                "custom_node_id": "hr_lead",
                "type": instance.mode,
                "start_time": epoch_ms_str(task.created_at),
                "end_time": epoch_ms_str(task.finished_at),
            }
            for task in instance.tasks
        ],
        "comment_list": [
            {
                "id": f"c{n}",
                "user_id": s.user_id,
                "open_id": open_ids.get(s.user_id, ""),
                "comment": s.comment,
                "create_time": epoch_ms_str(s.at),
            }
            for n, s in enumerate(instance.steps)
            if s.comment
        ],
        "timeline": [
            {
                "type": _TIMELINE[s.kind],
                "create_time": epoch_ms_str(s.at),
                "user_id": s.user_id,
                "open_id": open_ids.get(s.user_id, ""),
                "comment": s.comment,
            }
            for s in instance.steps
        ],
    }


def render_event(instance: Instance, *, app_id: str, tenant_key: str, at: float) -> dict[str, Any]:
    """The ``event`` object of an ``approval_instance`` callback."""
    status = EVENT_STATUS[instance.status]
    operate: int | str = (epoch_ms(at) or 0) if status == "REVERTED" else epoch_ms_str(at)
    return {
        "app_id": app_id,
        "tenant_key": tenant_key,
        "type": "approval_instance",
        "approval_code": instance.definition,
        "instance_code": instance.instance_id,
        "status": status,
        "operate_time": operate,
        "instance_operate_time": operate,
        "uuid": instance.extra.get("uuid", ""),
    }
