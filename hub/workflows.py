"""Automation rules per job, and the decision whether a rule fires for an event.

A job's ``automation`` is a list of rules, set through GraphQL (``setJobAutomation``):

```yaml
- on: evaluation.created            # an AI interview was scored
  when: {min_total: 80, all_must_have_scored: true}
  do: start_approval                # second-round approval in the tenant's OA system
  with: {definition_code: PROC-SECOND-ROUND, title: 二面审批}   # default: the connection's approval_definition_code
- on: approval.approved
  do: schedule_interview            # interview row, HR calendar, candidate notified on the phone
  with: {round: 2, mode: ONSITE, location: 总部 3F 面试间, interviewers: [{id: hr_lead_01, name: 李雷}],
         start_in_hours: 48, duration_minutes: 60, timezone: Asia/Shanghai}
- on: approval.rejected             # also approval.canceled, approval.reverted
  do: notify_hr
```

The default chain (``DEFAULT_RULES``) is exactly this. Rules only ever move a candidate
forward or ask a person: there is no action that rejects a candidate (AI assists, people decide).

``schedule_interview`` names interviewers by their HR user id (the HR calendar needs it) or as
``{id, name}`` (the candidate's push shows the name); ``timezone`` (IANA, default Asia/Shanghai) is the
zone the candidate reads the time in. Both are checked when the rules are set.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hub.services.notifications import interviewers_of, zone

__all__ = [
    "ACTIONS",
    "CONDITIONS",
    "DEFAULT_RULES",
    "Rule",
    "RuleSet",
    "parse_rules",
    "rule_matches",
    "screening_rule_matches",
]

ACTIONS = ("start_approval", "schedule_interview", "notify_hr", "invite_ai_interview")
TRIGGERS = (
    "evaluation.created",
    "approval.approved",
    "approval.rejected",
    "approval.canceled",
    "approval.reverted",
    "approval.expired",
    "interview_session.submitted",
    "screening_result.passed",
)


class Condition(BaseModel):
    """``when``: on ``evaluation.created`` every field reads the AI interview's evaluation; on
    ``screening_result.passed`` ``min_total`` reads the screening score (0 to 100); other triggers take none."""

    model_config = ConfigDict(extra="forbid")

    min_total: float | None = Field(default=None, ge=0, le=100)
    all_must_have_scored: bool = False
    recommendation_in: list[str] | None = None

    def fields_set(self) -> set[str]:
        """The conditions this rule states (not left at their defaults)."""
        return set(self.model_dump(exclude_defaults=True))


#: The conditions each trigger can check; a rule stating another one is refused when it is set.
CONDITIONS: dict[str, frozenset[str]] = {
    "evaluation.created": frozenset({"min_total", "all_must_have_scored", "recommendation_in"}),
    "screening_result.passed": frozenset({"min_total"}),
}


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str | None = Field(default=None, max_length=64)
    on: Literal[
        "evaluation.created",
        "approval.approved",
        "approval.rejected",
        "approval.canceled",
        "approval.reverted",
        "approval.expired",
        "interview_session.submitted",
        "screening_result.passed",
    ]
    when: Condition = Field(default_factory=Condition)
    do: Literal["start_approval", "schedule_interview", "notify_hr", "invite_ai_interview"]
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    @field_validator("with_")
    @classmethod
    def _bounded(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(str(value)) > 4000:
            raise ValueError("rule options are too large")
        return value

    @model_validator(mode="after")
    def _conditions_apply(self) -> Rule:
        stated = self.when.fields_set() - CONDITIONS.get(self.on, frozenset())
        if stated:
            raise ValueError(f"when: {', '.join(sorted(stated))} cannot be checked on {self.on}")
        return self

    @model_validator(mode="after")
    def _schedule_options(self) -> Rule:
        if self.do == "schedule_interview":
            interviewers_of(self.with_.get("interviewers"))
            if "timezone" in self.with_:
                zone(self.with_["timezone"])
        return self


class RuleSet(BaseModel):
    rules: list[Rule] = Field(default_factory=list, max_length=20)


DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "id": "second-round-approval",
        "on": "evaluation.created",
        "when": {"min_total": 80, "all_must_have_scored": True},
        "do": "start_approval",
        "with": {"title": "二面审批"},  # the template: the OA connection's approval_definition_code setting
    },
    {
        "id": "schedule-second-round",
        "on": "approval.approved",
        "do": "schedule_interview",
        "with": {
            "round": 2,
            "mode": "ONSITE",
            "location": "总部 3F 面试间",
            "interviewers": [],
            "start_in_hours": 48,
            "duration_minutes": 60,
        },
    },
    {"id": "tell-hr-rejected", "on": "approval.rejected", "do": "notify_hr"},
    {"id": "tell-hr-canceled", "on": "approval.canceled", "do": "notify_hr"},
    {"id": "tell-hr-reverted", "on": "approval.reverted", "do": "notify_hr"},
]


def parse_rules(data: Any) -> list[Rule]:
    """Validate rules (a list of dicts); raise ``ValueError`` naming the offending path."""
    try:
        return RuleSet(rules=data or []).rules
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(p) for p in first["loc"][1:])
        raise ValueError(f"automation.{path}: {first['msg']}") from None


def screening_rule_matches(rule: Rule, result: Any) -> tuple[bool, str]:
    """Whether ``rule``'s condition holds for a shortlisted screening result, and why."""
    floor = rule.when.min_total
    if floor is not None and result.score < floor:
        return False, f"screening score {result.score:g} below {floor:g}"
    return (
        True,
        "no condition on the screening score" if floor is None else f"screening score {result.score:g} meets the rule",
    )


def rule_matches(rule: Rule, evaluation: Any | None) -> tuple[bool, str]:
    """Whether ``rule``'s condition holds for the evaluation (if the trigger has one), and why."""
    cond = rule.when
    if evaluation is None:
        return True, "no condition on this trigger"
    total = evaluation.total
    if cond.min_total is not None and (total is None or total < cond.min_total):
        return False, f"total {total} below {cond.min_total}"
    if cond.all_must_have_scored:
        missing = [d["key"] for d in evaluation.dimension_scores or [] if d.get("must_have") and d.get("score") is None]
        missing_flag = (evaluation.override or {}).get("missing_must_have") if evaluation.override else None
        if missing or missing_flag:
            return False, f"must-have dimensions unscored: {missing or missing_flag}"
    if cond.recommendation_in is not None and evaluation.recommendation not in cond.recommendation_in:
        return False, f"recommendation {evaluation.recommendation} not in {cond.recommendation_in}"
    return True, f"total {total} meets the rule"
