"""What the three OA dialects share: the canonical ``approval.create`` request, parsed once.

Each OA connector turns an `ApprovalRequest` into its own body (DingTalk ``formComponentValues``, WeCom
``apply_data.contents``, Feishu's JSON-string ``form``). The optional ``report`` (the AI interview report
a second-round approval carries) becomes one more text field, id from the connection setting
``report_field_id`` (default ``report``) and name from ``report_field_name`` (default ``面试报告``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from connectors.base import require_keys
from connectors.errors import ConnectorConfigError, WritePayloadInvalid
from connectors.times import TimeParseError, parse_time

__all__ = ["ApprovalRequest", "Approvers", "FormValue", "list_range", "parse_approval_request"]


@dataclass(frozen=True, slots=True)
class FormValue:
    id: str | None
    name: str | None
    value: str
    multiline: bool = False


@dataclass(frozen=True, slots=True)
class Approvers:
    user_ids: list[str]
    mode: str  # AND (all must agree) or OR (any one)


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    definition_code: str
    originator: str
    department_id: str | None
    approvers: list[Approvers]
    form: list[FormValue]
    summary: str | None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _report_text(report: Mapping[str, Any]) -> str:
    lines = []
    if report.get("score") is not None:
        lines.append(f"总分 Score: {report['score']}")
    if report.get("summary"):
        lines.append(str(report["summary"]))
    if report.get("url"):
        lines.append(f"报告 Report: {report['url']}")
    return "\n".join(lines)


def parse_approval_request(payload: Mapping[str, Any], settings: Mapping[str, Any]) -> ApprovalRequest:
    """Validate and parse the canonical payload (see ``connectors.base.WRITE_OPERATIONS``)."""
    require_keys("approval.create", payload, "definition_code", "originator", "form")
    raw_form = payload["form"]
    if not isinstance(raw_form, list):
        raise WritePayloadInvalid("approval.create: form must be a list of {id, name, value}")
    form = []
    for index, entry in enumerate(raw_form):
        if not isinstance(entry, Mapping) or "value" not in entry or not (entry.get("id") or entry.get("name")):
            raise WritePayloadInvalid(f"approval.create: form[{index}] needs an id or a name, and a value")
        form.append(FormValue(entry.get("id"), entry.get("name"), _text(entry["value"])))
    report = payload.get("report")
    if isinstance(report, Mapping) and _report_text(report):
        form.append(
            FormValue(
                settings.get("report_field_id", "report"),
                settings.get("report_field_name", "面试报告"),
                _report_text(report),
                multiline=True,
            )
        )
    approvers = []
    for index, group in enumerate(payload.get("approvers") or []):
        users = group.get("user_ids") if isinstance(group, Mapping) else None
        mode = str(group.get("mode", "OR")).upper() if isinstance(group, Mapping) else ""
        if not isinstance(users, list) or not users or mode not in ("AND", "OR"):
            raise WritePayloadInvalid(f"approval.create: approvers[{index}] needs user_ids and mode AND or OR")
        approvers.append(Approvers([str(u) for u in users], mode))
    department = payload.get("department_id") or settings.get("default_department_id")
    return ApprovalRequest(
        definition_code=str(payload["definition_code"]),
        originator=str(payload["originator"]),
        department_id=None if department in (None, "") else str(department),
        approvers=approvers,
        form=form,
        summary=payload.get("summary"),
    )


def list_range(settings: Mapping[str, Any], since: datetime | None) -> tuple[float, float]:
    """The ``(start, end)`` epoch seconds an approval list covers.

    OA list APIs filter on the instance's *start* time, so an incremental read (``since``) looks back
    ``lookback_days`` (default 7) to catch instances that started earlier and changed since; a full read
    starts at the setting ``history_start`` (ISO 8601 or epoch) or ``list_window_days`` (default 120)
    before now. Callbacks cover changes to older instances.
    """
    now = time.time()
    if since is not None:
        return since.timestamp() - float(settings.get("lookback_days", 7)) * 86_400, now
    history = settings.get("history_start")
    if history is not None:
        try:
            start = parse_time(history)
        except TimeParseError as exc:
            raise ConnectorConfigError(f"setting history_start: {exc}") from None
        if start is not None:
            return start.timestamp(), now
    return now - float(settings.get("list_window_days", 120)) * 86_400, now
