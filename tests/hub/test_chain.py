"""The recruiting chain end to end, for each OA dialect, against the simulated HR system, OA engine and
mobile app over real HTTP, with the hub on a real server and a real RQ worker:

1. the hub syncs the candidate, job and application from the HR system; HR sets the job's rubric and the
   default automation through GraphQL; the hub invites the candidate to an AI interview on the mobile app;
2. the candidate answers on the phone and submits (with consent): the app's signed webhook reaches the
   hub, a scoring job writes the evaluation report (>= 80);
3. the rule fires: a second-round approval carrying the report is created in DingTalk, WeCom or Feishu;
4. the approver agrees there; the signed callback reaches the hub; the hub schedules the interview,
   pushes the candidate exactly one invitation through the mobile app (time, place, interviewer) and
   puts exactly one entry on the HR calendar;
5. a duplicated callback and the workflow job run again from the start change nothing twice;
6. every step is an event and a line in the application's history saying what moved it.

When the approver rejects, or the originator revokes, the hub records it and tells HR (a notification in
the hub and a note on the application in the HR system); the candidate is neither rejected nor told.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import update

from hub import jobs
from hub.app import create_app
from hub.db import Database
from hub.db import models as m
from hub.jobs.runtime import release_thread
from hub.services.connections import write_back
from hub.services.sync import run_sync, start_sync
from hub.settings import Settings
from schema.relay import encode_global_id
from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import create_hr_app
from simulators.mobile import create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.wecom import INTERVIEW_TEMPLATE, WeComConfig, create_wecom_app
from tests.hub.integration_support import (
    Hub,
    connect_dingtalk,
    connect_feishu,
    connect_hr,
    connect_mobile,
    connect_wecom,
    drain,
    drop_tenant,
    gql,
    make_hub,
    serving,
    sim,
)
from tests.servers import LoopbackServer

pytestmark = pytest.mark.e2e

SET_RUBRIC = """mutation($input: SetJobRubricInput!) { setJobRubric(input: $input) { job { id } } }"""
SET_AUTOMATION = """mutation($input: SetJobAutomationInput!) { setJobAutomation(input: $input) { rules } }"""
HISTORY = """query($id: ID!) { node(id: $id) { ... on Application { stage outcome
  history { fromStage toStage reason actorKind actorId } } } }"""
NOTIFICATIONS = """{ notifications(first: 20) { edges { node { title body status } } } }"""

#: The AI interview as the candidate answers it on the phone: strong on every backend dimension.
QUESTIONS = [
    ("q1", "请讲一个你主导的后端服务。",
     "我主导了订单服务的重构，独立设计了全部 REST API 接口，用 Java 和 Spring Boot 重写后端服务，"
     "上线后接口延迟降低了百分之四十。"),
    ("q2", "讲讲你做过的数据库优化。",
     "库存系统的 MySQL 表结构和索引是我独立设计的，我主导了慢查询优化，核心查询从两秒降到两百毫秒。"),
    ("q3", "你做过哪些架构设计？",
     "我主导设计了支付系统的分布式架构，引入 Redis 缓存和 Kafka 消息队列，系统支撑了十倍的高并发流量。"),
    ("q4", "讲一次你排查线上故障的经历。",
     "一次线上故障我独立排查，通过日志和监控定位到连接池泄漏的根因，修复后再没有复发。"),
    ("q5", "和其他团队意见不一致时怎么办？",
     "我会主动把方案写成文档，组织产品和测试一起评审，带领团队按数据对齐，最后顺利上线。"),
]  # fmt: skip
LOCATION = "总部 3F 面试间"


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
    """The simulator of one OA dialect, how the hub connects to it, and how its people act on an approval."""
    if name == "dingtalk":
        approver = world.users[1].dingtalk_id
        return {"app": create_dingtalk_app(world, config=DingTalkConfig()), "connect": connect_dingtalk,
                "with": {"definition_code": "PROC-SIM-INTERVIEW-2ND", "originator": world.users[0].dingtalk_id,
                         "approvers": [{"user_ids": [approver], "mode": "OR"}]},
                "path": "/_sim/instances/{}/act",
                "actions": {"agree": {"action": "agree", "userId": approver},
                            "reject": {"action": "refuse", "userId": approver, "remark": "岗位已满"},
                            "revoke": {"action": "terminate"}}}
    if name == "wecom":
        return {"app": create_wecom_app(world, config=WeComConfig()), "connect": connect_wecom,
                "with": {"definition_code": INTERVIEW_TEMPLATE, "originator": world.users[0].wecom_id,
                         "form_ids": {"candidate": "Text-1511", "job": "Text-1513"}},
                "path": "/_sim/approvals/{}/act",
                "actions": {"agree": {"action": "agree"}, "reject": {"action": "reject", "speech": "岗位已满"},
                            "revoke": {"action": "revoke"}}}
    app = create_feishu_app(world, config=FeishuConfig())
    return {"app": app, "connect": connect_feishu,
            "with": {"definition_code": app.state.sim.config.approval_code,
                     "originator": world.users[0].feishu_user_id, "form_ids": {"candidate": "widget1"}},
            "path": "/_sim/instances/{}/act",
            "actions": {"agree": {"action": "approve"}, "reject": {"action": "reject", "comment": "岗位已满"},
                        "revoke": {"action": "cancel"}}}  # fmt: skip


@dataclass
class Chain:
    """One application's way through the chain, and the servers it runs against."""

    hub: Hub
    client: httpx.AsyncClient
    spec: dict[str, Any]
    world: World
    oa: Any
    hr_server: Any
    mobile_server: Any
    hr_app: Any
    mobile_app: Any
    application: Any  # the world's (the HR system's) application
    app_id: Any = None  # the hub's
    candidate_id: Any = None
    approval: Any = None
    remote_approval: str = ""
    interviewer: Any = None

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.hub.hr.headers
        )
        return gql(response)

    @property
    def pushes(self) -> list[dict[str, Any]]:
        return list(self.mobile_app.state.sim.state.notifications.values())

    def calendar(self) -> list[dict[str, Any]]:
        """The HR system's interviews of this application that the hub put there (the seeded ones aside)."""
        seeded = {i.uid for i in self.world.interviews}
        return [r.record for r in self.hr_app.state.sim.tables["interviews"]
                if r.record["application"] == self.application.uid and r.record["id"] not in seeded]  # fmt: skip

    def act(self, verdict: str) -> dict[str, Any]:
        """A person acts on the approval in the OA system; the simulator calls the hub back at once."""
        answer = sim(self.oa, self.spec["path"].format(self.remote_approval), self.spec["actions"][verdict])
        assert answer["delivery"]["accepted"], answer["delivery"]
        return answer  # type: ignore[no-any-return]

    async def history(self) -> dict[str, Any]:
        return (await self.graphql(HISTORY, id=encode_global_id("Application", self.app_id)))["node"]

    async def events(self) -> list[m.Event]:
        rows = await self.hub.rows(m.Event)
        mine = {str(self.app_id)}
        return sorted((e for e in rows if (e.data or {}).get("application_id") in mine or e.entity_id == self.app_id),
                      key=lambda e: e.seq or 0)  # fmt: skip


def _pick(world: World) -> Any:
    """A live candidate's open application on a live job (what a recruiter would send to an AI interview)."""
    live = {c.uid for c in world.candidates if not c.deleted}
    jobs_ = {j.uid for j in world.jobs}
    return next(a for a in world.applications if a.candidate in live and a.job in jobs_ and a.rejected_at is None)


async def _link(hub: Hub, entity: str, remote_id: str) -> Any:
    (link,) = await hub.rows(m.RemoteLink, m.RemoteLink.entity == entity, m.RemoteLink.remote_id == remote_id)
    return link.entity_id


async def _to_pending_approval(chain: Chain, server: LoopbackServer) -> None:
    """Steps 1 to 3: HR sync, rubric and rules, the invitation, the phone's submission, the score, the
    approval in the OA system."""
    hub, world = chain.hub, chain.world
    hr_server, mobile_server, oa = chain.hr_server, chain.mobile_server, chain.oa
    hr = await connect_hr(hub, hr_server, chain.hr_app)
    mobile = await connect_mobile(hub, mobile_server, chain.mobile_app)
    connection = await chain.spec["connect"](hub, oa, chain.spec["app"])
    sim(hr_server, "/_sim/webhook", {"url": f"{server.url}/webhooks/{hr.id}"})
    sim(mobile_server, "/_sim/webhook", {"url": f"{server.url}/webhooks/{mobile.id}"})
    sim(oa, "/_sim/callback", {"url": f"{server.url}/webhooks/{connection.id}"})
    for run in await start_sync(hub.db, hub.tenant, hr.id, ["job", "interview_stage", "candidate", "application"],
                                full=True):  # fmt: skip
        await run_sync(hub.db, hub.vault, hub.tenant, hr.id, run.model, run_id=run.id)

    picked = chain.application
    chain.app_id = await _link(hub, "application", picked.uid)
    chain.candidate_id = await _link(hub, "candidate", picked.candidate)
    job_id = await _link(hub, "job", picked.job)
    user = world.users[2]
    chain.interviewer = user
    rules = [
        {"id": "second-round-approval", "on": "evaluation.created", "when": {"min_total": 80,
         "all_must_have_scored": True}, "do": "start_approval", "with": {"title": "二面审批", **chain.spec["with"]}},
        {"id": "schedule-second-round", "on": "approval.approved", "do": "schedule_interview",
         "with": {"round": 2, "mode": "ONSITE", "location": LOCATION, "start_in_hours": 48, "duration_minutes": 60,
                  "interviewers": [{"id": user.uid, "name": f"{user.last_name}{user.first_name}"}],
                  "timezone": "Asia/Shanghai"}},
        {"id": "tell-hr-rejected", "on": "approval.rejected", "do": "notify_hr"},
        {"id": "tell-hr-canceled", "on": "approval.canceled", "do": "notify_hr"},
    ]  # fmt: skip
    job_gid = encode_global_id("Job", job_id)
    await chain.graphql(SET_RUBRIC, input={"jobId": job_gid, "rubricId": "backend_engineer"})
    await chain.graphql(SET_AUTOMATION, input={"jobId": job_gid, "rules": rules})

    # The hub invites the candidate through the mobile app, naming the application as the HR system does.
    app_ref = next(a.remote_id for a in world.applications if a.uid == picked.uid)
    cand_ref = next(c.remote_id for c in world.candidates if c.uid == picked.candidate)
    invite = {"candidate_remote_id": cand_ref, "application_remote_id": app_ref, "package_id": "pkg_backend_l3",
              "questions": [{"questionId": q, "question": text} for q, text, _ in QUESTIONS]}  # fmt: skip
    invited = await write_back(hub.db, hub.vault, hub.tenant, mobile.id, "session.invite", invite,
                               idempotency_key=f"invite:{chain.app_id}")  # fmt: skip
    (session,) = await hub.rows(m.InterviewSession, m.InterviewSession.application_id == chain.app_id,
                                m.InterviewSession.status == "INVITED")  # fmt: skip

    # On the phone: the candidate opens the invitation, consents to AI scoring, answers and submits.
    answers = [{"questionId": q, "transcript": t, "durationMs": 90_000} for q, _, t in QUESTIONS]
    submitted = sim(mobile_server, f"/_sim/sessions/{invited.remote_id}/submit", {"answers": answers, "consent": True})
    assert submitted["delivery"]["accepted"], submitted["delivery"]
    await drain(hub.settings)  # the webhook job, the workflow, the scoring job, the workflow again

    (evaluation,) = await hub.rows(m.Evaluation, m.Evaluation.application_id == chain.app_id)
    assert evaluation.session_id == session.id and evaluation.total is not None and evaluation.total >= 80
    assert not evaluation.missing_must_have
    (chain.approval,) = await hub.rows(m.ApprovalInstance)
    links = await hub.rows(m.RemoteLink, m.RemoteLink.entity == "approval", m.RemoteLink.entity_id == chain.approval.id)
    assert chain.approval.status == "PENDING" and len(links) == 1, "the approval exists upstream"
    chain.remote_approval = links[0].remote_id
    upstream = chain.spec["app"].state.sim.book.instances[chain.remote_approval]
    report = [f.value for f in upstream.form if f"总分 Score: {evaluation.total}" in f.value]
    assert report, f"the approval carries the report: {upstream.form}"
    assert chain.approval.form["evaluation_id"] == str(evaluation.id)


@pytest.fixture
def chain_for(hub: Hub, server: LoopbackServer, world: World) -> Any:
    """Serve the simulators of one dialect and bring an application to a pending approval."""

    @asynccontextmanager
    async def make(dialect: str) -> AsyncIterator[Chain]:
        spec = _dialect(dialect, world)
        hr_app, mobile_app = create_hr_app(world), create_mobile_app(world)
        with serving(hr_app, mobile_app, spec["app"]) as (hr_server, mobile_server, oa):
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                chain = Chain(hub, client, spec, world, oa, hr_server, mobile_server, hr_app, mobile_app, _pick(world))
                await _to_pending_approval(chain, server)
                yield chain

    return make


def _in_worker(hub: Hub, job: Any, *args: str) -> Any:
    """Run a job function as a worker thread would (a retried job, a second worker)."""
    try:
        jobs.configure(hub.settings)
        return job(str(hub.tenant), *args, idempotency_key=f"retry:{job.__name__}")
    finally:
        release_thread()


async def _replay_everything(chain: Chain, delivery: dict[str, Any]) -> None:
    """The vendor delivers the same callback again, the scoring job runs again, and the workflow runs again
    from the first event."""
    again = httpx.request("POST", delivery["url"], params=delivery["params"], headers=delivery["request_headers"],  # noqa: ASYNC210
                          content=delivery["request_body"].encode(), timeout=10)  # fmt: skip
    assert again.status_code == 200, again.text
    (session,) = await chain.hub.rows(m.InterviewSession, m.InterviewSession.application_id == chain.app_id)
    rescored = await asyncio.to_thread(_in_worker, chain.hub, jobs.score_interview_session, str(session.id))
    assert rescored["status"] == "exists", rescored
    await drain(chain.hub.settings)
    async with chain.hub.db.session(chain.hub.tenant) as session_:
        await session_.execute(update(m.WorkflowCursor).values(last_seq=0))
        await session_.commit()
    await asyncio.to_thread(_in_worker, chain.hub, jobs.run_workflows)
    await drain(chain.hub.settings)


@pytest.mark.parametrize("dialect", ["dingtalk", "wecom", "feishu"])
async def test_chain_from_the_phone_to_the_calendar(chain_for: Any, dialect: str) -> None:
    async with chain_for(dialect) as chain:
        assert chain.pushes == [] and chain.calendar() == []
        act = chain.act("agree")  # the approver agrees in DingTalk / WeCom / Feishu
        await drain(chain.hub.settings)  # the callback job, then the workflow on approval.status_changed
        await _replay_everything(chain, act["delivery"])

        hub = chain.hub
        (approval,) = await hub.rows(m.ApprovalInstance)
        assert approval.status == "APPROVED"
        (evaluation,) = await hub.rows(m.Evaluation)
        (interview,) = await hub.rows(m.Interview, m.Interview.application_id == chain.app_id)
        assert (interview.round, interview.status, interview.location) == (2, "SCHEDULED", LOCATION)
        name = f"{chain.interviewer.last_name}{chain.interviewer.first_name}"

        # exactly one push, to the candidate as the app knows them, with the time, the place and the interviewer
        (push,) = chain.pushes
        candidate = next(c for c in chain.world.candidates if c.uid == chain.application.candidate)
        assert push["to"] == candidate.remote_id and push["status"] == "DELIVERED"
        start = interview.start_at.replace(tzinfo=interview.start_at.tzinfo or UTC)
        local = start.astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"{local:%Y-%m-%d %H:%M}" in push["body"] and "UTC+08:00" in push["body"]
        assert LOCATION in push["body"] and name in push["body"]
        assert push["data"]["location"] == LOCATION and push["data"]["interviewers"] == [name]
        assert push["data"]["start_at"] == local.isoformat() and push["data"]["interview_id"] == str(interview.id)

        # exactly one entry on the HR calendar, for this application, at that time, with that interviewer
        (entry,) = chain.calendar()
        assert entry["interviewers"] == [chain.interviewer.uid] and entry["location"] == LOCATION
        assert entry["start_at"] == interview.start_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert entry["status"] == "SCHEDULED"

        (note,) = await hub.rows(m.Notification, m.Notification.recipient_kind == "candidate")
        assert note.recipient_id == chain.candidate_id and note.status == "DELIVERED"
        assert await hub.count(m.ApprovalInstance) == 1
        carrying = [i for i in chain.spec["app"].state.sim.book.instances.values()
                    if any("总分 Score:" in f.value for f in i.form)]  # fmt: skip
        assert [i.instance_id for i in carrying] == [chain.remote_approval], "one approval in the OA system"

        # every step is an event ...
        types = [e.type for e in await chain.events()]
        for step in ("interview_session.submitted", "evaluation.created", "approval.created",
                     "approval.status_changed", "interview.created", "notification.created",
                     "notification.status_changed", "interview.calendar_written"):  # fmt: skip
            assert step in types, (step, types)
        assert types.index("interview_session.submitted") < types.index("evaluation.created")
        assert types.index("evaluation.created") < types.index("approval.created")
        assert types.index("approval.status_changed") < types.index("interview.created")
        assert types.count("approval.created") == types.count("interview.created") == 1
        assert types.count("interview.calendar_written") == 1

        # ... and a line in the application's history saying what moved it
        view = await chain.history()
        assert view["outcome"] == "ACTIVE"
        lines = [(h["actorId"], h["reason"]) for h in view["history"] if h["actorKind"] == "workflow"]
        expected = [
            ("candidate", "AI interview submitted through mobile; scoring queued [interview_session.submitted"),
            ("scoring", f"AI interview scored: total {evaluation.total}, recommendation advance [evaluation.created"),
            ("second-round-approval", "second-round approval requested (total"),
            ("oa-callback", f"approval APPROVED in {dialect} (webhook) [approval.status_changed"),
            ("schedule-second-round", "round 2 interview scheduled (approval approved) [approval.status_changed"),
            ("schedule-second-round", "candidate notified through mobile (DELIVERED)"),
            ("schedule-second-round", "round 2 interview on the HR calendar of hr"),
        ]
        for actor, start in expected:
            found = [reason for who, reason in lines if who == actor and reason.startswith(start)]
            assert len(found) == 1, (actor, start, "\n".join(map(str, lines)))


@pytest.mark.parametrize(
    ("dialect", "verdict", "status"),
    [
        ("dingtalk", "reject", "REJECTED"),
        ("wecom", "reject", "REJECTED"),
        ("feishu", "reject", "REJECTED"),
        ("dingtalk", "revoke", "CANCELED"),
        ("wecom", "revoke", "CANCELED"),
        ("feishu", "revoke", "CANCELED"),
    ],
)
async def test_rejected_or_revoked_approval_tells_hr_and_never_rejects_the_candidate(
    chain_for: Any, dialect: str, verdict: str, status: str
) -> None:
    async with chain_for(dialect) as chain:
        act = chain.act(verdict)
        await drain(chain.hub.settings)
        await _replay_everything(chain, act["delivery"])

        hub = chain.hub
        (approval,) = await hub.rows(m.ApprovalInstance)
        assert approval.status == status
        assert chain.pushes == [], "nothing goes to the candidate"
        assert chain.calendar() == [] and await hub.count(m.Interview, m.Interview.round == 2) == 0
        assert await hub.count(m.Notification, m.Notification.recipient_kind == "candidate") == 0
        (told,) = await hub.rows(m.Notification, m.Notification.recipient_kind == "hr")
        assert status.lower() in told.body and "not rejected" in told.body
        (note,) = chain.hr_app.state.sim.notes[chain.application.uid]  # the recruiters read it in the HR system
        assert (note["subject"], note["body"]) == (told.title, told.body) and note["activity_type"] == "NOTE"
        seen = [n["node"] for n in (await chain.graphql(NOTIFICATIONS))["notifications"]["edges"]]
        assert [n["title"] for n in seen] == [told.title], "HR sees it in the hub"

        view = await chain.history()
        assert view["outcome"] == "ACTIVE", "a rejection needs a human"
        lines = [(h["actorId"], h["reason"]) for h in view["history"] if h["actorKind"] == "workflow"]
        rule = "tell-hr-rejected" if status == "REJECTED" else "tell-hr-canceled"
        assert [r for who, r in lines if who == "oa-callback" and r.startswith(f"approval {status} in {dialect}")]
        assert len([r for who, r in lines if who == rule and "HR notified (no automatic rejection)" in r]) == 1
        assert len([r for who, r in lines if who == rule and r.startswith("HR told in hr: note on the application")]) == 1  # noqa: E501
        types = [e.type for e in await chain.events()]
        assert "approval.status_changed" in types and types.count("notification.created") == 1
        assert types.count("application.note_written") == 1
