"""One execution per event for subscribers whose results would be identical.

A thousand subscribers of one hub process running the same operation each used to execute
its selection set for every event. Most of them would get the same answer: what a
subscription returns depends on the tenant, the operation document and its variables, and
the subscriber's effective authorization (its roles, and for a viewer tied to a candidate,
that candidate); nothing else in the result is per subscriber. Those inputs, plus the event's
cursor, make a group key; per key and event one member (the first to get there) filters,
loads and executes, and the others take its result.

What stays per member:

- Re-authorization: each member handles ``principal.updated`` itself and computes its key
  from its viewer as it is now, so a member whose roles change leaves its group from the
  next event on (its key differs).
- Audit: the leader's execution records which personal fields it presented; each member
  presents the same fields through its own presenter, which audits the read for that
  member (the value itself is not used again).
- Transport: each member sends its own frame, but the payload is serialized once per group
  (:meth:`SharedData.payload_json`).

A leader that fails or goes away (its client disconnected) abandons its slot; members then
do the work themselves, so one subscriber's failure never costs another an event.

The executor side: :func:`share_subscription_events` gives a schema an execution context
class whose per-event executor hands a member the group's result instead of executing.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from graphql import ExecutionResult

from schema.errors import HubError

__all__ = ["Lead", "Member", "SharedData", "SharedExecutions", "share_subscription_events"]

#: How long a member waits for its leader before doing the work itself.
LEADER_TIMEOUT = 10.0
#: A group's result serves the members that reach the event within this many seconds (a live
#: fan-out takes milliseconds); a subscriber replaying the event later loads it afresh.
SLOT_LIFETIME = 5.0

_ABANDONED: Any = object()
_SKIP: Any = object()


class SharedData(dict[str, Any]):
    """A subscription result's ``data`` shared by a group; serialized once for all members."""

    __slots__ = ("_json",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self._json: str | None = None

    def payload_json(self) -> str:
        """``{"data": ...}`` as JSON (the payload of a result without errors or extensions)."""
        if self._json is None:
            self._json = json.dumps({"data": self}, ensure_ascii=False, separators=(",", ":"))
        return self._json


def shared_payload(payload: Any) -> str | None:
    """The JSON of a transport payload ``{"data": SharedData}`` when it can be reused as is."""
    if type(payload) is dict and len(payload) == 1:
        data = payload.get("data")
        if isinstance(data, SharedData):
            return data.payload_json()
    return None


class _Slot:
    """One group's work for one event: the leader's executed result (or that there is
    nothing to push). A leader that neither settles nor abandons its slot within
    :data:`LEADER_TIMEOUT` (a bug, or a generator never closed) is given up on, so members
    never wait forever."""

    __slots__ = ("expires", "result", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.result: asyncio.Future[Any] = loop.create_future()
        self.timer = loop.call_later(LEADER_TIMEOUT, self.abandon)
        self.expires = loop.time() + SLOT_LIFETIME

    def finish(self, outcome: Any) -> None:
        self.timer.cancel()
        if not self.result.done():
            self.result.set_result(outcome)

    def settle(self, result: ExecutionResult, calls: list[tuple[Any, ...]]) -> ExecutionResult:
        if isinstance(result.data, dict) and not isinstance(result.data, SharedData):
            result = ExecutionResult(SharedData(result.data), result.errors, result.extensions)
        self.finish((result, calls))
        return result

    def abandon(self) -> None:
        self.finish(_ABANDONED)


class Lead:
    """The payload a group's leader yields: its event, executed normally, result shared."""

    __slots__ = ("event", "slot")

    def __init__(self, event: Any, slot: _Slot) -> None:
        self.event = event
        self.slot = slot


class Member:
    """The payload a member yields: the leader's executed result, and the personal fields it
    presented (to audit for this member)."""

    __slots__ = ("calls", "result")

    def __init__(self, result: ExecutionResult, calls: list[tuple[Any, ...]]) -> None:
        self.result = result
        self.calls = calls


class SharedExecutions:
    """The slots of recent (group, event) pairs of one process, oldest dropped first.

    ``executions`` counts the events a leader executed, ``shared`` the deliveries that took a
    leader's result (what the grouping saved)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        self.executions = 0
        self.shared = 0

    def __len__(self) -> int:
        return len(self._slots)

    async def deliver(self, key: Hashable, present: Callable[[], Awaitable[Any]]) -> Any:
        """What this subscriber yields for the event: a :class:`Lead`, a :class:`Member`, a
        plain event (its leader gave up: it did the work itself), or ``None`` (nothing to push).

        ``present`` filters and loads the event for the subscriber; the group's leader calls
        it, members call it only when the leader failed."""
        slot = self._slots.get(key)
        loop = asyncio.get_running_loop()
        if slot is None or slot.expires < loop.time():
            slot = self._slots[key] = _Slot(loop)
            self._slots.move_to_end(key)
            if len(self._slots) > self.size:
                self._slots.popitem(last=False)
            try:
                event = await present()
            except BaseException:
                slot.abandon()
                raise
            if event is None:
                slot.finish(_SKIP)
                return None
            self.executions += 1
            return Lead(event, slot)
        outcome = slot.result.result() if slot.result.done() else await asyncio.shield(slot.result)
        if outcome is _SKIP:
            return None
        if outcome is _ABANDONED:
            return await present()
        self.shared += 1
        return Member(*outcome)


class _RecordingPresenter:
    """The leader's presenter, noting each personal field it presents (for the members' audit)."""

    def __init__(self, inner: Any, calls: list[tuple[Any, ...]]) -> None:
        self._inner = inner
        self._calls = calls

    def present(self, entity: str, field: str, row: Any, subject_id: Any) -> Any:
        self._calls.append((entity, field, row, subject_id))
        return self._inner.present(entity, field, row, subject_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _RecordingContext:
    """The leader's context for one event's execution, with a recording presenter."""

    def __init__(self, inner: Any, calls: list[tuple[Any, ...]]) -> None:
        self._inner = inner
        self.presenter = _RecordingPresenter(inner.presenter, calls)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _LeadRun:
    """Executes the leader's event and hands the result to its slot."""

    def __init__(self, executor: Any, slot: _Slot) -> None:
        self.executor = executor
        self.slot = slot

    def execute_operation(self, serially: bool | None = None) -> Any:
        calls: list[tuple[Any, ...]] = []
        self.executor.context_value = _RecordingContext(self.executor.context_value, calls)
        try:
            result = self.executor.execute_operation(serially)
        except BaseException:
            self.slot.abandon()
            raise
        if self.executor.is_awaitable(result):
            return self._settle(result, calls)
        return self.slot.settle(result, calls)

    async def _settle(self, pending: Awaitable[ExecutionResult], calls: list[tuple[Any, ...]]) -> ExecutionResult:
        try:
            result = await pending
        except BaseException:
            self.slot.abandon()
            raise
        return self.slot.settle(result, calls)


class _MemberRun:
    """Hands a member the leader's result; audits the personal fields it shows for this member."""

    def __init__(self, parent: Any, payload: Member) -> None:
        self.parent = parent
        self.payload = payload

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        presenter = self.parent.context_value.presenter
        for entity, field, row, subject_id in self.payload.calls:
            try:
                presenter.present(entity, field, row, subject_id)  # records this member's read
            except HubError:  # e.g. DATA_UNAVAILABLE: the shared result carries the same error
                continue
        return self.payload.result


class _SharedEventsMixin:
    def build_per_event_executor(self, payload: Any) -> Any:
        if isinstance(payload, Member):
            return _MemberRun(self, payload)
        if isinstance(payload, Lead):
            return _LeadRun(super().build_per_event_executor(payload.event), payload.slot)  # type: ignore[misc]
        return super().build_per_event_executor(payload)  # type: ignore[misc]


def share_subscription_events(schema: Any) -> Any:
    """Let ``schema`` execute :class:`Lead` and :class:`Member` payloads (composes with
    whatever execution context class it already has); answer the schema."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

    base = schema.execution_context_class or StrawberryGraphQLCoreExecutionContext
    if not issubclass(base, _SharedEventsMixin):
        schema.execution_context_class = type(f"Shared{base.__name__}", (_SharedEventsMixin, base), {})
    return schema
