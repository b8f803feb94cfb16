"""Connections and write-backs: the integrator's GraphQL API, sealed secrets, and the workflow engine's
service API (``find_connection``, ``write_back``, the ``hub.jobs.write_back`` job), against the simulators.

Every write-back kind: HR stage change, screening results and calendar interview; approval create in the
DingTalk, WeCom and Feishu dialects; mobile invite and push notification. Each is idempotent per key (a
repeat answers the first outcome without calling the upstream), and a failed write records nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from hub.db import models as m
from hub.runtime import Runtime
from hub.services.connections import (
    ConnectorFailed,
    config_of,
    find_connection,
    get_connection,
    remote_reference,
    write_back,
)
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.keys import add_data_key, key_usage, promote_data_key, reencrypt_batch
from hub.services.sync import run_sync, start_sync
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
    gql_error,
    make_hub,
    serving,
    sim,
)

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"
REGISTER = """mutation($m: String!) { registerConnector(input: {manifest: $m}) {
  created connector { kind version source models { model capabilities } writeOperations }
  definition { id kind version } } }"""
PREVIEW = """mutation($m: String, $model: String!, $sample: JSON!) {
  previewMapping(input: {manifest: $m, model: $model, sample: $sample}) { ok record errors { path field reason } } }"""
CREATE = """mutation($input: CreateConnectionInput!) { createConnection(input: $input) {
  connection { id name kind status baseUrl hasWebhookSecret webhookUrl settings circuit { state } } } }"""
CONNECTIONS = """{ connectors { kind source } connections { totalCount edges { node { name kind status
  syncStates { model status watermark lastError } quarantine(first: 5) { totalCount } } } } }"""


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(17, Sizes(candidates=30, jobs=3))


async def post(client: httpx.AsyncClient, actor: Any, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers)


# --- GraphQL: connectors and connections ---------------------------------------------------------------------


async def test_register_connector_validates_with_lines_and_is_idempotent(client: httpx.AsyncClient, hub: Hub) -> None:
    text = (EXAMPLES / "moka_style.yaml").read_text(encoding="utf-8")
    first = gql(await post(client, hub.integrator, REGISTER, m=text))["registerConnector"]
    assert (
        first["created"] and first["connector"]["kind"] == "moka_style" and first["connector"]["source"] == "manifest"
    )
    assert "application.change_stage" in first["connector"]["writeOperations"]
    again = gql(await post(client, hub.integrator, REGISTER, m=text))["registerConnector"]
    assert not again["created"] and again["definition"]["id"] == first["definition"]["id"]

    changed = text.replace("name: Moka-style ATS", "name: Moka-style ATS v2")
    assert gql_error(await post(client, hub.integrator, REGISTER, m=changed))["extensions"]["code"] == "CONFLICT"

    broken = text.replace("    read:\n      path: /candidates", "    read:\n      path: 42", 1)
    broken = broken.replace("pagination: {style: offset", "pagination: {style: sideways", 1)
    error = gql_error(await post(client, hub.integrator, REGISTER, m=broken))
    assert error["extensions"]["code"] == "VALIDATION_FAILED" and error["extensions"]["field"] == "manifest"
    problems = error["extensions"]["problems"]
    assert len(problems) >= 2 and all(p["line"] and p["path"].startswith("$.models.candidate") for p in problems)
    builtin = text.replace("kind: moka_style", "kind: hr")
    error = gql_error(await post(client, hub.integrator, REGISTER, m=builtin))
    assert error["extensions"]["problems"][0]["path"] == "$.kind"


async def test_preview_mapping_answers_the_record_and_every_error(client: httpx.AsyncClient, hub: Hub) -> None:
    text = (EXAMPLES / "greenhouse_style.yaml").read_text(encoding="utf-8")
    good = {"id": 7, "name": "Backend", "status": "open", "requisition_id": "R-1", "updated_at": "2025-03-09T10:00:00Z"}
    preview = gql(await post(client, hub.integrator, PREVIEW, m=text, model="job", sample=good))["previewMapping"]
    assert preview["ok"] and preview["record"]["title"] == "Backend" and preview["record"]["status"] == "OPEN"
    bad = {"id": 7, "name": "", "status": "weird"}
    preview = gql(await post(client, hub.integrator, PREVIEW, m=text, model="job", sample=bad))["previewMapping"]
    assert not preview["ok"] and preview["record"] is None
    assert {e["path"] for e in preview["errors"]} == {"$.status", "$.name"}
    error = gql_error(await post(client, hub.integrator, PREVIEW, m=text, model="approval", sample=good))
    assert error["extensions"]["code"] == "VALIDATION_FAILED"


async def test_create_connection_seals_secrets_and_lists_states(
    client: httpx.AsyncClient, hub: Hub, world: World, runtime: Runtime
) -> None:
    app = create_hr_app(world)
    async with runtime.db.system_session() as session:  # a policy that leaves raw payloads in clear...
        await session.execute(
            update(m.Tenant)
            .where(m.Tenant.id == hub.tenant)
            .values(
                policy_yaml="version: 1\nfields:\n  remote_link.raw: {classification: internal, encrypted: false}\n"
            )
        )
        await session.commit()
    hub.vault.invalidate(hub.tenant)
    runtime.vault.invalidate(hub.tenant)
    with serving(app) as (server,):
        missing = {"name": "hr", "kind": "hr", "baseUrl": server.url, "credentials": {}}
        error = gql_error(await post(client, hub.integrator, CREATE, input=missing))
        assert error["extensions"]["code"] == "VALIDATION_FAILED" and "api_key" in error["message"]
        unknown = {**missing, "kind": "sap_successfactors", "credentials": {"api_key": "k"}}
        assert gql_error(await post(client, hub.integrator, CREATE, input=unknown))["extensions"]["field"] == "kind"
        good = {**missing, "credentials": {"api_key": app.state.sim.config.api_key},
                "webhookSecret": app.state.sim.config.webhook_secret, "settings": {"page_size": 50}}  # fmt: skip
        created = gql(await post(client, hub.integrator, CREATE, input=good))["createConnection"]["connection"]
        assert created["hasWebhookSecret"] and created["status"] == "ACTIVE" and created["circuit"]["state"] == "CLOSED"
        assert created["webhookUrl"].endswith("/webhooks/" + created["webhookUrl"].rsplit("/", 1)[1])
        duplicate = gql_error(await post(client, hub.integrator, CREATE, input=good))
        assert duplicate["extensions"]["code"] == "CONFLICT"
        (row,) = await hub.rows(m.Connection)
        assert row.credentials.startswith("enc:") and app.state.sim.config.api_key not in row.credentials
        assert row.webhook_secret.startswith("enc:")
        (run,) = await start_sync(hub.db, hub.tenant, row.id, ["job"], full=True)
        await run_sync(hub.db, hub.vault, hub.tenant, row.id, "job", run_id=run.id)
    links = await hub.rows(m.RemoteLink)
    assert links and all(link.raw.startswith("enc:") for link in links)  # ...still sealed: not the policy's call
    listed = gql(await post(client, hub.integrator, CONNECTIONS))
    assert {"hr", "dingtalk", "wecom", "feishu", "mobile"} <= {c["kind"] for c in listed["connectors"]}
    (node,) = [e["node"] for e in listed["connections"]["edges"]]
    assert node["syncStates"] == [{"model": "job", "status": "DONE", "watermark": node["syncStates"][0]["watermark"],
                                   "lastError": None}]  # fmt: skip
    assert node["quarantine"]["totalCount"] == 0


async def test_only_admins_and_integrators(client: httpx.AsyncClient, hub: Hub) -> None:
    for query in (CONNECTIONS, REGISTER):
        error = gql_error(await post(client, hub.hr, query, m="kind: x"))
        assert error["extensions"]["code"] == "FORBIDDEN"


# --- the workflow engine's API -----------------------------------------------------------------------------


async def test_find_connection_by_operation_or_model(hub: Hub, world: World) -> None:
    assert await find_connection(hub.db, hub.tenant, capability_model="approval", operation="approval.create") is None
    hr_app, mobile_app, ding_app = create_hr_app(world), create_mobile_app(world), create_dingtalk_app(world)
    with serving(hr_app, mobile_app, ding_app) as (hr_server, mobile_server, ding_server):
        hr = await connect_hr(hub, hr_server, hr_app)
        mobile = await connect_mobile(hub, mobile_server, mobile_app)
        dingtalk = await connect_dingtalk(hub, ding_server, ding_app)
    found = await find_connection(hub.db, hub.tenant, capability_model="approval", operation="approval.create")
    assert found is not None and found.id == dingtalk.id
    push = await find_connection(hub.db, hub.tenant, capability_model="notification", operation="notification.push")
    assert push is not None and push.id == mobile.id
    calendar = await find_connection(hub.db, hub.tenant, capability_model="interview", operation="interview.create")
    assert calendar is not None and calendar.id == hr.id
    assert (await find_connection(hub.db, hub.tenant, capability_model="candidate")).id == hr.id  # type: ignore[union-attr]
    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.Connection).where(m.Connection.id == dingtalk.id).values(status="PAUSED"))
        await session.commit()
    assert await find_connection(hub.db, hub.tenant, capability_model="approval", operation="approval.create") is None


async def test_hr_write_backs_are_idempotent(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    tables = app.state.sim.tables
    application = next(r.record for r in tables["applications"] if not r.deleted)
    stages = [r.record for r in tables["job-interview-stages"] if r.record["job"] == application["job"]]
    target = next(s for s in stages if s["id"] != application["current_stage"])
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        moved = await write_back(
            hub.db, hub.vault, hub.tenant, hr.id, "application.change_stage",
            {"application_remote_id": application["id"], "stage_remote_id": target["id"]}, idempotency_key="move-1",
        )  # fmt: skip
        assert moved.remote_id == application["id"] and application["current_stage"] == target["id"]
        screening = {"application_remote_id": application["id"], "score": 88.5, "passed": True,
                     "reasons": ["Go 5 年", "Kafka"], "rank": 2, "run_id": "run-1"}  # fmt: skip
        first = await write_back(hub.db, hub.vault, hub.tenant, hr.id, "application.screening_results", screening,
                                 idempotency_key="screen-1")  # fmt: skip
        sim(server, "/_sim/faults", {"fail_next": 100})  # a repeat must not even reach the upstream
        again = await write_back(hub.db, hub.vault, hub.tenant, hr.id, "application.screening_results", screening,
                                 idempotency_key="screen-1")  # fmt: skip
        sim(server, "/_sim/faults", method="DELETE")
        assert again.remote_id == first.remote_id and again.raw == {"replayed": True}
        assert len(app.state.sim.screening[application["id"]]) == 1
        interview = await write_back(
            hub.db, hub.vault, hub.tenant, hr.id, "interview.create",
            {"application_remote_id": application["id"], "stage_remote_id": target["id"], "location": "会议室 A",
             "start_at": "2025-03-12T06:00:00Z", "end_at": "2025-03-12T07:00:00Z"}, idempotency_key="interview-1",
        )  # fmt: skip
    assert tables["interviews"].get(interview.remote_id).record["location"] == "会议室 A"


async def test_write_back_failures_are_coded_and_record_nothing(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    application = next(r.record for r in app.state.sim.tables["applications"] if not r.deleted)
    payload = {"application_remote_id": application["id"], "score": 70, "passed": False}
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, breaker_failures=50)
        sim(server, "/_sim/faults", {"fail_next": 100})
        with pytest.raises(ConnectorFailed) as caught:
            await write_back(hub.db, hub.vault, hub.tenant, hr.id, "application.screening_results", payload,
                             idempotency_key="screen-x")  # fmt: skip
        assert caught.value.code == "UPSTREAM_UNAVAILABLE" and caught.value.retryable
        assert await hub.count(m.JobRun) == 0 and app.state.sim.screening.get(application["id"]) is None
        sim(server, "/_sim/faults", method="DELETE")
        done = await write_back(hub.db, hub.vault, hub.tenant, hr.id, "application.screening_results", payload,
                                idempotency_key="screen-x")  # fmt: skip
        assert done.remote_id and len(app.state.sim.screening[application["id"]]) == 1
        with pytest.raises(ConnectorFailed) as invalid:
            await write_back(hub.db, hub.vault, hub.tenant, hr.id, "application.screening_results",
                             {"score": 1}, idempotency_key="screen-y")  # fmt: skip
        assert invalid.value.code == "WRITE_PAYLOAD_INVALID" and not invalid.value.retryable
        with pytest.raises(ConnectorFailed) as unsupported:
            await write_back(hub.db, hub.vault, hub.tenant, hr.id, "approval.create", {}, idempotency_key="a")
        assert unsupported.value.code == "CONNECTOR_UNSUPPORTED"


@pytest.mark.parametrize("dialect", ["dingtalk", "wecom", "feishu"])
async def test_approval_create_in_every_oa_dialect(hub: Hub, world: World, dialect: str) -> None:
    users = world.users[0]
    factory, connect, payload, count = {
        "dingtalk": (
            lambda: create_dingtalk_app(world, config=DingTalkConfig()),
            connect_dingtalk,
            {"definition_code": "PROC-SIM-INTERVIEW-2ND", "originator": users.dingtalk_id,
             "form": [{"name": "候选人", "value": "张伟"}], "report": {"summary": "AI 面试 86 分", "score": 86}},
            lambda app: len(app.state.sim.book.instances),
        ),
        "wecom": (
            lambda: create_wecom_app(world, config=WeComConfig()),
            connect_wecom,
            {"definition_code": INTERVIEW_TEMPLATE, "originator": users.wecom_id,
             "form": [{"id": "Text-1511", "value": "张伟"}, {"id": "Text-1513", "value": "二面"}],
             "report": {"summary": "AI 面试 86 分"}},
            lambda app: len(app.state.sim.book.instances),
        ),
        "feishu": (
            lambda: create_feishu_app(world, config=FeishuConfig()),
            connect_feishu,
            {"definition_code": FeishuConfig().approval_code, "originator": users.feishu_user_id,
             "form": [{"id": "widget1", "value": "张伟"}]},
            lambda app: len(app.state.sim.book.instances),
        ),
    }[dialect]  # fmt: skip
    app = factory()
    async with hub.db.session(hub.tenant) as session:
        approval = m.ApprovalInstance(definition_code="x", status="PENDING")
        session.add(approval)
        await session.commit()
    with serving(app) as (server,):
        connection = await connect(hub, server, app)
        key = f"approval:{approval.id}"
        first = await write_back(hub.db, hub.vault, hub.tenant, connection.id, "approval.create", payload,
                                 idempotency_key=key)  # fmt: skip
        again = await write_back(hub.db, hub.vault, hub.tenant, connection.id, "approval.create", payload,
                                 idempotency_key=key)  # fmt: skip
    assert first.remote_id and again.remote_id == first.remote_id and count(app) == 1
    (link,) = await hub.rows(m.RemoteLink, m.RemoteLink.entity == "approval")
    assert link.entity_id == approval.id and link.remote_id == first.remote_id
    assert (
        await remote_reference(hub.db, hub.tenant, "approval", approval.id, connection_id=connection.id)
        == link.remote_id
    )


async def test_mobile_invite_and_push_through_the_job(hub: Hub, world: World, runtime: Runtime) -> None:
    app = create_mobile_app(world)
    candidate = world.candidates[0]
    with serving(app) as (server,):
        mobile = await connect_mobile(hub, server, app)
        async with hub.db.session(hub.tenant) as session:
            note = m.Notification(recipient_kind="candidate", recipient_id=hub.tenant, title="二面邀请")
            session.add(note)
            await session.commit()
        invite = {"candidate_remote_id": candidate.remote_id, "package_id": "pkg_backend_l3"}
        push = {"to": candidate.remote_id, "title": "二面邀请", "body": "周一 14:00", "notification_id": str(note.id)}
        jobs = [
            runtime.queues.enqueue("hub.jobs.write_back", str(hub.tenant), str(mobile.id), "session.invite", invite,
                                   idempotency_key="invite-7"),
            runtime.queues.enqueue("hub.jobs.write_back", str(hub.tenant), str(mobile.id), "session.invite", invite,
                                   idempotency_key="invite-7"),
            runtime.queues.enqueue("hub.jobs.write_back", str(hub.tenant), str(mobile.id), "notification.push", push,
                                   idempotency_key="push-7"),
        ]  # fmt: skip
        await drain(hub.settings)
    for job in jobs:
        job.refresh()
    results = [job.return_value() for job in jobs]
    assert results[0]["status"] == "DONE" and results[1] == {**results[0], "replayed": True}
    assert sum(1 for row in app.state.sim.state.rows if row.record["sessionId"] == results[0]["remote_id"]) == 1
    assert results[2]["upstream_status"] == "DELIVERED"
    (session,) = await hub.rows(m.InterviewSession)
    assert session.status == "INVITED" and session.candidate_id is None  # no HR copy of the candidate here
    async with hub.db.session(hub.tenant) as s:
        status = (await s.scalars(select(m.Notification.status).where(m.Notification.id == note.id))).one()
    assert status == "DELIVERED"


async def test_connection_global_ids_answer_not_found_for_other_tenants(
    client: httpx.AsyncClient, hub: Hub, runtime: Runtime, world: World
) -> None:
    other = await make_hub(runtime.settings, runtime.db)
    app = create_hr_app(world)
    with serving(app) as (server,):
        theirs = await connect_hr(other, server, app)
    gid = encode_global_id("UpstreamConnection", theirs.id)
    try:
        query = "query($id: ID!) { connection(id: $id) { name } }"
        error = gql_error(await post(client, hub.integrator, query, id=gid))
        assert error["extensions"]["code"] == "NOT_FOUND"
        assert gql(await post(client, hub.integrator, CONNECTIONS))["connections"]["totalCount"] == 0
    finally:
        await drop_tenant(runtime.db, other.tenant)


async def test_key_rotation_covers_connection_secrets_and_raw_payloads(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        (run,) = await start_sync(hub.db, hub.tenant, hr.id, ["job"], full=True)
        await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "job", run_id=run.id)
    kek = kek_from_settings(hub.settings)
    assert kek is not None
    old = hub.vault.protection(hub.tenant).cipher.keyring.primary.key_id
    new = await add_data_key(hub.db, kek, hub.tenant)
    await promote_data_key(hub.db, kek, hub.tenant, new)
    vault = PolicyVault(hub.db, kek, cache_seconds=0)
    await vault.prepare(hub.tenant)
    cursor: dict[str, Any] | None = {"column": 0, "after": None}
    while cursor is not None:
        cursor, _ = await reencrypt_batch(hub.db, vault, hub.tenant, cursor)
    usage = await key_usage(hub.db, hub.tenant)
    assert usage[old] == 0 and usage[new] > 0  # secrets and raw payloads moved too: the old key can retire
    row = await get_connection(hub.db, hub.tenant, hr.id)
    assert config_of(vault, hub.tenant, row).credentials == {"api_key": app.state.sim.config.api_key}
