"""Sync against the simulated upstreams over real HTTP: triggerSync, RQ jobs on a real worker, the store.

HR: full sync of every model with references resolved (applications -> candidates and jobs, resumes with
their text, interviews), personal fields and raw payloads sealed, events written; an incremental sync picks
up an upstream edit; an upstream deletion is marked on the provenance link. Mobile: sessions resolve their
candidate across connections (the HR vendor id), answers are sealed, submissions emit
``interview_session.submitted``. OA: approvals of all three dialects land in ``approval_instances``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.db import models as m
from hub.services.sync import run_sync, start_sync
from schema.relay import encode_global_id
from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import create_hr_app
from simulators.mobile import create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.wecom import WeComConfig, create_wecom_app
from tests.hub.integration_support import (
    Hub,
    connect_dingtalk,
    connect_feishu,
    connect_hr,
    connect_mobile,
    connect_wecom,
    drain,
    gql,
    serving,
    sim,
)

pytestmark = pytest.mark.e2e

TRIGGER = """mutation($id: ID!, $models: [String!], $full: Boolean!) {
  triggerSync(input: {connectionId: $id, models: $models, full: $full}) { runs { id model mode status } } }"""
STATES = """query($id: ID!) { connection(id: $id) {
  name syncStates { model status watermark lastError }
  syncRuns(first: 20) { totalCount edges { node { model status stats } } } } }"""


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(11, Sizes(candidates=40, jobs=4, deleted_candidates=2))


async def _sync(client: httpx.AsyncClient, hub: Hub, connection: Any, models: list[str] | None = None,
                full: bool = False) -> dict[str, Any]:  # fmt: skip
    gid = encode_global_id("UpstreamConnection", connection.id)
    variables = {"id": gid, "models": models, "full": full}
    runs = gql(await client.post("/graphql", json={"query": TRIGGER, "variables": variables},
                                 headers=hub.integrator.headers))["triggerSync"]["runs"]  # fmt: skip
    assert runs and all(r["status"] == "QUEUED" for r in runs)
    await drain(hub.settings)
    return gql(await client.post("/graphql", json={"query": STATES, "variables": {"id": gid}},
                                 headers=hub.integrator.headers))["connection"]  # fmt: skip


async def test_hr_full_sync_resolves_references_seals_and_emits(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    app = create_hr_app(world)
    tables = app.state.sim.tables
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        view = await _sync(client, hub, hr)
    states = {s["model"]: s for s in view["syncStates"]}
    assert set(states) == {"job", "interview_stage", "candidate", "application", "resume", "interview"}
    for model in ("job", "interview_stage", "candidate"):
        assert states[model]["status"] == "DONE" and states[model]["watermark"], states[model]
    # The upstream keeps applications and resumes of candidates it deleted: those cannot be stored
    # without their candidate, so they wait in quarantine (REFERENCE_UNRESOLVED) and the model says so.
    dead = {r.record["id"] for r in tables["candidates"] if r.deleted}
    orphans = sum(1 for r in tables["applications"] if not r.deleted and r.record["candidate"] in dead)
    assert orphans and states["application"]["status"] == "PARTIALLY_SYNCED"
    assert states["application"]["lastError"] == f"{orphans} record(s) quarantined"
    waiting = await hub.rows(m.Quarantine, m.Quarantine.model == "application")
    assert len(waiting) == orphans and {q.code for q in waiting} == {"REFERENCE_UNRESOLVED"}
    assert all("candidate" in q.reason and q.raw.startswith("enc:") for q in waiting)

    live = sum(1 for row in tables["candidates"] if not row.deleted)
    assert await hub.count(m.Candidate) == live  # upstream-deleted ones were never created
    assert await hub.count(m.Job) == len(tables["jobs"])
    assert await hub.count(m.Resume) == sum(
        1 for r in tables["attachments"] if not r.deleted and r.record["candidate"] not in dead
    )
    apps = [r.record for r in tables["applications"] if not r.deleted]
    live_ids = {r.record["id"] for r in tables["candidates"] if not r.deleted}
    pairs = {(a["candidate"], a["job"]) for a in apps if a["candidate"] in live_ids}
    assert await hub.count(m.Application) == len(pairs)
    assert await hub.count(m.Interview) > 0

    (candidate,) = await hub.rows(m.Candidate, m.Candidate.id == (await hub.rows(m.RemoteLink,
        m.RemoteLink.entity == "candidate"))[0].entity_id)  # fmt: skip
    assert candidate.first_name.startswith("enc:") and candidate.emails.startswith("enc:")
    links = await hub.rows(m.RemoteLink, m.RemoteLink.connection_id == hr.id)
    assert all(link.raw.startswith("enc:") and link.fetched_at for link in links)
    assert {link.alt_remote_id for link in links if link.entity == "candidate"} <= {
        r.record["remote_id"] for r in tables["candidates"]
    }
    job = (await hub.rows(m.Job))[0]
    assert job.stages and all(isinstance(s, str) for s in job.stages)  # Chinese stage names, upstream order
    application = (await hub.rows(m.Application))[0]
    assert application.stage in (await hub.rows(m.Job, m.Job.id == application.job_id))[0].stages
    resume = (await hub.rows(m.Resume))[0]
    assert resume.text.startswith("enc:")  # fetched from file_url, then sealed

    assert len(await hub.events("candidate.created")) == live
    created = (await hub.events("application.created"))[0]
    assert set(created.data) >= {"job_id", "candidate_id", "connection_id"}
    assert not any(k in created.data for k in ("first_name", "emails"))  # ids only
    runs = view["syncRuns"]["edges"]
    assert {r["node"]["status"] for r in runs} == {"DONE", "PARTIALLY_SYNCED"}
    assert sum(r["node"]["stats"]["created"] for r in runs if r["node"]["model"] == "candidate") == live


async def test_incremental_sync_picks_up_edits_and_deletions(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    tables = app.state.sim.tables
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        for run in await start_sync(hub.db, hub.tenant, hr.id, ["job", "candidate"], full=False):
            assert (await run_sync(hub.db, hub.vault, hub.tenant, hr.id, run.model, run_id=run.id))["status"] == "DONE"
        live = [r.record for r in tables["candidates"] if not r.deleted]
        edited, removed = live[0], live[1]
        sim(server, f"/_sim/candidates/{edited['id']}", {"title": "首席架构师"}, method="PATCH")
        sim(server, f"/_sim/candidates/{removed['id']}", method="DELETE")
        (run,) = await start_sync(hub.db, hub.tenant, hr.id, ["candidate"], full=False)
        outcome = await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "candidate", run_id=run.id)
    assert outcome["mode"] == "incremental"
    assert outcome["updated"] == 1 and outcome["deleted"] == 1
    assert outcome["read"] < len(tables["candidates"])  # only what changed since the watermark
    (link,) = await hub.rows(m.RemoteLink, m.RemoteLink.remote_id == edited["id"])
    (row,) = await hub.rows(m.Candidate, m.Candidate.id == link.entity_id)
    assert row.title == "首席架构师"
    (gone,) = await hub.rows(m.RemoteLink, m.RemoteLink.remote_id == removed["id"])
    assert gone.remote_deleted_at is not None
    assert await hub.count(m.Candidate, m.Candidate.id == gone.entity_id) == 1  # marked, not erased
    assert [e.entity_id for e in await hub.events("candidate.remote_deleted")] == [gone.entity_id]
    assert [e.entity_id for e in await hub.events("candidate.updated")] == [row.id]


async def test_resync_of_unchanged_records_writes_nothing(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        (first,) = await start_sync(hub.db, hub.tenant, hr.id, ["job"], full=True)
        await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "job", run_id=first.id)
        events = await hub.count(m.Event)
        (again,) = await start_sync(hub.db, hub.tenant, hr.id, ["job"], full=True)
        outcome = await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "job", run_id=again.id)
    assert outcome["unchanged"] == outcome["read"] and outcome["created"] == outcome["updated"] == 0
    assert await hub.count(m.Event) == events


async def test_mobile_sessions_resolve_hr_candidates_and_emit_submissions(hub: Hub, world: World) -> None:
    hr_app, mobile_app = create_hr_app(world), create_mobile_app(world)
    with serving(hr_app, mobile_app) as (hr_server, mobile_server):
        hr = await connect_hr(hub, hr_server, hr_app)
        for run in await start_sync(hub.db, hub.tenant, hr.id, ["job", "candidate", "application"], full=True):
            await run_sync(hub.db, hub.vault, hub.tenant, hr.id, run.model, run_id=run.id)
        mobile = await connect_mobile(hub, mobile_server, mobile_app)
        (run,) = await start_sync(hub.db, hub.tenant, mobile.id, None, full=True)
        outcome = await run_sync(hub.db, hub.vault, hub.tenant, mobile.id, "interview_session", run_id=run.id)
    sessions = await hub.rows(m.InterviewSession)
    assert len(sessions) == outcome["created"] == len(mobile_app.state.sim.state.rows)
    live = {c.uid for c in world.candidates if not c.deleted}
    expected = sum(1 for s in world.sessions if s.candidate in live)
    assert sum(1 for s in sessions if s.candidate_id is not None) == expected  # resolved by the HR vendor id
    assert all(s.answers is None or s.answers.startswith("enc:") for s in sessions)
    submitted = [s for s in sessions if s.status == "SUBMITTED"]
    assert {e.entity_id for e in await hub.events("interview_session.submitted")} == {s.id for s in submitted}
    answered = next(s for s in sessions if s.answers)
    assert answered.questions and answered.consent and answered.consent[0]["purpose"] == "ai_scoring"


@pytest.mark.parametrize("dialect", ["dingtalk", "wecom", "feishu"])
async def test_oa_approvals_sync_into_approval_instances(hub: Hub, world: World, dialect: str) -> None:
    factory, config, connect = {
        "dingtalk": (create_dingtalk_app, DingTalkConfig(seed_instances=8), connect_dingtalk),
        "wecom": (create_wecom_app, WeComConfig(seed_instances=8), connect_wecom),
        "feishu": (create_feishu_app, FeishuConfig(seed_instances=8), connect_feishu),
    }[dialect]
    app = factory(world, config=config)
    with serving(app) as (server,):
        connection = await connect(hub, server, app)
        (run,) = await start_sync(hub.db, hub.tenant, connection.id, None, full=False)
        outcome = await run_sync(hub.db, hub.vault, hub.tenant, connection.id, "approval", run_id=run.id)
    assert outcome["status"] == "DONE" and outcome["created"] == 8
    approvals = await hub.rows(m.ApprovalInstance)
    assert len(approvals) == 8 and all(a.connection_id == connection.id for a in approvals)
    assert {a.status for a in approvals} <= {"PENDING", "APPROVED", "REJECTED", "CANCELED", "REVERTED", "DELETED"}
    assert all(a.definition_code and a.form is not None for a in approvals)
    finished = [a for a in approvals if a.status != "PENDING"]
    changed = {e.entity_id for e in await hub.events("approval.status_changed")}
    assert changed == {a.id for a in finished}


async def test_paused_models_are_skipped(hub: Hub, world: World) -> None:
    from hub.services.sync import set_paused

    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        await set_paused(hub.db, hub.tenant, hr.id, "job", True)
        (run,) = await start_sync(hub.db, hub.tenant, hr.id, ["job"], full=False)
        outcome = await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "job", run_id=run.id)
    assert outcome["status"] == "SKIPPED" and await hub.count(m.Job) == 0
    (state,) = await hub.rows(m.SyncState, m.SyncState.model == "job")
    assert state.status == "PAUSED"
    async with hub.db.session(hub.tenant) as session:
        assert (await session.scalars(select(m.SyncRun.status).where(m.SyncRun.id == run.id))).one() == "SKIPPED"
