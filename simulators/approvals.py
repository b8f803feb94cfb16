"""One approval engine behind the three OA dialects (DingTalk, WeCom, Feishu).

An `ApprovalBook` keeps dialect-neutral `Instance` objects and moves them through their life; each dialect
module renders them in its own JSON, status codes and time format, and maps its own verbs onto `act`:

    PENDING --agree--> APPROVED --revert--> REVERTED        (PAID after "pay": WeCom's status 10)
       |    --refuse--> REJECTED
       |    --cancel--> CANCELED      (the originator withdraws)
       |    --expire--> EXPIRED
    any    --delete--> DELETED

Approvers form one node: "OR" (any one decides, WeCom ``approverattr`` 1) or "AND" (all must agree).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from simulators.seed import BASE_TIME, DAY, User, World

__all__ = ["ApprovalBook", "FormField", "Instance", "Step", "Task", "TransitionError", "seed_instances"]

FINAL = {"APPROVED", "REJECTED", "CANCELED", "REVERTED", "DELETED", "EXPIRED", "PAID"}


class TransitionError(ValueError):
    """The action does not apply to the instance in its current state."""


@dataclass
class FormField:
    """One filled-in form control."""

    id: str
    name: str
    value: str
    component_type: str = "TextField"
    ext_value: str | None = None


@dataclass
class Task:
    """One approver's task. status: PENDING, APPROVED, REJECTED, DONE (decided by another), CANCELED."""

    task_id: str
    user_id: str
    created_at: float
    status: str = "PENDING"
    finished_at: float | None = None
    comment: str = ""
    node_name: str = "审批人"


@dataclass
class Step:
    """One timeline entry. kind: START, AGREE, REFUSE, CANCEL, REVERT, DELETE, EXPIRE, PAY."""

    kind: str
    user_id: str
    at: float
    comment: str = ""


@dataclass
class Instance:
    """One approval instance, dialect-neutral."""

    instance_id: str
    definition: str
    title: str
    originator: str
    department: str
    form: list[FormField]
    created_at: float
    mode: str = "OR"
    status: str = "PENDING"
    finished_at: float | None = None
    updated_at: float = 0.0
    tasks: list[Task] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    business_id: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class ApprovalBook:
    """The instances of one simulator, in creation order."""

    def __init__(self, new_id: Callable[[float], str], *, clock: Callable[[], float] = time.time) -> None:
        self._new_id = new_id
        self._clock = clock
        self._tasks = 61720000
        self.instances: dict[str, Instance] = {}

    def create(
        self,
        *,
        definition: str,
        title: str,
        originator: str,
        department: str,
        form: list[FormField],
        approvers: list[str],
        mode: str = "OR",
        at: float | None = None,
    ) -> Instance:
        """Start an instance with one pending task per approver."""
        now = self._clock() if at is None else at
        instance = Instance(
            self._new_id(now),
            definition,
            title,
            originator,
            department,
            form,
            now,
            mode,
            updated_at=now,
            business_id=time.strftime("%Y%m%d%H%M", time.gmtime(now)) + f"{len(self.instances) + 1:06d}",
        )
        for user in approvers:
            self._tasks += 1
            instance.tasks.append(Task(str(self._tasks), user, now))
        instance.steps.append(Step("START", originator, now))
        self.instances[instance.instance_id] = instance
        return instance

    def get(self, instance_id: str) -> Instance | None:
        return self.instances.get(instance_id)

    def act(
        self, instance: Instance, action: str, user_id: str | None = None, comment: str = "", at: float | None = None
    ) -> Instance:
        """Apply ``action`` (agree, refuse, cancel, revert, delete, expire, pay); raises TransitionError."""
        now = self._clock() if at is None else at
        pending = [task for task in instance.tasks if task.status == "PENDING"]
        if action in ("agree", "refuse"):
            if instance.status != "PENDING" or not pending:
                raise TransitionError(f"cannot {action} an instance that is {instance.status}")
            task = next((t for t in pending if t.user_id == user_id), None) if user_id else pending[0]
            if task is None:
                raise TransitionError(f"{user_id} has no pending task on this instance")
            task.status, task.finished_at, task.comment = (
                ("APPROVED" if action == "agree" else "REJECTED"),
                now,
                comment,
            )
            instance.steps.append(Step(action.upper(), task.user_id, now, comment))
            if action == "refuse" or instance.mode == "OR" or len(pending) == 1:
                self._finish(instance, "APPROVED" if action == "agree" else "REJECTED", now, "DONE")
        elif action in ("cancel", "expire"):
            if instance.status != "PENDING":
                raise TransitionError(f"cannot {action} an instance that is {instance.status}")
            instance.steps.append(Step(action.upper(), user_id or instance.originator, now, comment))
            self._finish(instance, "CANCELED" if action == "cancel" else "EXPIRED", now, "CANCELED")
        elif action in ("revert", "pay"):
            if instance.status != "APPROVED":
                raise TransitionError(f"cannot {action} an instance that is {instance.status}")
            instance.steps.append(Step(action.upper(), user_id or instance.originator, now, comment))
            instance.status = "REVERTED" if action == "revert" else "PAID"
        elif action == "delete":
            instance.steps.append(Step("DELETE", user_id or instance.originator, now, comment))
            self._finish(instance, "DELETED", now, "CANCELED")
        else:
            raise TransitionError(f"unknown action {action!r}")
        instance.updated_at = now
        return instance

    @staticmethod
    def _finish(instance: Instance, status: str, now: float, leftover: str) -> None:
        instance.status, instance.finished_at = status, instance.finished_at or now
        for task in instance.tasks:
            if task.status == "PENDING":
                task.status, task.finished_at = leftover, now

    def query(
        self,
        *,
        definition: str | None = None,
        start: float | None = None,
        end: float | None = None,
        statuses: set[str] | None = None,
        originator: str | None = None,
    ) -> list[Instance]:
        """Instances in creation order, filtered by definition, creation time [start, end), status, originator."""
        return [
            i
            for i in self.instances.values()
            if (definition is None or i.definition == definition)
            and (start is None or i.created_at >= start)
            and (end is None or i.created_at < end)
            and (statuses is None or i.status in statuses)
            and (originator is None or i.originator == originator)
        ]


def seed_instances(
    book: ApprovalBook,
    world: World,
    count: int,
    *,
    definition: str,
    user_id: Callable[[User], str],
    title: Callable[[str], str],
    department: str = "1",
) -> None:
    """Add ``count`` realistic second-round-interview approvals over the month before the seed date."""
    rng = random.Random(f"{world.seed}:approvals:{definition}")  # noqa: S311 (reproducible, not crypto)
    managers = [u for u in world.users if u.role in ("HIRING_MANAGER", "RECRUITER")] or world.users
    people = {c.uid: c for c in world.candidates}
    jobs = {j.uid: j for j in world.jobs}
    for n in range(count):
        app = world.applications[n % len(world.applications)]
        name = people[app.candidate].full_name
        at = BASE_TIME - 30 * DAY + n * (29 * DAY / max(count, 1))
        form = [
            FormField("TextField-K2AD4O5B", "候选人", name),
            FormField("TextField-J7PQ", "应聘岗位", jobs[app.job].name),
            FormField("DDSelectField-J2BX", "面试轮次", "二面", "DDSelectField", '{"key":"round_2"}'),
            FormField("NumberField-AI01", "AI面试评分", str(rng.randint(60, 98)), "NumberField"),
        ]
        originator, approver = rng.sample(managers, 2) if len(managers) > 1 else (managers[0], managers[0])
        instance = book.create(
            definition=definition,
            title=title(name),
            originator=user_id(originator),
            department=department,
            form=form,
            approvers=[user_id(approver)],
            at=at,
        )
        roll = rng.random()
        if roll < 0.55:
            book.act(instance, "agree", comment="同意", at=at + rng.uniform(0.1, 2) * DAY)
        elif roll < 0.7:
            book.act(instance, "refuse", comment="经验不足，暂不推进", at=at + rng.uniform(0.1, 2) * DAY)
        elif roll < 0.78:
            book.act(instance, "cancel", at=at + rng.uniform(0.1, 1) * DAY)
