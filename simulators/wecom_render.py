"""WeCom's rendering of an approval: the snake_case ``info`` of ``getapprovaldetail`` (epoch seconds, numeric
``sp_status``) and the PascalCase XML of the ``sys_approval_change`` callback.
"""

from __future__ import annotations

import json
from typing import Any, cast

from simulators.approvals import Instance
from simulators.timefmt import epoch_s

__all__ = ["SP_STATUS", "approval_xml", "control_value", "render_info"]

# neutral status -> sp_status: 1 pending, 2 approved, 3 rejected, 4 revoked, 6 revoked after approval,
# 7 deleted, 10 paid (WeCom has no expiry; an expired instance reads as revoked)
SP_STATUS = {
    "PENDING": 1,
    "APPROVED": 2,
    "REJECTED": 3,
    "CANCELED": 4,
    "EXPIRED": 4,
    "REVERTED": 6,
    "DELETED": 7,
    "PAID": 10,
}
# task status -> details[].sp_status: 1 pending, 2 agreed, 3 rejected (untouched approvers stay 1)
_DETAIL = {"PENDING": 1, "APPROVED": 2, "REJECTED": 3, "DONE": 1, "CANCELED": 1}


def control_value(control: dict[str, Any]) -> str:
    """The readable value of one ``apply_data.contents`` control (Text, Textarea, Number, Money, ...)."""
    value = control.get("value") or {}
    for key in ("text", "new_number", "new_money"):
        if value.get(key) not in (None, ""):
            return str(value[key])
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _node_status(instance: Instance) -> int:
    return {"APPROVED": 2, "PAID": 2, "REVERTED": 2, "REJECTED": 3}.get(instance.status, 1)


def render_info(instance: Instance, titles: dict[str, str]) -> dict[str, Any]:
    """``info`` as ``POST /cgi-bin/oa/getapprovaldetail`` answers it."""
    return {
        "sp_no": instance.instance_id,
        "sp_name": instance.extra.get("sp_name", "审批"),
        "sp_status": SP_STATUS[instance.status],
        "template_id": instance.definition,
        "apply_time": epoch_s(instance.created_at),
        "applyer": {"userid": instance.originator, "partyid": instance.department},
        "sp_record": [
            {
                "sp_status": _node_status(instance),
                "approverattr": 2 if instance.mode == "AND" else 1,
                "details": [
                    {
                        "approver": {"userid": task.user_id},
                        "speech": task.comment,
                        "sp_status": _DETAIL[task.status],
                        "sptime": epoch_s(task.finished_at if task.status in ("APPROVED", "REJECTED") else None),
                        "media_id": [],
                    }
                    for task in instance.tasks
                ],
            }
        ],
        "notifyer": [{"userid": user} for user in cast("list[str]", instance.extra.get("notifyer", []))],
        "apply_data": {
            "contents": [
                {
                    "control": field.component_type,
                    "id": field.id,
                    "title": [{"text": titles.get(field.id, field.name), "lang": "zh_CN"}],
                    "value": json.loads(field.ext_value) if field.ext_value else {"text": field.value},
                }
                for field in instance.form
            ]
        },
        "comments": [],
    }


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def approval_xml(instance: Instance, *, corp_id: str, agent_id: str, change_event: int, now: float) -> str:
    """The decrypted body of a ``sys_approval_change`` callback."""
    details = "".join(
        f"<Details><Approver><UserId>{_cdata(task.user_id)}</UserId></Approver><Speech>{_cdata(task.comment)}"
        f"</Speech><SpStatus>{_DETAIL[task.status]}</SpStatus><SpTime>"
        f"{epoch_s(task.finished_at if task.status in ('APPROVED', 'REJECTED') else None)}</SpTime></Details>"
        for task in instance.tasks
    )
    return (
        f"<xml><ToUserName>{_cdata(corp_id)}</ToUserName><FromUserName>{_cdata('sys')}</FromUserName>"
        f"<CreateTime>{epoch_s(now)}</CreateTime><MsgType>{_cdata('event')}</MsgType>"
        f"<Event>{_cdata('sys_approval_change')}</Event><AgentID>{agent_id}</AgentID><ApprovalInfo>"
        f"<SpNo>{instance.instance_id}</SpNo><SpName>{_cdata(str(instance.extra.get('sp_name', '审批')))}</SpName>"
        f"<SpStatus>{SP_STATUS[instance.status]}</SpStatus><TemplateId>{_cdata(instance.definition)}</TemplateId>"
        f"<ApplyTime>{epoch_s(instance.created_at)}</ApplyTime><Applyer><UserId>{_cdata(instance.originator)}"
        f"</UserId><Party>{_cdata(instance.department)}</Party></Applyer><SpRecord><SpStatus>"
        f"{_node_status(instance)}</SpStatus><ApproverAttr>{2 if instance.mode == 'AND' else 1}</ApproverAttr>"
        f"{details}</SpRecord><StatuChangeEvent>{change_event}</StatuChangeEvent></ApprovalInfo></xml>"
    )
