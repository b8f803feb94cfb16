"""What the workflow tells people: the candidate's invitation (time in the tenant's zone, place,
interviewers by name) and HR's notice; the rule options they come from are checked when rules are set."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub.services.notifications import Interviewer, hr_notice, interview_invitation, interviewers_of, zone
from hub.workflows import parse_rules

START, END = datetime(2026, 11, 28, 2, 0, tzinfo=UTC), datetime(2026, 11, 28, 3, 30, tzinfo=UTC)


def test_invitation_reads_in_the_tenants_zone_with_place_and_interviewers() -> None:
    invite = interview_invitation(
        START, END, location="总部 3F 面试间", interviewers=[Interviewer("u1", "李雷"), Interviewer("u2", "韩梅梅")],
        timezone="Asia/Shanghai", interview_id="iv-1", round_=2,
    )  # fmt: skip
    assert invite.body == (
        "时间 Time: 2026-11-28 10:00-11:30 (UTC+08:00) · 地点 Place: 总部 3F 面试间 · 面试官 Interviewer: 李雷, 韩梅梅"
    )
    assert invite.data == {
        "kind": "interview_scheduled", "start_at": "2026-11-28T10:00:00+08:00", "end_at": "2026-11-28T11:30:00+08:00",
        "timezone": "Asia/Shanghai", "location": "总部 3F 面试间", "interviewers": ["李雷", "韩梅梅"],
        "interview_id": "iv-1", "round": 2,
    }  # fmt: skip


def test_invitation_without_place_or_interviewers_and_a_naive_time_in_another_zone() -> None:
    naive = START.replace(tzinfo=None), END.replace(tzinfo=None)  # stored UTC without a zone (SQLite)
    invite = interview_invitation(*naive, location=None, interviewers=[], timezone="America/New_York")
    assert invite.body == (
        "时间 Time: 2026-11-27 21:00-22:30 (UTC-05:00) · 地点 Place: 待定 TBD · 面试官 Interviewer: HR"
    )
    assert invite.data["location"] is None and invite.data["interviewers"] == [] and "interview_id" not in invite.data


def test_interviewers_are_hr_ids_or_id_and_name() -> None:
    assert interviewers_of(["u1", {"id": "u2", "name": "李雷"}, {"id": "u3"}]) == [
        Interviewer("u1", "u1"), Interviewer("u2", "李雷"), Interviewer("u3", "u3")
    ]  # fmt: skip
    assert interviewers_of(None) == []
    cases = [("u1", "must be a list"), ([""], r"interviewers\[0\]"), ([{"name": "x"}], r"interviewers\[0\]"),
             ([{"id": "u1", "name": 3}], r"interviewers\[0\]\.name")]  # fmt: skip
    for bad, message in cases:
        with pytest.raises(ValueError, match=message):
            interviewers_of(bad)


def test_zone_names_are_checked() -> None:
    assert str(zone(None)) == "Asia/Shanghai"
    for bad in ("Mars/Olympus", "", 8):
        with pytest.raises(ValueError, match="IANA"):
            zone(bad)


def test_schedule_rules_with_bad_interviewers_or_zone_are_refused_with_their_path() -> None:
    base = {"on": "approval.approved", "do": "schedule_interview"}
    assert parse_rules([{**base, "with": {"interviewers": [{"id": "u1", "name": "李雷"}], "timezone": "UTC"}}])
    with pytest.raises(ValueError, match=r"^automation\.0: .*interviewers\[1\]"):
        parse_rules([{**base, "with": {"interviewers": ["u1", 7]}}])
    with pytest.raises(ValueError, match=r"^automation\.0: .*unknown timezone 'Asia/Nowhere'"):
        parse_rules([{**base, "with": {"timezone": "Asia/Nowhere"}}])


def test_hr_notice_says_nobody_was_rejected() -> None:
    title, body = hr_notice("CANCELED", "二面审批")
    assert title == "审批已撤销 revoked: 二面审批"
    assert "canceled" in body and "not rejected" in body and "HR decision" in body
