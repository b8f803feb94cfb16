"""The embedded quick start: SQLite, in-process Redis, seeded demo data, a working token."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select

from hub.app import create_app
from hub.db import Database
from hub.db import models as m
from hub.demo import DEMO_SLUG
from hub.demo_upstreams import start_upstreams
from hub.embedded import prepare_embedded
from hub.worker import EmbeddedWorker
from schema.relay import encode_global_id


async def test_embedded_mode_serves_the_demo(tmp_path: Path) -> None:
    settings, banner = await asyncio.to_thread(prepare_embedded, home=tmp_path / "hub-home", port=8765)
    assert settings.database_url.startswith("sqlite") and settings.redis_url.startswith("memory://")
    token = re.search(r"Token:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        response = await client.post(
            "/graphql",
            headers={"authorization": f"Bearer {token}"},
            json={
                "query": """
          { jobs { totalCount edges { node { title requirements { mustHave } } } }
            candidates(first: 5, filter: {search: "Chen"}) { totalCount edges { node { firstName emails
              applications { stage job { title } history { toStage reason } } resumes { language } } } } }"""
            },
        )
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["jobs"]["totalCount"] == 4
        titles = {e["node"]["title"] for e in body["data"]["jobs"]["edges"]}
        assert "高级后端工程师" in titles and "Customer Success Lead" in titles
        assert body["data"]["candidates"]["totalCount"] >= 1
        assert (await client.get("/readyz")).status_code == 200
    await app.state.runtime.close()
    # a second start reuses the same data and secrets
    again, _ = await asyncio.to_thread(prepare_embedded, home=tmp_path / "hub-home", port=8765)
    assert again.jwt_secret == settings.jwt_secret


# --- the recruiting chain in the embedded quick start --------------------------------------------------------

CONNECTIONS = "{ connections { edges { node { name syncStates { model status } } } } }"
SET_RUBRIC = "mutation($input: SetJobRubricInput!) { setJobRubric(input: $input) { job { id } } }"
SET_AUTOMATION = "mutation($input: SetJobAutomationInput!) { setJobAutomation(input: $input) { rules } }"
HISTORY = """query($id: ID!) { node(id: $id) { ... on Application { outcome
  history { reason actorKind actorId } } } }"""
#: What the candidate says on the phone: strong on every dimension of the backend rubric.
ANSWERS = [
    "我主导了订单服务的重构，独立设计了全部 REST API 接口，用 Java 和 Spring Boot 重写后端服务，"
    "上线后接口延迟降低了百分之四十。",
    "库存系统的 MySQL 表结构和索引是我独立设计的，我主导了慢查询优化，核心查询从两秒降到两百毫秒。",
    "我主导设计了支付系统的分布式架构，引入 Redis 缓存和 Kafka 消息队列，系统支撑了十倍的高并发流量。",
    "一次线上故障我独立排查，通过日志和监控定位到连接池泄漏的根因，修复后再没有复发。",
    "我会主动把方案写成文档，组织产品和测试一起评审，带领团队按数据对齐，最后顺利上线。",
]  # fmt: skip


@contextmanager
def _serving_on(sock: socket.socket, app: Any) -> Iterator[None]:
    """The hub on the port the embedded mode was prepared for (the simulators call it back there)."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _until(lambda: server.started, 30, "the hub to start")
        yield
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def _until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


async def _until_async(predicate: Callable[[], Awaitable[Any]], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while not (value := await predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
    return value


class _Demo:
    """The embedded hub as a client and the test see it: GraphQL with the demo token, its database."""

    def __init__(self, client: httpx.AsyncClient, db: Database) -> None:
        self.client, self.db = client, db
        self.tenant: Any = None

    async def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        body = (await self.client.post("/graphql", json={"query": query, "variables": variables})).json()
        assert "errors" not in body, body
        return body["data"]  # type: ignore[no-any-return]

    async def synced(self) -> bool:
        edges = (await self.graphql(CONNECTIONS))["connections"]["edges"]
        states = {(c["node"]["name"], s["model"]): s["status"] for c in edges for s in c["node"]["syncStates"]}
        wanted = [("hr-sim", "application"), ("mobile-sim", "interview_session")]
        return all(states.get(k) in ("DONE", "PARTIALLY_SYNCED") for k in wanted)

    async def links(self) -> dict[tuple[str, str | None], Any]:
        async with self.db.system_session() as session:
            self.tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.slug == DEMO_SLUG))).one().id
        async with self.db.session(self.tenant) as session:
            return {(link.entity, link.alt_remote_id): link for link in (await session.scalars(select(m.RemoteLink)))}

    async def job_of(self, application_id: Any) -> Any:
        async with self.db.session(self.tenant) as session:
            query = select(m.Application.job_id).where(m.Application.id == application_id)
            return (await session.scalars(query)).one()

    async def approval_of(self, application_id: Any) -> str | None:
        """The OA system's id of the approval the workflow started for the application."""
        async with self.db.session(self.tenant) as session:
            query = (
                select(m.RemoteLink.remote_id)
                .join(m.ApprovalInstance, m.ApprovalInstance.id == m.RemoteLink.entity_id)
                .where(m.RemoteLink.entity == "approval", m.ApprovalInstance.subject_id == application_id)
            )
            return (await session.execute(query)).scalar()


async def test_embedded_demo_runs_the_chain_end_to_end(tmp_path: Path) -> None:
    """In the quick start (SQLite, in-process Redis, the embedded worker, simulated HR, DingTalk and mobile
    upstreams in the process): HR turns the default chain on for a synced job through GraphQL; a candidate
    submits an AI interview on the phone; the hub scores it, starts a DingTalk approval carrying the report,
    and once the approver agrees pushes the candidate one invitation and puts one entry on the HR calendar."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    settings, banner = await asyncio.to_thread(prepare_embedded, home=tmp_path / "chain-home", port=port)
    token = re.search(r"Token:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
    suite = start_upstreams()
    mobile, hr, ding = (suite.apps[name].state.sim for name in ("mobile", "hr", "dingtalk"))
    pushes_before, seeded = len(mobile.state.notifications), {r.record["id"] for r in hr.tables["interviews"]}
    db, worker, app = Database(settings), EmbeddedWorker(settings), create_app(settings)
    worker.start()
    headers = {"authorization": f"Bearer {token}"}
    try:
        with _serving_on(sock, app):
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
                demo = _Demo(client, db)
                await _until_async(demo.synced, 240, "the first sync of the simulated upstreams")
                links = await demo.links()
                # a candidate the HR system knows, invited to an AI interview they have not taken yet
                row = next(r for r in mobile.state.rows if r.record["status"] in ("INVITED", "STARTED")
                           and ("application", r.record["application"]["remoteId"]) in links).record  # fmt: skip
                link = links[("application", row["application"]["remoteId"])]
                app_id, hr_application = link.entity_id, link.remote_id
                job = encode_global_id("Job", await demo.job_of(app_id))
                await demo.graphql(SET_RUBRIC, input={"jobId": job, "rubricId": "backend_engineer"})
                await demo.graphql(SET_AUTOMATION, input={"jobId": job, "useDefault": True})

                # on the phone: the candidate consents to AI scoring, answers every question and submits
                answers = [{"questionId": q["questionId"], "transcript": ANSWERS[n % len(ANSWERS)]}
                           for n, q in enumerate(row["questions"])]  # fmt: skip
                submit = f"{suite.urls['mobile']}/_sim/sessions/{row['sessionId']}/submit"
                submitted = await client.post(submit, json={"answers": answers, "consent": True})
                assert submitted.status_code == 200 and submitted.json()["delivery"]["accepted"], submitted.text

                remote = await _until_async(lambda: demo.approval_of(app_id), 120, "the score and the approval")
                assert any("总分 Score:" in f.value for f in ding.book.instances[remote].form), "carries the report"
                agree = {"action": "agree", "userId": ding.default_approver}
                act = await client.post(f"{suite.urls['dingtalk']}/_sim/instances/{remote}/act", json=agree)
                assert act.status_code == 200 and act.json()["delivery"]["accepted"], act.text

                def pushed() -> list[dict[str, Any]]:
                    news = list(mobile.state.notifications.values())[pushes_before:]
                    return [p for p in news if p["to"] == row["candidate"]["remoteId"]]

                def calendar() -> list[dict[str, Any]]:
                    return [r.record for r in hr.tables["interviews"]
                            if r.record["application"] == hr_application and r.record["id"] not in seeded]  # fmt: skip

                async def done() -> bool:
                    return bool(pushed() and calendar())

                await _until_async(done, 120, "the candidate's push and the HR calendar entry")
                await asyncio.sleep(1)  # a second push or entry would show up now
                view = (await demo.graphql(HISTORY, id=encode_global_id("Application", app_id)))["node"]
    finally:
        worker.stop()
        await app.state.runtime.close()
        await db.dispose()
    (push,) = pushed()
    assert "总部 3F 面试间" in push["body"] and "UTC+08:00" in push["body"] and push["status"] == "DELIVERED"
    (entry,) = calendar()
    assert entry["location"] == "总部 3F 面试间" and entry["status"] == "SCHEDULED"
    assert view["outcome"] == "ACTIVE"
    reasons = [h["reason"] for h in view["history"] if h["actorKind"] == "workflow"]
    steps = ("AI interview scored", "second-round approval requested", "approval APPROVED in dingtalk-sim",
             "candidate notified through mobile-sim", "round 2 interview on the HR calendar of hr-sim")  # fmt: skip
    for step in steps:
        assert any(r.startswith(step) for r in reasons), (step, reasons)
