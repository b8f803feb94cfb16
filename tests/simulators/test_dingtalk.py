"""The DingTalk simulator: token, workflow v1.0 shapes, nextToken paging, encrypted callbacks."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.seed import World
from tests.simulators import independent
from tests.simulators.conftest import FakeClock, asgi_client, wait_for
from tests.simulators.receivers import dingtalk_receiver

CFG = DingTalkConfig()
MINUTE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$")


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    answer = (
        await client.post("/v1.0/oauth2/accessToken", json={"appKey": CFG.app_key, "appSecret": CFG.app_secret})
    ).json()
    assert answer["expireIn"] == 7200
    return {"x-acs-dingtalk-access-token": answer["accessToken"]}


def new_instance(world: World, **extra: object) -> dict[str, object]:
    return {
        "originatorUserId": world.users[0].dingtalk_id,
        "processCode": "PROC-SIM-INTERVIEW-2ND",
        "deptId": 1,
        "formComponentValues": [{"name": "候选人", "value": "张伟"}, {"name": "面试轮次", "value": "二面"}],
        **extra,
    }


async def test_token_and_auth_errors(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_dingtalk_app(world, clock=clock)) as client:
        bad = await client.post("/v1.0/oauth2/accessToken", json={"appKey": CFG.app_key, "appSecret": "x"})
        assert bad.status_code == 400 and set(bad.json()) == {"code", "message", "requestid"}
        missing = await client.get("/v1.0/workflow/processInstances", params={"processInstanceId": "x"})
        assert missing.status_code == 401 and missing.json()["code"] == "InvalidAuthentication"
        headers = await token(client)
        await client.post("/_sim/tokens/expire")
        expired = await client.get(
            "/v1.0/workflow/processInstances", params={"processInstanceId": "x"}, headers=headers
        )
        assert expired.status_code == 401 and "过期" in expired.json()["message"]


async def test_create_read_and_the_dept_id_quirk(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_dingtalk_app(world, clock=clock)) as client:
        headers = await token(client)
        body = new_instance(world)
        del body["deptId"]
        refused = await client.post("/v1.0/workflow/processInstances", json=body, headers=headers)
        assert refused.status_code == 400 and "deptId" in refused.json()["message"]
        created = await client.post("/v1.0/workflow/processInstances", json=new_instance(world), headers=headers)
        instance_id = created.json()["instanceId"]
        read = (
            await client.get(
                "/v1.0/workflow/processInstances", params={"processInstanceId": instance_id}, headers=headers
            )
        ).json()
        unknown = await client.get(
            "/v1.0/workflow/processInstances", params={"processInstanceId": "nope"}, headers=headers
        )
    assert read["success"] is True
    result = read["result"]
    assert result["status"] == "RUNNING" and MINUTE.match(result["createTime"]) and "finishTime" not in result
    assert result["formComponentValues"][0] == {
        "id": "TextField-0",
        "name": "候选人",
        "value": "张伟",
        "componentType": "TextField",
    }
    assert result["tasks"][0]["status"] == "RUNNING" and result["tasks"][0]["result"] == "NONE"
    assert result["operationRecords"][0]["type"] == "START_PROCESS_INSTANCE"
    assert result["title"].endswith("提交的二面审批")
    assert unknown.status_code == 400


async def test_list_walks_every_instance_with_next_token(world: World, clock: FakeClock) -> None:
    app = create_dingtalk_app(world, clock=clock, config=DingTalkConfig(seed_instances=45))
    async with asgi_client(app) as client:
        headers = await token(client)
        seen, next_token = [], None
        while True:
            body = {
                "processCode": "PROC-SIM-INTERVIEW-2ND",
                "startTime": 0,
                "maxResults": 20,
                **({"nextToken": next_token} if next_token is not None else {}),
            }
            result = (
                await client.post("/v1.0/workflow/processes/instanceIds/query", json=body, headers=headers)
            ).json()["result"]
            seen.extend(result["list"])
            next_token = result.get("nextToken")
            if next_token is None:
                break
        too_many = await client.post(
            "/v1.0/workflow/processes/instanceIds/query",
            headers=headers,
            json={"processCode": "PROC-SIM-INTERVIEW-2ND", "startTime": 0, "maxResults": 21},
        )
        running = (
            await client.post(
                "/v1.0/workflow/processes/instanceIds/query",
                headers=headers,
                json={"processCode": "PROC-SIM-INTERVIEW-2ND", "startTime": 0, "statuses": ["RUNNING"]},
            )
        ).json()["result"]["list"]
    assert len(seen) == len(set(seen)) == 45
    assert too_many.status_code == 400
    assert 0 < len(running) < 20


async def test_approver_acts_and_the_callback_is_encrypted(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = dingtalk_receiver(CFG.callback_token, CFG.callback_aes_key, CFG.app_key)
    config = DingTalkConfig(callback_url="http://receiver/hook")
    app = create_dingtalk_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    async with asgi_client(app) as client:
        headers = await token(client)
        instance_id = (
            await client.post("/v1.0/workflow/processInstances", json=new_instance(world), headers=headers)
        ).json()["instanceId"]
        clock.advance(3600)
        acted = (
            await client.post(f"/_sim/instances/{instance_id}/act", json={"action": "agree", "remark": "同意"})
        ).json()
        again = await client.post(f"/_sim/instances/{instance_id}/act", json={"action": "refuse"})
    assert acted["instance"]["status"] == "COMPLETED" and acted["instance"]["result"] == "agree"
    assert MINUTE.match(acted["instance"]["finishTime"])
    assert acted["delivery"]["accepted"] is True
    assert again.status_code == 409
    start, finish = receiver.received
    events = []
    for item in (start, finish):
        assert set(item.params) == {"signature", "timestamp", "nonce"} and len(item.params["timestamp"]) == 13
        message, receive_id = independent.wx_decrypt(CFG.callback_aes_key, json.loads(item.body)["encrypt"])
        assert receive_id == CFG.app_key.encode()
        events.append(json.loads(message))
    assert events[0]["EventType"] == "bpms_instance_change" and events[0]["type"] == "start"
    assert events[1]["type"] == "finish" and events[1]["result"] == "agree"
    assert events[1]["processInstanceId"] == instance_id and events[1]["corpId"] == CFG.corp_id
    assert isinstance(events[1]["createTime"], int)  # epoch milliseconds


async def test_receiver_must_answer_encrypted_success(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = dingtalk_receiver(CFG.callback_token, CFG.callback_aes_key, CFG.app_key)
    receiver.mode = "plain"
    config = DingTalkConfig(callback_url="http://receiver/hook")
    app = create_dingtalk_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    async with asgi_client(app) as client:
        check = (await client.post("/_sim/callback/check")).json()["delivery"]
    assert check["accepted"] is False and "success" in check["error"]


@pytest.mark.e2e
def test_execute_and_terminate_over_real_http(world: World, serve) -> None:  # type: ignore[no-untyped-def]
    receiver_app, receiver = dingtalk_receiver(CFG.callback_token, CFG.callback_aes_key, CFG.app_key)
    hook = serve(receiver_app)
    sim = serve(create_dingtalk_app(world, config=DingTalkConfig(callback_url=f"{hook.url}/hook")))
    with httpx.Client(base_url=sim.url) as client:
        headers = {
            "x-acs-dingtalk-access-token": client.post(
                "/v1.0/oauth2/accessToken", json={"appKey": CFG.app_key, "appSecret": CFG.app_secret}
            ).json()["accessToken"]
        }
        ids = [
            client.post("/v1.0/workflow/processInstances", json=new_instance(world), headers=headers).json()[
                "instanceId"
            ]
            for _ in range(2)
        ]
        read = client.get(
            "/v1.0/workflow/processInstances", params={"processInstanceId": ids[0]}, headers=headers
        ).json()["result"]
        task = read["tasks"][0]
        executed = client.post(
            "/v1.0/workflow/processInstances/execute",
            headers=headers,
            json={
                "processInstanceId": ids[0],
                "result": "refuse",
                "actionerUserId": task["userId"],
                "taskId": task["taskId"],
            },
        )
        terminated = client.post(
            "/v1.0/workflow/processInstances/terminate",
            headers=headers,
            json={"processInstanceId": ids[1], "operatingUserId": read["originatorUserId"]},
        )
        wait_for(lambda: len(receiver.received) == 4)
        final = [
            client.get("/v1.0/workflow/processInstances", params={"processInstanceId": i}, headers=headers).json()[
                "result"
            ]
            for i in ids
        ]
        deliveries = client.get("/_sim/deliveries").json()["deliveries"]
    assert executed.json() == {"success": True, "result": True} and terminated.status_code == 200
    assert (final[0]["status"], final[0]["result"]) == ("COMPLETED", "refuse")
    assert final[1]["status"] == "TERMINATED"
    assert len(receiver.received) == 4 and all(d["accepted"] for d in deliveries)
