"""The recruiting chain end to end, for each OA dialect: an AI evaluation of 86 starts a
second-round approval in the tenant's OA system (real HTTP to the simulator); the approver
agrees there; the signed callback reaches the hub; the workflow schedules the interview and
notifies the candidate, exactly once even when the callback is delivered twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.db import Database
from hub.db import models as m
from hub.events import publish_pending
from hub.jobs.workflows import enqueue_workflows
from hub.queues import Queues
from hub.redis import async_redis, sync_redis
from hub.settings import Settings
from hub.workflows import DEFAULT_RULES
from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.seed import Sizes, World, build_world
from simulators.wecom import INTERVIEW_TEMPLATE, WeComConfig, create_wecom_app
from tests.factories import open_store
from tests.hub.integration_support import (
    Hub,
    connect_dingtalk,
    connect_feishu,
    connect_wecom,
    drain,
    drop_tenant,
    make_hub,
    serving,
    sim,
    wait_for,
)
from tests.servers import LoopbackServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(21, Sizes(candidates=10, jobs=2))


@pytest.fixture
def server(settings: Settings) -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(settings)) as running:
        yield running


@pytest.fixture
async def hub(settings: Settings, db: Database) -> AsyncIterator[Hub]:
    made = await make_hub(settings, db)
    yield made
    await drop_tenant(db, made.tenant)


def _dialect(name: str, world: World) -> dict[str, Any]:
    if name == "dingtalk":
        approver = world.users[1].dingtalk_id
        return {"app": create_dingtalk_app(world, config=DingTalkConfig()), "connect": connect_dingtalk,
                "with": {"definition_code": "PROC-SIM-INTERVIEW-2ND", "originator": world.users[0].dingtalk_id,
                         "approvers": [{"user_ids": [approver], "mode": "OR"}]},
                "act": lambda remote: (f"/_sim/instances/{remote}/act", {"action": "agree", "userId": approver})}
    if name == "wecom":
        return {"app": create_wecom_app(world, config=WeComConfig()), "connect": connect_wecom,
                "with": {"definition_code": INTERVIEW_TEMPLATE, "originator": world.users[0].wecom_id,
                         "form_ids": {"candidate": "Text-1511", "job": "Text-1513"}},
                "act": lambda remote: (f"/_sim/approvals/{remote}/act", {"action": "agree"})}
    app = create_feishu_app(world, config=FeishuConfig())
    return {"app": app, "connect": connect_feishu,
            "with": {"definition_code": app.state.sim.config.approval_code,
                     "originator": world.users[0].feishu_user_id, "form_ids": {"candidate": "widget1"}},
            "act": lambda remote: (f"/_sim/instances/{remote}/act", {"action": "approve"})}


async def _publish(settings: Settings, db: Database) -> None:
    redis = async_redis(settings.redis_url)
    try:
        published = await publish_pending(db, redis, settings.redis_prefix)
    finally:
        await redis.aclose()
    enqueue_workflows(Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix), published)


@pytest.mark.parametrize("dialect", ["dingtalk", "wecom", "feishu"])
async def test_chain_from_ai_score_to_scheduled_interview(
    server: LoopbackServer, hub: Hub, world: World, settings: Settings, dialect: str
) -> None:
    spec = _dialect(dialect, world)
    rules = [dict(r) for r in DEFAULT_RULES]
    rules[0] = {**rules[0], "with": {**rules[0]["with"], **spec["with"], "move_to_stage": "SECOND_ROUND_APPROVAL"}}
    rules[1] = {**rules[1], "with": {**rules[1]["with"], "move_to_stage": "SECOND_ROUND"}}
    with serving(spec["app"]) as (oa,):
        connection = await spec["connect"](hub, oa, spec["app"])
        sim(oa, "/_sim/callback", {"url": f"{server.url}/webhooks/{connection.id}"})
        async with open_store(hub.db, hub.settings, hub.tenant) as store:
            job = await store.create("job", {"title": "高级后端工程师", "automation": rules, "stages": [
                "APPLIED", "AI_INTERVIEW", "SECOND_ROUND_APPROVAL", "SECOND_ROUND"]})
            cand = await store.create("candidate", {"first_name": "伟", "last_name": "张"})
            app = await store.create("application", {"candidate_id": cand.id, "job_id": job.id})
        async with hub.db.session(hub.tenant) as session:
            evaluation = m.Evaluation(application_id=app.id, total=86.0, recommendation="advance",
                                      dimension_scores=[], missing_must_have=[])
            session.add(evaluation)
            await session.flush()
            session.add(m.Event(type="evaluation.created", entity="evaluation", entity_id=evaluation.id,
                                data={"application_id": str(app.id)}))
            await session.commit()
        await _publish(settings, hub.db)
        await drain(settings)  # the workflow starts the approval in the OA system

        (approval,) = await hub.rows(m.ApprovalInstance)
        links = await hub.rows(m.RemoteLink, m.RemoteLink.entity == "approval", m.RemoteLink.entity_id == approval.id)
        assert approval.status == "PENDING" and len(links) == 1, "the approval exists upstream"
        path, body = spec["act"](links[0].remote_id)
        act = sim(oa, path, body)  # the approver agrees in DingTalk / WeCom / Feishu
        assert act["delivery"]["accepted"], act["delivery"]
        await drain(settings)  # callback job, then the workflow on approval.status_changed
        # a second, identical delivery of the vendor's callback
        httpx.request("POST", act["delivery"]["url"], params=act["delivery"]["params"],  # noqa: ASYNC210
                      headers=act["delivery"]["request_headers"],
                      content=act["delivery"]["request_body"].encode(), timeout=10)  # delivered twice
        await drain(settings)

    wait_for(lambda: True)
    (approval,) = await hub.rows(m.ApprovalInstance)
    assert approval.status == "APPROVED"
    interviews = await hub.rows(m.Interview, m.Interview.application_id == app.id)
    assert [(i.round, i.status) for i in interviews] == [(2, "SCHEDULED")]
    notes = await hub.rows(m.Notification, m.Notification.recipient_kind == "candidate")
    assert len(notes) == 1 and notes[0].recipient_id == cand.id
    (application,) = await hub.rows(m.Application, m.Application.id == app.id)
    assert application.stage == "SECOND_ROUND" and application.outcome == "ACTIVE"
    steps = [h.reason for h in await hub.rows(m.StageChange, m.StageChange.application_id == app.id)
             if h.actor_kind == "workflow"]
    assert any("approval requested" in s for s in steps) and any("scheduled" in s for s in steps)
