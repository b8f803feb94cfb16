"""Inbound webhooks at ``/webhooks/{connection}`` on a real hub server, sent by the simulators over HTTP.

For every dialect: a genuine delivery is verified, acknowledged with the vendor's expected reply (the
simulators judge it as the vendors do) and processed by a job; the same delivery again answers 200 but
is not recorded twice; a tampered one answers 401 ``WEBHOOK_SIGNATURE_INVALID``; a stale one 401
``WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE``. OA status callbacks end in ``approval.status_changed`` carrying
the canonical status and the application the approval is about; mobile submissions in
``interview_session.submitted``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hub.app import create_app
from hub.db import Database
from hub.db import models as m
from hub.services.connections import write_back
from hub.settings import Settings
from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import create_hr_app
from simulators.mobile import create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.signing import MsgCrypt, feishu_signature, hr_signature, standard_webhook_signature
from simulators.wecom import INTERVIEW_TEMPLATE, WeComConfig, create_wecom_app
from tests.factories import open_store
from tests.hub.integration_support import (
    Hub,
    connect_dingtalk,
    connect_feishu,
    connect_hr,
    connect_mobile,
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

STALE = 900  # seconds: beyond the five minutes every dialect tolerates


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(13, Sizes(candidates=30, jobs=3))


@pytest.fixture
def server(settings: Settings) -> Iterator[LoopbackServer]:
    with LoopbackServer(create_app(settings)) as running:
        yield running


@pytest.fixture
async def hub(settings: Settings, db: Database) -> AsyncIterator[Hub]:
    made = await make_hub(settings, db)
    yield made
    await drop_tenant(db, made.tenant)


def hook(server: LoopbackServer, connection: Any) -> str:
    return f"{server.url}/webhooks/{connection.id}"


def resend(delivery: dict[str, Any], *, body: bytes | None = None, params: dict[str, str] | None = None,
           headers: dict[str, str] | None = None, method: str = "POST") -> httpx.Response:  # fmt: skip
    """A delivery the simulator made, sent again (optionally changed)."""
    return httpx.request(
        method,
        delivery["url"],
        params=params if params is not None else delivery["params"],
        headers={**delivery["request_headers"], **(headers or {})},
        content=body if body is not None else delivery["request_body"].encode(),
        timeout=10,
    )


def refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def receipts(hub: Hub, connection: Any) -> list[m.WebhookReceipt]:
    return await hub.rows(m.WebhookReceipt, m.WebhookReceipt.connection_id == connection.id)


async def _approval_for_application(hub: Hub, connection: Any) -> tuple[Any, Any]:
    """A hub application and a PENDING approval about it (as the workflow engine makes them)."""
    async with open_store(hub.db, hub.settings, hub.tenant) as store:
        job = await store.create("job", {"title": "高级后端工程师", "stages": ["APPLIED", "SECOND_ROUND"]})
        candidate = await store.create("candidate", {"first_name": "伟", "last_name": "张"})
        application = await store.create("application", {"candidate_id": candidate.id, "job_id": job.id})
    async with hub.db.session(hub.tenant) as session:
        approval = m.ApprovalInstance(connection_id=connection.id, definition_code="x", status="PENDING",
                                      subject_type="application", subject_id=application.id)  # fmt: skip
        session.add(approval)
        await session.commit()
    return application, approval


async def _status_changed(hub: Hub, approval: Any) -> list[dict[str, Any]]:
    async with hub.db.session(hub.tenant) as session:
        rows = (
            await session.scalars(
                select(m.Event).where(m.Event.type == "approval.status_changed", m.Event.entity_id == approval.id)
            )
        ).all()
    return [r.data for r in rows]


# --- HR system ---------------------------------------------------------------------------------------------


async def test_hr_webhooks(server: LoopbackServer, hub: Hub, world: World, settings: Settings) -> None:
    app = create_hr_app(world)
    with serving(app) as (hr_server,):
        hr = await connect_hr(hub, hr_server, app)
        sim(hr_server, "/_sim/webhook", {"url": hook(server, hr), "duplicate_rate": 1.0})
        job = app.state.sim.tables["jobs"].rows[0].record
        answer = sim(hr_server, f"/_sim/jobs/{job['id']}", {"status": "CLOSED"}, method="PATCH")
    first, duplicate = answer["deliveries"]
    assert first["accepted"] and duplicate["accepted"] and duplicate["status_code"] == 200
    assert len(await receipts(hub, hr)) == 1  # the repeated delivery was acknowledged, not recorded again
    await drain(settings)
    (row,) = await hub.rows(m.Job)
    assert row.title == job["name"] and row.status == "CLOSED"
    assert [r.status for r in await receipts(hub, hr)] == ["PROCESSED"]
    assert len(await hub.events("job.created")) == 1

    assert resend(first).status_code == 200 and len(await receipts(hub, hr)) == 1  # replay
    tampered = first["request_body"].replace("CLOSED", "OPEN").encode()
    refused(resend(first, body=tampered), 401, "WEBHOOK_SIGNATURE_INVALID")
    secret = app.state.sim.config.webhook_secret
    old = json.loads(first["request_body"]) | {"id": str(uuid.uuid4()), "created_at": "2020-01-01T00:00:00Z"}
    body = json.dumps(old).encode()
    refused(resend(first, body=body, headers={"X-HR-Signature": hr_signature(secret, body)}), 401,
            "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")  # fmt: skip
    refused(resend(first, body=b"not json", headers={"X-HR-Signature": hr_signature(secret, b"not json")}), 400,
            "WEBHOOK_PAYLOAD_INVALID")  # fmt: skip
    assert len(await receipts(hub, hr)) == 1


async def test_unknown_connections_and_oversized_bodies(server: LoopbackServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for ref in (str(uuid.uuid4()), "not-a-uuid"):
            refused(await client.post(f"/webhooks/{ref}", content=b"{}"), 404, "CONNECTION_NOT_FOUND")
        big = b"{" + b" " * 1_100_000 + b"}"
        refused(await client.post(f"/webhooks/{uuid.uuid4()}", content=big), 413, "PAYLOAD_TOO_LARGE")


# --- OA approvals ------------------------------------------------------------------------------------------


async def test_dingtalk_callbacks(server: LoopbackServer, hub: Hub, world: World, settings: Settings) -> None:
    app = create_dingtalk_app(world, config=DingTalkConfig())
    with serving(app) as (oa,):
        dingtalk = await connect_dingtalk(hub, oa, app)
        sim(oa, "/_sim/callback", {"url": hook(server, dingtalk)})
        check = sim(oa, "/_sim/callback/check")["delivery"]
        assert check["accepted"], check  # the encrypted success reply passed DingTalk's own check
        application, approval = await _approval_for_application(hub, dingtalk)
        approver = world.users[1].dingtalk_id
        result = await write_back(
            hub.db, hub.vault, hub.tenant, dingtalk.id, "approval.create",
            {"definition_code": "PROC-SIM-INTERVIEW-2ND", "originator": world.users[0].dingtalk_id,
             "approvers": [{"user_ids": [approver], "mode": "OR"}], "form": [{"name": "候选人", "value": "张伟"}],
             "approval_id": str(approval.id)},
            idempotency_key=f"approval:{approval.id}",
        )  # fmt: skip
        wait_for(lambda: any(d["accepted"] for d in sim(oa, "/_sim/deliveries", method="GET")["deliveries"][1:]))
        act = sim(oa, f"/_sim/instances/{result.remote_id}/act", {"action": "agree", "userId": approver})
        await drain(settings)  # while the upstream is there: the job reads the instance the event names
    delivery = act["delivery"]
    assert delivery["accepted"], delivery
    (row,) = await hub.rows(m.ApprovalInstance)
    assert row.id == approval.id and row.status == "APPROVED" and row.finished_at is not None
    assert [{k: d[k] for k in ("status", "application_id")} for d in await _status_changed(hub, approval)] == [
        {"status": "APPROVED", "application_id": str(application.id)}
    ]
    count = len(await receipts(hub, dingtalk))
    assert resend(delivery).status_code == 200 and len(await receipts(hub, dingtalk)) == count
    params = dict(delivery["params"])
    refused(resend(delivery, params={**params, "signature": "0" * 40}), 401, "WEBHOOK_SIGNATURE_INVALID")
    config = app.state.sim.config
    crypt = MsgCrypt(config.callback_token, config.callback_aes_key, config.app_key)
    encrypted = json.loads(delivery["request_body"])["encrypt"]
    stale = str(int((time.time() - STALE) * 1000))
    signed = {
        "timestamp": stale,
        "nonce": params["nonce"],
        "signature": crypt.signature(stale, params["nonce"], encrypted),
    }
    refused(resend(delivery, params=signed), 401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")


async def test_wecom_callbacks(server: LoopbackServer, hub: Hub, world: World, settings: Settings) -> None:
    app = create_wecom_app(world, config=WeComConfig())
    with serving(app) as (oa,):
        wecom = await connect_wecom(hub, oa, app)
        sim(oa, "/_sim/callback", {"url": hook(server, wecom)})
        assert sim(oa, "/_sim/callback/verify")["delivery"]["accepted"]  # GET with echostr: decrypted echo
        application, approval = await _approval_for_application(hub, wecom)
        result = await write_back(
            hub.db, hub.vault, hub.tenant, wecom.id, "approval.create",
            {"definition_code": INTERVIEW_TEMPLATE, "originator": world.users[0].wecom_id,
             "form": [{"id": "Text-1511", "value": "张伟"}, {"id": "Text-1513", "value": "二面"}],
             "report": {"summary": "AI 面试 86 分"}},
            idempotency_key=f"approval:{approval.id}",  # linked by the key convention
        )  # fmt: skip
        act = sim(oa, f"/_sim/approvals/{result.remote_id}/act", {"action": "reject"})
        await drain(settings)
    delivery = act["delivery"]
    assert delivery["accepted"], delivery
    (row,) = await hub.rows(m.ApprovalInstance)
    assert row.id == approval.id and row.status == "REJECTED"
    assert [d["status"] for d in await _status_changed(hub, approval)] == ["REJECTED"]
    assert (await _status_changed(hub, approval))[0]["application_id"] == str(application.id)
    count = len(await receipts(hub, wecom))
    assert resend(delivery).status_code == 200 and len(await receipts(hub, wecom)) == count
    params = dict(delivery["params"])
    refused(resend(delivery, params={**params, "msg_signature": "0" * 40}), 401, "WEBHOOK_SIGNATURE_INVALID")
    config = app.state.sim.config
    crypt = MsgCrypt(config.callback_token, config.callback_aes_key, config.corp_id)
    encrypted = delivery["request_body"].split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    stale = str(int(time.time() - STALE))
    signed = {"timestamp": stale, "nonce": params["nonce"],
              "msg_signature": crypt.signature(stale, params["nonce"], encrypted)}  # fmt: skip
    refused(resend(delivery, params=signed), 401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")
    refused(resend(delivery, body=b"<xml><Encrypt>x</Encrypt"), 400, "WEBHOOK_PAYLOAD_INVALID")


@pytest.mark.parametrize("encrypt_body", [False, True])
async def test_feishu_callbacks(
    server: LoopbackServer, hub: Hub, world: World, settings: Settings, encrypt_body: bool
) -> None:
    app = create_feishu_app(world, config=FeishuConfig(encrypt_body=encrypt_body))
    with serving(app) as (oa,):
        feishu = await connect_feishu(hub, oa, app)
        sim(oa, "/_sim/callback", {"url": hook(server, feishu)})
        assert sim(oa, "/_sim/callback/verify")["delivery"]["accepted"]  # challenge echoed
        _, approval = await _approval_for_application(hub, feishu)
        result = await write_back(
            hub.db, hub.vault, hub.tenant, feishu.id, "approval.create",
            {"definition_code": app.state.sim.config.approval_code, "originator": world.users[0].feishu_user_id,
             "form": [{"id": "widget1", "value": "张伟"}], "approval_id": str(approval.id)},
            idempotency_key=f"wf:approval:{approval.id}",
        )  # fmt: skip
        approved = sim(oa, f"/_sim/instances/{result.remote_id}/act", {"action": "approve"})["delivery"]
        await drain(settings)
        reverted = sim(oa, f"/_sim/instances/{result.remote_id}/act", {"action": "revert"})["delivery"]
        await drain(settings)
    assert approved["accepted"] and reverted["accepted"]
    (row,) = await hub.rows(m.ApprovalInstance)
    assert row.id == approval.id and row.status == "REVERTED"  # known only from the event (a hint)
    assert [d["status"] for d in await _status_changed(hub, approval)] == ["APPROVED", "REVERTED"]
    count = len(await receipts(hub, feishu))
    assert resend(reverted).status_code == 200 and len(await receipts(hub, feishu)) == count
    refused(resend(reverted, headers={"X-Lark-Signature": "0" * 64}), 401, "WEBHOOK_SIGNATURE_INVALID")
    stale = str(int(time.time() - STALE))
    nonce = reverted["request_headers"]["X-Lark-Request-Nonce"]
    body = reverted["request_body"].encode()
    signature = feishu_signature(stale, nonce, app.state.sim.config.encrypt_key, body)
    refused(resend(reverted, headers={"X-Lark-Request-Timestamp": stale, "X-Lark-Signature": signature}), 401,
            "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")  # fmt: skip


# --- mobile app ----------------------------------------------------------------------------------------------


async def test_mobile_webhooks(server: LoopbackServer, hub: Hub, world: World, settings: Settings) -> None:
    app = create_mobile_app(world)
    candidate = world.candidates[0]
    with serving(app) as (mobile_server,):
        mobile = await connect_mobile(hub, mobile_server, app)
        sim(mobile_server, "/_sim/webhook", {"url": hook(server, mobile)})
        invite = await write_back(
            hub.db, hub.vault, hub.tenant, mobile.id, "session.invite",
            {"candidate_remote_id": candidate.remote_id, "package_id": "pkg_backend_l3"}, idempotency_key="invite-1",
        )  # fmt: skip
        (session,) = await hub.rows(m.InterviewSession)
        assert session.status == "INVITED"  # stored from the invite's answer
        started = sim(mobile_server, f"/_sim/sessions/{invite.remote_id}/start", {"consent": True})["delivery"]
        submitted = sim(mobile_server, f"/_sim/sessions/{invite.remote_id}/submit", {})["delivery"]
        async with hub.db.session(hub.tenant) as s:
            s.add(m.Notification(recipient_kind="candidate", recipient_id=uuid.uuid4(), title="二面邀请"))
            await s.commit()
            note = (await s.scalars(select(m.Notification))).one()
        push = await write_back(
            hub.db, hub.vault, hub.tenant, mobile.id, "notification.push",
            {"to": candidate.remote_id, "title": "二面邀请", "body": "周一 14:00"},
            idempotency_key=f"notification:{note.id}",
        )  # fmt: skip
        acked = sim(mobile_server, f"/_sim/notifications/{push.remote_id}/ack")["delivery"]
    assert started["accepted"] and submitted["accepted"] and acked["accepted"]
    await drain(settings)
    (session,) = await hub.rows(m.InterviewSession)
    assert session.status == "SUBMITTED" and session.answers.startswith("enc:") and session.consent[0]["granted"]
    assert [e.entity_id for e in await hub.events("interview_session.submitted")] == [session.id]
    (note,) = await hub.rows(m.Notification)
    assert note.status == "ACKNOWLEDGED"
    count = len(await receipts(hub, mobile))
    assert resend(submitted).status_code == 200 and len(await receipts(hub, mobile)) == count
    refused(resend(submitted, body=submitted["request_body"].replace("SUBMITTED", "CANCELED").encode()), 401,
            "WEBHOOK_SIGNATURE_INVALID")  # fmt: skip
    stale = int(time.time() - STALE)
    msg_id = f"msg_{uuid.uuid4().hex}"
    body = submitted["request_body"].encode()
    signature = standard_webhook_signature(app.state.sim.config.webhook_secret, msg_id, stale, body)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stale), "webhook-signature": signature}
    refused(resend(submitted, headers=headers), 401, "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE")
