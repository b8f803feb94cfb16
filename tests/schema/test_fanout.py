"""Shared subscription executions: who leads, who waits, and what happens when a leader fails."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import ExecutionResult

from schema.fanout import Lead, Member, SharedData, SharedExecutions, _MemberRun, shared_payload


class _Presenter:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def present(self, entity: str, field: str, row: Any, subject_id: Any) -> Any:
        self.calls.append((entity, field, row, subject_id))
        return "shown"


def _counting(value: Any, calls: list[int]) -> Any:
    async def present() -> Any:
        calls.append(1)
        await asyncio.sleep(0.01)
        return value

    return present


async def test_members_wait_for_the_leaders_result_and_audit_its_reads() -> None:
    shared, calls = SharedExecutions(), []
    lead = await shared.deliver(("k", "1"), _counting("event", calls))
    assert isinstance(lead, Lead) and lead.event == "event"
    waiting = [asyncio.create_task(shared.deliver(("k", "1"), _counting("event", calls))) for _ in range(3)]
    await asyncio.sleep(0.02)
    assert not any(task.done() for task in waiting)
    settled = lead.slot.settle(ExecutionResult({"events": {"cursor": "1"}}, None), [("candidate", "phones", "r", None)])
    members = await asyncio.gather(*waiting)
    assert calls == [1]  # only the leader filtered and loaded the event
    assert all(isinstance(m, Member) and m.result is settled for m in members)
    assert isinstance(settled.data, SharedData)
    assert settled.data.payload_json() == '{"data":{"events":{"cursor":"1"}}}'
    assert (shared.executions, shared.shared) == (1, 3)
    # a member's executor replays the leader's personal reads through the member's own presenter
    presenter = _Presenter()
    parent = type("Parent", (), {"context_value": type("Ctx", (), {"presenter": presenter})()})()
    assert _MemberRun(parent, members[0]).execute_operation() is settled
    assert presenter.calls == [("candidate", "phones", "r", None)]


async def test_nothing_to_push_is_shared_too() -> None:
    shared, calls = SharedExecutions(), []
    assert await shared.deliver(("k", "2"), _counting(None, calls)) is None
    assert await shared.deliver(("k", "2"), _counting("never asked", calls)) is None
    assert calls == [1]


@pytest.mark.parametrize("failure", ["abandoned", "raised"])
async def test_when_the_leader_fails_members_do_the_work_themselves(failure: str) -> None:
    shared, calls = SharedExecutions(), []
    if failure == "abandoned":
        lead = await shared.deliver(("k", "3"), _counting("event", calls))
        member = asyncio.create_task(shared.deliver(("k", "3"), _counting("own event", calls)))
        await asyncio.sleep(0.01)
        lead.slot.abandon()  # its client went away before its execution settled
    else:

        async def broken() -> Any:
            await asyncio.sleep(0.01)
            raise RuntimeError("database went away")

        leader = asyncio.create_task(shared.deliver(("k", "3"), broken))
        member = asyncio.create_task(shared.deliver(("k", "3"), _counting("own event", calls)))
        with pytest.raises(RuntimeError):
            await leader
    assert await member == "own event"  # a plain event: executed by the member itself


def test_only_plain_shared_payloads_reuse_their_json() -> None:
    data = SharedData({"events": {"cursor": "7"}})
    assert shared_payload({"data": data}) == '{"data":{"events":{"cursor":"7"}}}'
    assert shared_payload({"data": data, "errors": [{"message": "x"}]}) is None
    assert shared_payload({"data": {"events": {"cursor": "7"}}}) is None


async def test_a_late_subscriber_loads_the_event_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import schema.fanout

    monkeypatch.setattr(schema.fanout, "SLOT_LIFETIME", 0.0)
    shared, calls = SharedExecutions(), []
    first = await shared.deliver(("k", "4"), _counting("event", calls))
    first.slot.settle(ExecutionResult({"events": None}, None), [])
    await asyncio.sleep(0.01)
    assert isinstance(await shared.deliver(("k", "4"), _counting("event", calls)), Lead)  # not the old result
    assert calls == [1, 1]
