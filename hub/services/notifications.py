"""What the workflow tells people: the candidate's interview invitation, and HR's note when an approval fails.

The candidate's push goes through the mobile app (``notification.push``); it carries the time (in the
tenant's time zone, with its UTC offset, so a phone in another zone still reads it right), the place and
the interviewers by name, in the body a person reads and in ``data`` the app renders from::

    >>> from datetime import UTC, datetime
    >>> invite = interview_invitation(
    ...     datetime(2026, 11, 28, 2, 0, tzinfo=UTC), datetime(2026, 11, 28, 3, 0, tzinfo=UTC),
    ...     location="总部 3F 面试间", interviewers=[Interviewer("u1", "李雷")], timezone="Asia/Shanghai")
    >>> invite.body
    '时间 Time: 2026-11-28 10:00-11:00 (UTC+08:00) · 地点 Place: 总部 3F 面试间 · 面试官 Interviewer: 李雷'

Rules name interviewers as HR user ids (what the HR calendar needs), or as ``{id, name}`` when the
candidate should read a name (:func:`interviewers_of`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_TIMEZONE",
    "Interviewer",
    "Invitation",
    "hr_notice",
    "interview_invitation",
    "interviewers_of",
    "zone",
]

DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class Interviewer:
    """An interviewer as the HR system names them (``id``) and as the candidate reads them (``name``)."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Invitation:
    """The push to the candidate: a title and body a person reads, ``data`` an app renders."""

    title: str
    body: str
    data: dict[str, Any]


def interviewers_of(value: Any) -> list[Interviewer]:
    """A rule's ``interviewers`` option (HR user ids, or ``{id, name}`` objects) as interviewers.

    Raises:
        ValueError: the option is not a list of ids or of ``{id, name}`` objects.
    """
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValueError("interviewers must be a list of HR user ids or {id, name} objects")
    found = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item.strip():
            found.append(Interviewer(item, item))
        elif isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].strip():
            name = item.get("name")
            if name is not None and not isinstance(name, str):
                raise ValueError(f"interviewers[{index}].name must be a string")
            found.append(Interviewer(item["id"], name or item["id"]))
        else:
            raise ValueError(f"interviewers[{index}] must be an HR user id or an object with an id and a name")
    return found


def zone(name: Any) -> tzinfo:
    """The time zone a rule names (default :data:`DEFAULT_TIMEZONE`).

    Raises:
        ValueError: not an IANA time zone name.
    """
    if name is None:
        name = DEFAULT_TIMEZONE
    if not isinstance(name, str) or not name:
        raise ValueError("timezone must be an IANA time zone name such as Asia/Shanghai")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {name!r}; use an IANA name such as Asia/Shanghai") from None


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def interview_invitation(
    start: datetime,
    end: datetime,
    *,
    location: str | None,
    interviewers: Sequence[Interviewer],
    timezone: Any = None,
    interview_id: str | None = None,
    round_: int | None = None,
) -> Invitation:
    """The candidate's invitation to a scheduled interview (see the module docstring)."""
    tz = zone(timezone)
    local_start = (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(tz)
    local_end = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(tz)
    when = f"{local_start:%Y-%m-%d %H:%M}-{local_end:%H:%M} ({_offset(local_start)})"
    names = ", ".join(i.name for i in interviewers) or "HR"
    place = location or "待定 TBD"
    data: dict[str, Any] = {
        "kind": "interview_scheduled",
        "start_at": local_start.isoformat(),
        "end_at": local_end.isoformat(),
        "timezone": str(tz),
        "location": location,
        "interviewers": [i.name for i in interviewers],
    }
    if interview_id is not None:
        data["interview_id"] = interview_id
    if round_ is not None:
        data["round"] = round_
    return Invitation(
        title="面试安排 Interview scheduled",
        body=f"时间 Time: {when} · 地点 Place: {place} · 面试官 Interviewer: {names}",
        data=data,
    )


def hr_notice(status: str, approval_title: str | None) -> tuple[str, str]:
    """Title and body of HR's notification when an approval ends without a yes (no automatic rejection)."""
    word = {
        "REJECTED": "被拒绝 rejected",
        "CANCELED": "已撤销 revoked",
        "REVERTED": "已撤回 reverted",
        "EXPIRED": "已超时 expired",
    }.get(status, status.lower())
    title = f"审批{word}: {approval_title or '二面审批'}"
    body = (
        f"The approval '{approval_title or 'second round'}' was {status.lower()} in the OA system. "
        "The candidate was not rejected and was not told; the application waits for an HR decision."
    )
    return title, body
