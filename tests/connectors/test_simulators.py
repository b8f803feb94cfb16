"""The built-in connectors against the simulated upstreams, over real HTTP on loopback.

Each simulator runs in uvicorn on a loopback port; webhooks and callbacks go to a small receiver app (also on
loopback) that verifies them with the connector exactly as the hub's ``/webhooks/{connection}`` will, and
answers with the connector's reply, which the simulators judge as the vendors do. Fault switches are
flipped through each simulator's ``/_sim/faults``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.base import ConnectionConfig, Connector, WebhookEvent
from connectors.dingtalk import DingTalkConnector
from connectors.errors import (
    NormalizationError,
    RateLimited,
    ReplayDetected,
    UpstreamTimeout,
    UpstreamUnavailable,
    WebhookError,
)
from connectors.feishu import FeishuConnector
from connectors.hr import HrConnector
from connectors.http import RetryPolicy
from connectors.mobile import MobileConnector
from connectors.wecom import WeComConnector
from schema.records import ApprovalStatus, SessionStatus
from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import HR_API_KEY, HRConfig, create_hr_app
from simulators.mobile import MOBILE_API_KEY, MobileConfig, create_mobile_app
from simulators.seed import BASE_TIME, Sizes, World, build_world
from simulators.server import RunningServer, run_in_thread
from simulators.wecom import INTERVIEW_TEMPLATE, WeComConfig, create_wecom_app

pytestmark = pytest.mark.e2e

QUICK = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05)
HISTORY = {"history_start": "2024-10-01T00:00:00Z"}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(7, Sizes(candidates=150, jobs=6))


@pytest.fixture
def serve() -> Iterator[Callable[[Any], RunningServer]]:
    started: list[RunningServer] = []

    def start(app: Any) -> RunningServer:
        server = run_in_thread(app)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@dataclass
class Receiver:
    """The hub's webhook endpoint in miniature: verify on the raw body, dedupe by id, answer the reply."""

    connector: Connector
    events: list[WebhookEvent] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    replays: int = 0
    seen: set[str] = field(default_factory=set)

    def seen_before(self, event_id: str) -> bool:
        if event_id in self.seen:
            return True
        self.seen.add(event_id)
        return False

    async def endpoint(self, request: Request) -> Response:
        try:
            event = self.connector.verify_webhook(
                request.headers, await request.body(), query=dict(request.query_params), seen=self.seen_before
            )
        except ReplayDetected:
            self.replays += 1
            return Response(status_code=200)  # already have it: acknowledge, do not process twice
        except WebhookError as exc:
            self.refused.append(exc.code)
            return Response(exc.code, status_code=401)
        self.events.append(event)
        return Response(event.reply.body, event.reply.status, media_type=event.reply.content_type)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/hook", self.endpoint, methods=["GET", "POST"])])


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


async def read_all(connector: Connector, model: str, since: datetime | None = None) -> tuple[list, list, Any]:
    """A sync job in miniature: every page, every record normalized or quarantined."""
    records, quarantined, cursor, watermark = [], [], None, None
    while True:
        page = await connector.read_page(model, cursor=cursor, since=since)
        for item in page.items:
            try:
                records.append(connector.normalize(model, item.payload))
            except NormalizationError as exc:
                quarantined.append((item, exc))
        if page.watermark and (watermark is None or page.watermark > watermark):
            watermark = page.watermark
        cursor = page.next_cursor
        if cursor is None:
            return records, quarantined, watermark


def sim_post(server: RunningServer, path: str, body: Any = None, method: str = "POST") -> dict:
    response = httpx.request(method, server.url + path, json=body, timeout=10)
    assert response.status_code < 400, response.text
    return response.json()


# --- HR system -------------------------------------------------------------------------------------------


def hr_connector(server: RunningServer, **options: Any) -> HrConnector:
    config = ConnectionConfig(server.url, {"api_key": HR_API_KEY}, {}, HRConfig().webhook_secret)
    options.setdefault("retry", QUICK)
    return HrConnector(config, **options)


async def test_hr_full_and_incremental_sync(world: World, serve) -> None:
    app = create_hr_app(world)
    server = serve(app)
    tables = app.state.sim.tables
    async with hr_connector(server) as hr:
        expected = {
            "candidate": "candidates",
            "job": "jobs",
            "application": "applications",
            "interview_stage": "job-interview-stages",
            "interview": "interviews",
            "resume": "attachments",
        }
        marks = {}
        for model, table in expected.items():
            records, quarantined, marks[model] = await read_all(hr, model)
            assert not quarantined
            assert len(records) == len(tables[table]), model
        resumes, _, _ = await read_all(hr, "resume")
        assert all(r.text for r in resumes) and resumes[0].text == app.state.sim.texts[resumes[0].remote_id].strip()
        deleted = [r for r in (await read_all(hr, "candidate"))[0] if r.remote_deleted]
        assert len(deleted) == sum(1 for row in tables["candidates"] if row.deleted)

        candidate = tables["candidates"].rows[3].record
        sim_post(server, f"/_sim/candidates/{candidate['id']}", {"title": "架构师"}, method="PATCH")
        changed, _, _ = await read_all(hr, "candidate", since=marks["candidate"])
        assert candidate["id"] in {r.remote_id for r in changed}
        assert next(r for r in changed if r.remote_id == candidate["id"]).title == "架构师"


async def test_hr_write_backs_land_in_the_interview_process(world: World, serve) -> None:
    app = create_hr_app(world)
    server = serve(app)
    tables = app.state.sim.tables
    application = next(r.record for r in tables["applications"] if not r.deleted)
    stages = [r.record for r in tables["job-interview-stages"] if r.record["job"] == application["job"]]
    target = next(s for s in stages if s["id"] != application["current_stage"])
    async with hr_connector(server) as hr:
        moved = await hr.write(
            "application.change_stage",
            {"application_remote_id": application["id"], "stage_remote_id": target["id"]},
            idempotency_key="move-1",
        )
        assert moved.remote_id == application["id"]
        fresh = hr.normalize("application", (await hr.fetch("application", application["id"])).payload)
        assert fresh.current_stage == target["id"]
        assert fresh.custom_fields["stage_name"] == target["remote_data"][0]["data"]["stageName"]

        screening = {
            "application_remote_id": application["id"],
            "score": 88.5,
            "passed": True,
            "reasons": ["Go 5 年", "Kafka"],
            "rank": 2,
            "run_id": "run-1",
        }
        first = await hr.write("application.screening_results", screening, idempotency_key="screen-1")
        again = await hr.write("application.screening_results", screening, idempotency_key="screen-1")
        assert first.remote_id == again.remote_id  # the idempotency key made the retry harmless
        assert len(app.state.sim.screening[application["id"]]) == 1

        interview = await hr.write(
            "interview.create",
            {
                "application_remote_id": application["id"],
                "stage_remote_id": target["id"],
                "start_at": "2025-03-12T06:00:00Z",
                "end_at": "2025-03-12T07:00:00Z",
                "location": "会议室 A",
            },
            idempotency_key="interview-1",
        )
        record = hr.normalize("interview", (await hr.fetch("interview", interview.remote_id)).payload)
        assert record.application_remote_id == application["id"] and record.location == "会议室 A"


async def test_hr_webhooks_are_verified_and_deduplicated(world: World, serve) -> None:
    app = create_hr_app(world)
    server = serve(app)
    receiver = Receiver(hr_connector(server))
    hook = serve(receiver.app())
    sim_post(
        server, "/_sim/webhook", {"url": hook.url + "/hook", "secret": HRConfig().webhook_secret, "duplicate_rate": 1.0}
    )
    job = app.state.sim.tables["jobs"].rows[0].record
    answer = sim_post(server, f"/_sim/jobs/{job['id']}", {"status": "CLOSED"}, method="PATCH")
    assert len(answer["deliveries"]) == 2 and all(d["accepted"] for d in answer["deliveries"])
    wait_for(lambda: len(receiver.events) == 1 and receiver.replays == 1)
    (event,) = receiver.events
    assert event.model == "job" and event.item is not None
    assert receiver.connector.normalize("job", event.item.payload).status.value == "CLOSED"

    sim_post(server, "/_sim/webhook", {"secret": "rotated-on-their-side"})
    sim_post(server, f"/_sim/jobs/{job['id']}", {"status": "OPEN"}, method="PATCH")
    wait_for(lambda: bool(receiver.refused))
    assert set(receiver.refused) == {"WEBHOOK_SIGNATURE_INVALID"} and len(receiver.events) == 1


# --- fault switches ----------------------------------------------------------------------------------------


class SimClock:
    def __init__(self) -> None:
        self.now = BASE_TIME + 86400

    def __call__(self) -> float:
        return self.now


async def test_429_with_retry_after_is_honoured(world: World, serve) -> None:
    clock = SimClock()
    server = serve(create_hr_app(world, clock=clock))
    sim_post(server, "/_sim/faults", {"rate_limit_per_minute": 2})
    slept: list[float] = []

    async def sleep(seconds: float) -> None:  # waiting moves the simulator's clock, not ours
        slept.append(seconds)
        clock.now += seconds

    async with hr_connector(server, sleep=sleep, retry=RetryPolicy(max_attempts=3, base_delay=0.01)) as hr:
        for _ in range(3):
            await hr.read_page("job")
    assert slept and slept[0] >= 1  # the Retry-After of the third request
    clock.now += 60  # a fresh rate-limit window
    async with hr_connector(server, retry=RetryPolicy(max_attempts=1)) as hr:
        await hr.read_page("job")
        await hr.read_page("job")
        with pytest.raises(RateLimited) as caught:
            await hr.read_page("job")
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= 60


async def test_5xx_then_success_and_persistent_html_errors(world: World, serve) -> None:
    server = serve(create_hr_app(world))
    async with hr_connector(server) as hr:
        sim_post(server, "/_sim/faults", {"fail_next": 2})
        assert (await hr.read_page("job")).items
        sim_post(server, "/_sim/faults", {"html_next": 5})
        with pytest.raises(UpstreamUnavailable, match="502"):
            await hr.read_page("job")


async def test_slow_upstream_times_out(world: World, serve) -> None:
    server = serve(create_hr_app(world))
    sim_post(server, "/_sim/faults", {"delay_seconds": 1.0})
    async with hr_connector(server, timeout=0.2, retry=RetryPolicy(max_attempts=2, base_delay=0)) as hr:
        with pytest.raises(UpstreamTimeout):
            await hr.read_page("job")


async def test_malformed_records_are_quarantined_and_the_sync_carries_on(world: World, serve) -> None:
    server = serve(create_hr_app(world))
    sim_post(server, "/_sim/faults", {"malformed_rate": 0.2, "seed": 3})
    async with hr_connector(server) as hr:
        records, quarantined, _ = await read_all(hr, "candidate")
    assert records and quarantined
    assert all(exc.code == "NORMALIZATION_FAILED" and exc.path.startswith("$.") for _, exc in quarantined)


async def test_schema_drift_is_detected_not_stored_half_empty(world: World, serve) -> None:
    server = serve(create_hr_app(world))
    sim_post(server, "/_sim/faults", {"schema_drift": True})
    async with hr_connector(server) as hr:
        records, quarantined, _ = await read_all(hr, "candidate")
    assert not records and quarantined
    assert {exc.path for _, exc in quarantined} <= {"$.first_name", "$.last_name", "$.modified_at", "$.email_addresses"}


# --- OA approvals ------------------------------------------------------------------------------------------


async def test_dingtalk_read_create_and_callbacks(world: World, serve) -> None:
    config = DingTalkConfig(seed_instances=25)
    app = create_dingtalk_app(world, config=config)
    server = serve(app)
    connection = ConnectionConfig(
        server.url,
        {
            "app_key": config.app_key,
            "app_secret": config.app_secret,
            "callback_token": config.callback_token,
            "callback_aes_key": config.callback_aes_key,
        },
        {"process_codes": ["PROC-SIM-INTERVIEW-2ND"], **HISTORY},
    )
    async with DingTalkConnector(connection, retry=QUICK) as dingtalk:
        records, quarantined, _ = await read_all(dingtalk, "approval")
        assert len(records) == 25 and not quarantined
        receiver = Receiver(dingtalk)
        hook = serve(receiver.app())
        sim_post(server, "/_sim/callback", {"url": hook.url + "/hook"})
        check = sim_post(server, "/_sim/callback/check")
        assert check["delivery"]["accepted"], check  # the encrypted success reply was accepted

        originator, approver = world.users[0].dingtalk_id, world.users[1].dingtalk_id
        created = await dingtalk.write(
            "approval.create",
            {
                "definition_code": "PROC-SIM-INTERVIEW-2ND",
                "originator": originator,
                "department_id": "1",
                "approvers": [{"user_ids": [approver], "mode": "OR"}],
                "form": [{"name": "候选人", "value": "张伟"}],
                "report": {"summary": "AI 面试 86 分", "score": 86},
            },
            idempotency_key="approval-1",
        )
        wait_for(lambda: any(e.remote_id == created.remote_id for e in receiver.events))
        sim_post(server, "/_sim/tokens/expire")
        act = sim_post(server, f"/_sim/instances/{created.remote_id}/act", {"action": "agree", "userId": approver})
        assert act["delivery"]["accepted"]
        event = receiver.events[-1]
        assert event.hints["status"] is ApprovalStatus.APPROVED
        record = dingtalk.normalize_event(event, await dingtalk.load_event(event))  # token refreshed on the way
        assert record.status is ApprovalStatus.APPROVED and record.form["report"]["name"] == "面试报告"


async def test_wecom_read_create_and_callbacks(world: World, serve) -> None:
    config = WeComConfig(seed_instances=25)
    app = create_wecom_app(world, config=config)
    server = serve(app)
    connection = ConnectionConfig(
        server.url,
        {
            "corp_id": config.corp_id,
            "corp_secret": config.corp_secret,
            "callback_token": config.callback_token,
            "callback_aes_key": config.callback_aes_key,
        },
        {"report_field_id": "Textarea-1515", **HISTORY},
    )
    async with WeComConnector(connection, retry=QUICK) as wecom:
        records, quarantined, _ = await read_all(wecom, "approval")
        assert len(records) == 25 and not quarantined
        receiver = Receiver(wecom)
        hook = serve(receiver.app())
        sim_post(server, "/_sim/callback", {"url": hook.url + "/hook"})
        assert sim_post(server, "/_sim/callback/verify")["delivery"]["accepted"]  # URL check: decrypted echostr

        creator = world.users[0].wecom_id
        created = await wecom.write(
            "approval.create",
            {
                "definition_code": INTERVIEW_TEMPLATE,
                "originator": creator,
                "form": [{"id": "Text-1511", "value": "张伟"}, {"id": "Text-1513", "value": "二面"}],
                "report": {"summary": "AI 面试 86 分"},
            },
            idempotency_key="approval-1",
        )
        for action, expected in (("reject", ApprovalStatus.REJECTED),):
            answer = sim_post(server, f"/_sim/approvals/{created.remote_id}/act", {"action": action})
            assert answer["delivery"]["accepted"]
            event = receiver.events[-1]
            assert event.hints["status"] is expected
            record = wecom.normalize_event(event, await wecom.load_event(event))
            assert record.status is expected and record.form["Textarea-1515"]["name"] == "AI面试报告"


@pytest.mark.parametrize("encrypt_body", [False, True])
async def test_feishu_read_create_and_callbacks(world: World, serve, encrypt_body: bool) -> None:
    config = FeishuConfig(seed_instances=25, encrypt_body=encrypt_body)
    app = create_feishu_app(world, config=config)
    server = serve(app)
    connection = ConnectionConfig(
        server.url,
        {
            "app_id": config.app_id,
            "app_secret": config.app_secret,
            "encrypt_key": config.encrypt_key,
            "verification_token": config.verification_token,
        },
        {"approval_codes": [config.approval_code], **HISTORY},
    )
    async with FeishuConnector(connection, retry=QUICK) as feishu:
        records, quarantined, _ = await read_all(feishu, "approval")
        assert len(records) == 25 and not quarantined
        receiver = Receiver(feishu)
        hook = serve(receiver.app())
        sim_post(server, "/_sim/callback", {"url": hook.url + "/hook"})
        assert sim_post(server, "/_sim/callback/verify")["delivery"]["accepted"]  # challenge echoed

        payload = {
            "definition_code": config.approval_code,
            "originator": world.users[0].feishu_user_id,
            "form": [{"id": "widget1", "value": "张伟"}],
        }
        created = await feishu.write("approval.create", payload, idempotency_key="approval-1")
        again = await feishu.write("approval.create", payload, idempotency_key="approval-1")
        assert created.remote_id == again.remote_id  # uuid idempotency
        for action, expected in (("approve", ApprovalStatus.APPROVED), ("revert", ApprovalStatus.REVERTED)):
            assert sim_post(server, f"/_sim/instances/{created.remote_id}/act", {"action": action})["delivery"][
                "accepted"
            ]
            event = receiver.events[-1]
            record = feishu.normalize_event(event, await feishu.load_event(event))
            assert record.status is expected, action
        other = (
            records[0]
            if records[0].status is ApprovalStatus.PENDING
            else next(r for r in records if r.status is ApprovalStatus.PENDING)
        )
        sim_post(server, f"/_sim/instances/{other.remote_id}/act", {"action": "expire"})
        event = receiver.events[-1]
        assert feishu.normalize_event(event, await feishu.load_event(event)).status is ApprovalStatus.EXPIRED


# --- mobile app ------------------------------------------------------------------------------------------


async def test_mobile_sessions_invites_notifications_and_webhooks(world: World, serve) -> None:
    app = create_mobile_app(world)
    server = serve(app)
    connection = ConnectionConfig(server.url, {"api_key": MOBILE_API_KEY}, {}, MobileConfig().webhook_secret)
    async with MobileConnector(connection, retry=QUICK) as mobile:
        records, quarantined, _ = await read_all(mobile, "interview_session")
        assert len(records) == len(app.state.sim.state.rows) and not quarantined
        assert any(r.answers and r.consent for r in records)
        receiver = Receiver(mobile)
        hook = serve(receiver.app())
        sim_post(server, "/_sim/webhook", {"url": hook.url + "/hook"})

        candidate = world.candidates[0].remote_id
        invite = await mobile.write(
            "session.invite",
            {"candidate_remote_id": candidate, "package_id": "pkg_backend_l3"},
            idempotency_key="invite-1",
        )
        started = sim_post(server, f"/_sim/sessions/{invite.remote_id}/start", {"consent": True})
        assert started["delivery"]["accepted"]
        submitted = sim_post(server, f"/_sim/sessions/{invite.remote_id}/submit", {})
        assert submitted["delivery"]["accepted"]
        event = receiver.events[-1]
        session = mobile.normalize_event(event, await mobile.load_event(event))
        assert session.status is SessionStatus.SUBMITTED and session.answers and session.consent[0].granted

        push = await mobile.write(
            "notification.push", {"to": candidate, "title": "二面邀请", "body": "周一 14:00"}, idempotency_key="push-1"
        )
        assert push.status == "DELIVERED"
        sim_post(server, f"/_sim/notifications/{push.remote_id}/ack")
        wait_for(lambda: receiver.events[-1].model == "notification")
        assert receiver.events[-1].hints == {"status": "ACKNOWLEDGED"}
        assert (await mobile.delivery_status(push.remote_id)).status == "ACKNOWLEDGED"
