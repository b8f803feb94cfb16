"""Upstream payloads exactly as dialects.md shows them (values invented there), plus small variants."""

from __future__ import annotations

import copy
import json
from typing import Any

HR_CANDIDATE: dict[str, Any] = {
    "id": "521b18c2-4d01-4297-b451-19858d07c133",
    "remote_id": "21198",
    "first_name": "伟",
    "last_name": "张",
    "company": "示例机器人",
    "title": "高级后端工程师",
    "phone_numbers": [{"value": "+86-138-0000-0000", "phone_number_type": "MOBILE"}],
    "email_addresses": [{"value": "wei.zhang@example.com", "email_address_type": "PERSONAL"}],
    "tags": ["campus-2025"],
    "applications": ["92e8a369-fffe-430d-b93a-f7e8a16563f1"],
    "modified_at": "2025-03-09T10:12:44Z",
    "remote_was_deleted": False,
    "remote_data": [{"path": "/candidates/21198", "data": {"stageName": "二面", "mode": "social"}}],
}

HR_JOB: dict[str, Any] = {
    "id": "7a0e4b7e-0001-4000-8000-000000000017",
    "remote_id": "J-2025-017",
    "name": "高级后端工程师",
    "code": "J-2025-017",
    "description": "负责订单系统",
    "status": "OPEN",
    "mode": "social",
    "departments": ["dept-1"],
    "offices": ["office-1"],
    "hiring_managers": [],
    "recruiters": [],
    "created_at": "2025-01-02T03:04:05Z",
    "modified_at": "2025-03-01T00:00:00Z",
    "remote_was_deleted": False,
    "custom_fields": {"language": "zh"},
}

HR_APPLICATION: dict[str, Any] = {
    "id": "92e8a369-fffe-430d-b93a-f7e8a16563f1",
    "remote_id": "98796",
    "candidate": HR_CANDIDATE["id"],
    "job": HR_JOB["id"],
    "applied_at": "2025-03-01T08:00:00Z",
    "rejected_at": None,
    "current_stage": "stage-2",
    "source": "Boss直聘",
    "reject_reason": None,
    "modified_at": "2025-03-09T10:12:44Z",
    "remote_was_deleted": False,
    "remote_data": [{"path": "/applications/98796", "data": {"stageName": "二面", "mode": "social"}}],
}

HR_STAGE: dict[str, Any] = {
    "id": "stage-2",
    "remote_id": "702",
    "name": "Second Interview",
    "job": HR_JOB["id"],
    "stage_order": 2,
    "modified_at": "2025-01-02T03:04:05Z",
    "remote_was_deleted": False,
    "remote_data": [{"path": "/stages/702", "data": {"stageName": "二面"}}],
}

HR_INTERVIEW: dict[str, Any] = {
    "id": "int-1",
    "remote_id": "30001",
    "application": HR_APPLICATION["id"],
    "job_interview_stage": "stage-2",
    "organizer": "user-1",
    "interviewers": ["user-2", "user-3"],
    "location": "北京市朝阳区望京SOHO T1 12层",
    "start_at": "2025-03-10T06:00:00Z",
    "end_at": "2025-03-10T07:00:00Z",
    "status": "SCHEDULED",
    "modified_at": "2025-03-09T11:00:00Z",
    "remote_was_deleted": False,
}

HR_ATTACHMENT: dict[str, Any] = {
    "id": "att-1",
    "remote_id": "50001",
    "file_name": "张伟_简历.pdf",
    "file_url": "https://hr.example.com/api/attachments/att-1/content",
    "candidate": HR_CANDIDATE["id"],
    "attachment_type": "RESUME",
    "modified_at": "2025-03-01T00:00:00Z",
    "remote_was_deleted": False,
    "remote_data": [{"path": "/attachments/50001", "data": {"language": "zh"}}],
}
RESUME_TEXT = "张伟\n五年 Go 与 Kafka 经验，主导过订单系统重构。"

DINGTALK_INSTANCE_READ: dict[str, Any] = {
    "success": True,
    "result": {
        "title": "张三提交的二面审批",
        "createTime": "2025-03-09T02:10Z",
        "finishTime": "2025-03-09T06:45Z",
        "originatorUserId": "manager1",
        "status": "COMPLETED",
        "result": "agree",
        "businessId": "202503091010000123",
        "formComponentValues": [
            {"id": "TextField-K2AD4O5B", "name": "候选人", "value": "张伟", "componentType": "TextField"},
            {
                "id": "DDSelectField-J2BX",
                "name": "面试轮次",
                "value": "二面",
                "extValue": '{"key":"round_2"}',
                "componentType": "DDSelectField",
            },
        ],
        "tasks": [
            {
                "taskId": "61720098",
                "userId": "hr_lead_01",
                "status": "COMPLETED",
                "result": "AGREE",
                "createTime": "2025-03-09T02:10Z",
                "finishTime": "2025-03-09T06:45Z",
                "activityId": "act_2",
            }
        ],
    },
}

WECOM_DETAIL: dict[str, Any] = {
    "errcode": 0,
    "errmsg": "ok",
    "info": {
        "sp_no": "202503090001",
        "sp_name": "二面审批",
        "sp_status": 2,
        "template_id": "3WLJF6naF5jhnXvwisuPmE85wVMYcy2F4",
        "apply_time": 1741486200,
        "applyer": {"userid": "ZhangSan", "partyid": "2"},
        "sp_record": [
            {
                "sp_status": 2,
                "approverattr": 1,
                "details": [{"approver": {"userid": "HrLead"}, "speech": "同意", "sp_status": 2, "sptime": 1741502700}],
            }
        ],
        "apply_data": {
            "contents": [
                {
                    "control": "Text",
                    "id": "Text-1511",
                    "title": [{"text": "候选人", "lang": "zh_CN"}],
                    "value": {"text": "张伟"},
                }
            ]
        },
    },
}

FEISHU_INSTANCE: dict[str, Any] = {
    "code": 0,
    "msg": "success",
    "data": {
        "approval_code": "7C468A54-8745-4D64-A3D5-5B8F2F9F4E01",
        "instance_code": "81D31358-93AF-92D6-7425-01A5D67C4E71",
        "status": "APPROVED",
        "start_time": "1741486200000",
        "end_time": "1741502700000",
        "user_id": "f3ta757q",
        "open_id": "ou_3cda9c969f737aaa05e6915dce306cb9",
        "form": '[{"id":"widget1","type":"input","value":"张伟"}]',
        "task_list": [
            {"id": "1234", "user_id": "f7cb567e", "status": "APPROVED", "node_name": "HR负责人", "type": "OR"}
        ],
        "timeline": [{"type": "PASS", "create_time": "1741502700000", "user_id": "f7cb567e", "comment": "同意"}],
    },
}

MOBILE_SESSION: dict[str, Any] = {
    "sessionId": "ais_01HQ7Z6K8M",
    "packageId": "pkg_backend_l3",
    "candidate": {"remoteId": "21198", "email": "wei.zhang@example.com", "phone": "+86-138-0000-0000"},
    "application": {"remoteId": "98796"},
    "job": {"remoteId": "J-2025-017", "name": "高级后端工程师"},
    "device": {"platform": "android", "appVersion": "3.4.1"},
    "consent": {"aiScoring": True, "grantedAt": 1741500000000},
    "status": "SUBMITTED",
    "startedAt": 1741500012000,
    "submittedAt": 1741501410000,
    "updatedAt": 1741501410000,
    "answers": [
        {
            "questionId": "q1",
            "question": "请介绍一次你主导解决的线上故障",
            "durationMs": 118000,
            "transcript": "嗯，我们当时用 Kafka 做异步解耦，然后……",
        }
    ],
}


def variant(record: dict[str, Any], n: int, *id_keys: str) -> dict[str, Any]:
    """A copy with ``-n`` appended to each id key (nested keys as ``a.b``)."""
    out = copy.deepcopy(record)
    for key in id_keys:
        target, *path = key.split(".")
        holder = out
        while path:
            holder = holder[target]
            target = path.pop(0)
        holder[target] = f"{holder[target]}-{n}"
    return out


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
