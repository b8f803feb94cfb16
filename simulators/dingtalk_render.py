"""DingTalk's rendering of an approval instance: camelCase, UTC ISO times to the minute, RUNNING/COMPLETED
plus agree/refuse, tasks and operation records.
"""

from __future__ import annotations

from typing import Any

from simulators.approvals import Instance
from simulators.timefmt import iso_minute

__all__ = ["render_instance"]

_STATUS = {
    "PENDING": ("RUNNING", ""),
    "APPROVED": ("COMPLETED", "agree"),
    "PAID": ("COMPLETED", "agree"),
    "REJECTED": ("COMPLETED", "refuse"),
    "CANCELED": ("TERMINATED", ""),
    "EXPIRED": ("TERMINATED", ""),
    "REVERTED": ("TERMINATED", ""),
    "DELETED": ("CANCELED", ""),
}
_TASK = {
    "PENDING": ("RUNNING", "NONE"),
    "APPROVED": ("COMPLETED", "AGREE"),
    "REJECTED": ("COMPLETED", "REFUSE"),
    "DONE": ("CANCELED", "NONE"),
    "CANCELED": ("CANCELED", "NONE"),
}
_RECORD = {
    "START": ("START_PROCESS_INSTANCE", "NONE"),
    "AGREE": ("EXECUTE_TASK_NORMAL", "AGREE"),
    "REFUSE": ("EXECUTE_TASK_NORMAL", "REFUSE"),
}


def render_instance(instance: Instance, corp_id: str) -> dict[str, Any]:
    """An instance as ``GET processInstances`` answers it (None values are left out, as DingTalk does)."""
    status, result = _STATUS[instance.status]
    out: dict[str, Any] = {
        "title": instance.title,
        "createTime": iso_minute(instance.created_at),
        "finishTime": iso_minute(instance.finished_at),
        "originatorUserId": instance.originator,
        "originatorDeptId": instance.department,
        "status": status,
        "result": result,
        "businessId": instance.business_id,
        "bizAction": "NONE",
        "approverUserIds": [task.user_id for task in instance.tasks],
        "formComponentValues": [
            {
                k: v
                for k, v in {
                    "id": f.id,
                    "name": f.name,
                    "value": f.value,
                    "componentType": f.component_type,
                    "extValue": f.ext_value,
                }.items()
                if v is not None
            }
            for f in instance.form
        ],
        "operationRecords": [
            {
                "userId": s.user_id,
                "date": iso_minute(s.at),
                "type": _RECORD.get(s.kind, ("TERMINATE_PROCESS_INSTANCE", "NONE"))[0],
                "result": _RECORD.get(s.kind, ("", "NONE"))[1],
                "remark": s.comment,
            }
            for s in instance.steps
        ],
        "tasks": [
            {
                "taskId": t.task_id,
                "userId": t.user_id,
                "status": _TASK[t.status][0],
                "result": _TASK[t.status][1],
                "createTime": iso_minute(t.created_at),
                "finishTime": iso_minute(t.finished_at),
                "activityId": "act_1",
                "pcUrl": f"https://aflow.dingtalk.com/dingtalk/pc/query/pchomepage.htm?corpid={corp_id}&dinstid={instance.instance_id}",
            }
            for t in instance.tasks
        ],
    }
    for task in out["tasks"]:
        if task["finishTime"] is None:
            del task["finishTime"]
    return {k: v for k, v in out.items() if v is not None}
