"""A screening run's shortlist drives the job's rules, and a resumed HR connection gets what it missed:

- a finished run commits one ``screening_result.passed`` event per shortlisted result (never more, and
  never again when the completion is repeated); a rule ``on: screening_result.passed, do:
  invite_ai_interview`` invites exactly those candidates through the mobile app, once each, on both ways a
  run finishes (chunks then ranking, and the whole-library path from cached profiles);
- a run that finished while the HR connection was PAUSED is written back when the connection is set ACTIVE
  again (``setConnectionStatus``), each result once, however often the connection is paused and resumed.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hub.db import models as m
from hub.runtime import Runtime
from hub.services.connections import remote_reference
from hub.services.screening_passed import MAX_PASSED_EVENTS, emitted_count
from hub.services.screening_runs import finish_run
from schema.relay import decode_global_id
from simulators.hr import create_hr_app
from simulators.mobile import create_mobile_app
from simulators.seed import Sizes, World, build_world
from tests.hub.integration_support import Hub, connect_hr, connect_mobile, drain, serving
from tests.hub.test_screening import gid, post
from tests.hub.test_screening_write_back import _run, _set_status, _synced_job, _upstream
from tests.hub.test_workflow_steps import _run_workflows

pytestmark = pytest.mark.e2e

SET_AUTOMATION = """mutation($input: SetJobAutomationInput!) { setJobAutomation(input: $input) { rules } }"""
SET_STATUS = """mutation($input: SetConnectionStatusInput!) {
  setConnectionStatus(input: $input) { connection { status } } }"""
INVITE_SHORTLIST = [{"id": "invite-shortlist", "on": "screening_result.passed", "do": "invite_ai_interview"}]


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(23, Sizes(candidates=40, jobs=3))


def test_the_number_of_passed_events_is_the_shortlist_capped() -> None:
    assert [emitted_count(n) for n in (0, 1, 7)] == [0, 1, 7]
    assert emitted_count(80_000) == MAX_PASSED_EVENTS


async def _invitations(hub: Hub) -> dict[uuid.UUID, Any]:
    """The AI-interview invitations the workflow recorded as done, by application."""
    runs = await hub.rows(m.JobRun, m.JobRun.function == "workflow.invite_ai_interview")
    return {uuid.UUID(r.idempotency_key.removeprefix("wf:invite:")): r for r in runs}


async def test_a_shortlist_is_invited_to_the_ai_interview_once(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    hr_app, mobile_app = create_hr_app(world), create_mobile_app(world)
    sessions = mobile_app.state.sim.state.rows
    with serving(hr_app, mobile_app) as (hr_server, mobile_server):
        hr = await connect_hr(hub, hr_server, hr_app, breaker_failures=100)
        mobile = await connect_mobile(hub, mobile_server, mobile_app)
        job_id = await _synced_job(hub, hr.id)
        answer = await post(
            client, hub.hr, SET_AUTOMATION, input={"jobId": gid("Job", job_id), "rules": INVITE_SHORTLIST}
        )
        assert "errors" not in answer.json(), answer.json()
        before = len(sessions)

        node = await _run(client, hub, job_id, shortlistSize=2)  # the chunk path (nothing cached yet)
        assert node["status"] == "DONE" and node["shortlistSize"] == 2
        await drain(hub.settings)  # the workflow on the published events
        run_id = decode_global_id(node["id"])[1]
        results = {r.id: r for r in await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == run_id)}
        assert sum(r.passed for r in results.values()) > 2, "the world must recommend more than the shortlist"
        passed = await hub.events("screening_result.passed")
        assert sorted(e.data["rank"] for e in passed) == [1, 2]
        assert all(results[e.entity_id].passed and e.data["run_id"] == str(run_id) for e in passed)
        shortlist = {results[e.entity_id].application_id for e in passed}

        invited = await _invitations(hub)
        assert set(invited) == shortlist and all(r.status == "DONE" and r.result["invited"] for r in invited.values())
        assert len(sessions) == before + 2
        new = [row.record for row in sessions[before:]]
        named = [
            await remote_reference(hub.db, hub.tenant, "application", a, connection_id=mobile.id) for a in shortlist
        ]
        assert sorted(s["application"]["remoteId"] for s in new) == sorted(named)  # as the app knows them
        history = [h.reason for h in await hub.rows(m.StageChange, m.StageChange.application_id.in_(shortlist))]
        assert sum("invited to the AI interview" in h for h in history) == 2

        # The completion repeated (a re-delivered ranking job) adds no event and invites nobody again.
        assert (await finish_run(hub.db, hub.tenant, run_id))["status"] == "done"
        assert len(await hub.events("screening_result.passed")) == 2

        # The same library again, now from cached profiles in one job: its shortlist gets its events; those
        # invited already are not invited again.
        again = await _run(client, hub, job_id, shortlistSize=3)
        await drain(hub.settings)
        again_id = decode_global_id(again["id"])[1]
        chunk = (await hub.rows(m.JobRun, m.JobRun.idempotency_key == f"screening:{again_id}:chunk:0"))[0]
        assert "profiles" in chunk.result, "the second run takes the whole-library path"
        second = [e for e in await hub.events("screening_result.passed") if e.data["run_id"] == str(again_id)]
        assert sorted(e.data["rank"] for e in second) == [1, 2, 3]
        ranked = {r.id: r for r in await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == again_id)}
        assert all(ranked[e.entity_id].rank == e.data["rank"] and ranked[e.entity_id].passed for e in second)
        wanted = shortlist | {ranked[e.entity_id].application_id for e in second}
        assert set(await _invitations(hub)) == wanted
        assert len(sessions) == before + len(wanted), "each candidate is invited once"


async def test_a_held_result_is_not_acted_on(client: httpx.AsyncClient, hub: Hub, world: World) -> None:
    """A person who held a shortlisted result keeps the decision: the rule does not act on it (AI assists)."""
    hr_app, mobile_app = create_hr_app(world), create_mobile_app(world)
    with serving(hr_app, mobile_app) as (hr_server, mobile_server):
        hr = await connect_hr(hub, hr_server, hr_app, breaker_failures=100)
        await connect_mobile(hub, mobile_server, mobile_app)
        job_id = await _synced_job(hub, hr.id)
        async with hub.db.session(hub.tenant) as session:
            await session.execute(update(m.Job).where(m.Job.id == job_id).values(automation=INVITE_SHORTLIST))
            await session.commit()
        node = await _run(client, hub, job_id, shortlistSize=1)
        await drain(hub.settings)
        run_id = decode_global_id(node["id"])[1]
        (event,) = await hub.events("screening_result.passed")
        (result,) = await hub.rows(m.ScreeningResult, m.ScreeningResult.id == event.entity_id)
        assert result.run_id == run_id and set(await _invitations(hub)) == {result.application_id}

        # The invitation as if it had not happened yet, the result held by a person, the event handled again.
        key = f"wf:invite:{result.application_id}"
        async with hub.db.session(hub.tenant) as session:
            await session.execute(
                update(m.ScreeningResult).where(m.ScreeningResult.id == result.id).values(human_decision="HOLD")
            )
            await session.execute(update(m.JobRun).where(m.JobRun.idempotency_key == key).values(status="RUNNING"))
            await session.execute(update(m.WorkflowCursor).values(last_seq=0))
            await session.commit()
        await asyncio.to_thread(_run_workflows, hub)
        (invite,) = await hub.rows(m.JobRun, m.JobRun.idempotency_key == key)
        assert invite.status == "RUNNING", "the rule did not act on the held result"
        history = [
            h.reason for h in await hub.rows(m.StageChange, m.StageChange.application_id == result.application_id)
        ]
        assert any("a person decided HOLD" in h for h in history)


async def test_a_paused_hr_connection_gets_the_results_when_resumed(
    client: httpx.AsyncClient, hub: Hub, world: World, runtime: Runtime
) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, breaker_failures=100)
        job_id = await _synced_job(hub, hr.id)
        await _set_status(hub, hr.id, "PAUSED")
        node = await _run(client, hub, job_id, shortlistSize=2)
        run_id = decode_global_id(node["id"])[1]
        assert node["status"] == "DONE" and _upstream(app, run_id) == {}
        (plan,) = await hub.rows(m.JobRun, m.JobRun.idempotency_key == f"screening:{run_id}:write-back")
        assert plan.result["status"] == "no_connection"
        results = await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == run_id)

        async def set_status(status: str) -> None:
            answer = await post(
                client,
                hub.integrator,
                SET_STATUS,
                input={"connectionId": gid("UpstreamConnection", hr.id), "status": status},
            )
            assert answer.json()["data"]["setConnectionStatus"]["connection"]["status"] == status, answer.json()
            await runtime.events.publish()  # what the relay does when nudged: the workflow is enqueued
            await drain(hub.settings)

        await set_status("ACTIVE")
        upstream = _upstream(app, run_id)
        assert len(upstream) == len(results) and all(len(v) == 1 for v in upstream.values())
        assert all(
            r.written_back_at is not None for r in await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == run_id)
        )
        (resumed,) = await hub.events("connection.resumed")
        assert resumed.entity_id == hr.id and resumed.data["from"] == "PAUSED"

        # Paused and resumed again, and ACTIVE set on an active connection: nothing is written twice.
        await set_status("PAUSED")
        await set_status("ACTIVE")
        await set_status("ACTIVE")
        assert len(await hub.events("connection.resumed")) == 2
        upstream = _upstream(app, run_id)
        assert len(upstream) == len(results) and all(len(v) == 1 for v in upstream.values())


async def test_a_score_floor_on_the_shortlist_rule_is_honoured(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    hr_app, mobile_app = create_hr_app(world), create_mobile_app(world)
    with serving(hr_app, mobile_app) as (hr_server, mobile_server):
        hr = await connect_hr(hub, hr_server, hr_app, breaker_failures=100)
        await connect_mobile(hub, mobile_server, mobile_app)
        job_id = await _synced_job(hub, hr.id)
        # A condition the trigger cannot check is refused when the rules are set, with the path named.
        refused = await post(client, hub.hr, SET_AUTOMATION, input={"jobId": gid("Job", job_id), "rules": [
            {**INVITE_SHORTLIST[0], "when": {"all_must_have_scored": True}}]})  # fmt: skip
        (error,) = refused.json()["errors"]
        assert "all_must_have_scored cannot be checked on screening_result.passed" in error["message"]

        # Screened first without rules, to learn the scores; then a floor between the best and the next.
        node = await _run(client, hub, job_id, shortlistSize=5)
        scored = await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == decode_global_id(node["id"])[1])
        top = sorted({r.score for r in scored if r.passed and r.rank <= 5}, reverse=True)
        assert len(top) >= 2, "the world must give the shortlist different scores"
        floor = (top[0] + top[1]) / 2
        rules = [{**INVITE_SHORTLIST[0], "when": {"min_total": floor}}]
        answer = await post(client, hub.hr, SET_AUTOMATION, input={"jobId": gid("Job", job_id), "rules": rules})
        assert "errors" not in answer.json(), answer.json()

        again = await _run(client, hub, job_id, shortlistSize=5)
        await drain(hub.settings)
        results = await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == decode_global_id(again["id"])[1])
        shortlist = [r for r in results if r.passed and r.rank <= 5]
        above = {r.application_id for r in shortlist if r.score >= floor}
        assert above and set(await _invitations(hub)) == above  # above the floor only
        below = next(r for r in shortlist if r.score < floor)
        history = [
            h.reason for h in await hub.rows(m.StageChange, m.StageChange.application_id == below.application_id)
        ]
        assert any(f"did not fire: screening score {below.score:g} below {floor:g}" in h for h in history)
