"""The Feishu simulator: {code, msg, data}, JSON-string forms, uuid idempotency, limits, signed events."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.seed import World
from tests.simulators import independent
from tests.simulators.conftest import FakeClock, asgi_client, wait_for
from tests.simulators.receivers import plain_receiver

CFG = FeishuConfig()
BASE = "/open-apis/approval/v4/instances"
MS_STRING = re.compile(r"^\d{13}$")


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    answer = (
        await client.post(
            "/open-apis/auth/v3/tenant_access_token/internal", json={"app_id": CFG.app_id, "app_secret": CFG.app_secret}
        )
    ).json()
    assert answer["code"] == 0 and answer["expire"] == 7200 and "data" not in answer
    return {"Authorization": f"Bearer {answer['tenant_access_token']}"}


def new_instance(world: World, **extra: object) -> dict[str, object]:
    form = [{"id": "widget1", "type": "input", "value": "张伟"}, {"id": "widget2", "type": "number", "value": "88"}]
    return {
        "approval_code": CFG.approval_code,
        "user_id": world.users[0].feishu_user_id,
        "form": json.dumps(form, ensure_ascii=False),
        **extra,
    }


async def test_create_and_read_with_epoch_ms_strings(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_feishu_app(world, clock=clock)) as client:
        headers = await token(client)
        created = (await client.post(BASE, json=new_instance(world), headers=headers)).json()
        assert created == {"code": 0, "msg": "success", "data": {"instance_code": created["data"]["instance_code"]}}
        data = (await client.get(f"{BASE}/{created['data']['instance_code']}", headers=headers)).json()["data"]
        not_string = await client.post(
            BASE, headers=headers, json=new_instance(world, form=[{"id": "w", "type": "input", "value": "x"}])
        )
        unknown = await client.get(f"{BASE}/NOPE", headers=headers)
        no_token = await client.get(f"{BASE}/NOPE")
    assert data["status"] == "PENDING" and MS_STRING.match(data["start_time"]) and data["end_time"] == "0"
    assert data["start_time"] == str(int(clock.now * 1000))
    assert isinstance(data["form"], str) and json.loads(data["form"])[0]["value"] == "张伟"
    assert data["task_list"][0]["status"] == "PENDING" and data["task_list"][0]["end_time"] == "0"
    assert data["open_id"].startswith("ou_") and data["timeline"][0]["type"] == "START"
    assert not_string.status_code == 400 and not_string.json()["code"] == 1390001
    assert unknown.json()["code"] == 1390003
    assert no_token.status_code == 400 and no_token.json()["code"] == 99991661


async def test_uuid_is_an_idempotency_key(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_feishu_app(world, clock=clock)) as client:
        headers = await token(client)
        body = new_instance(world, uuid="8d6e3d5c-0001")
        first, second = [(await client.post(BASE, json=body, headers=headers)).json() for _ in range(2)]
        conflict = (
            await client.post(
                BASE, headers=headers, json=new_instance(world, uuid="8d6e3d5c-0001", department_id="other")
            )
        ).json()
        listed = (
            await client.get(
                BASE,
                headers=headers,
                params={"approval_code": CFG.approval_code, "start_time": "0", "end_time": "9999999999999"},
            )
        ).json()
    assert first == second and conflict["code"] == 1390013
    assert listed["data"]["instance_code_list"] == [first["data"]["instance_code"]]


async def test_create_limit_per_minute(world: World, clock: FakeClock) -> None:
    clock.now = 1_800_000_000.0
    app = create_feishu_app(world, clock=clock, config=FeishuConfig(create_limit_per_minute=3))
    async with asgi_client(app) as client:
        headers = await token(client)
        codes = [(await client.post(BASE, json=new_instance(world), headers=headers)) for _ in range(4)]
        clock.advance(60)
        after = await client.post(BASE, json=new_instance(world), headers=headers)
    assert [c.status_code for c in codes] == [200, 200, 200, 429]
    assert codes[3].json()["code"] == 99991400 and codes[3].headers["x-ogw-ratelimit-reset"] == "60"
    assert after.status_code == 200


async def test_list_walks_every_instance_with_page_tokens(world: World, clock: FakeClock) -> None:
    app = create_feishu_app(world, clock=clock, config=FeishuConfig(seed_instances=250))
    async with asgi_client(app) as client:
        headers = await token(client)
        seen, page_token = [], ""
        while True:
            params = {
                "approval_code": CFG.approval_code,
                "start_time": "0",
                "end_time": str(int(clock.now * 1000)),
                "page_size": 100,
                **({"page_token": page_token} if page_token else {}),
            }
            data = (await client.get(BASE, params=params, headers=headers)).json()["data"]
            seen.extend(data["instance_code_list"])
            if not data["has_more"]:
                break
            page_token = data["page_token"]
        finished = (await client.get(f"{BASE}/{seen[0]}", headers=headers)).json()["data"]
    assert len(seen) == len(set(seen)) == 250
    assert all(re.match(r"^[0-9A-F-]{36}$", code) for code in seen)
    if finished["status"] != "PENDING":
        assert MS_STRING.match(finished["end_time"])


async def test_events_are_signed_and_reverted_carries_an_integer_time(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = plain_receiver()
    config = FeishuConfig(callback_url="http://receiver/hook")
    app = create_feishu_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    async with asgi_client(app) as client:
        headers = await token(client)
        code = (await client.post(BASE, json=new_instance(world), headers=headers)).json()["data"]["instance_code"]
        approved = (
            await client.post(f"/_sim/instances/{code}/act", json={"action": "approve", "comment": "同意"})
        ).json()
        await client.post(f"/_sim/instances/{code}/act", json={"action": "revert"})
        reread = (await client.get(f"{BASE}/{code}", headers=headers)).json()["data"]
    assert approved["delivery"]["accepted"] and approved["instance"]["status"] == "APPROVED"
    assert reread["status"] == "CANCELED" and reread["reverted"] is True
    bodies = []
    for item in receiver.received:
        stamp, nonce = item.headers["x-lark-request-timestamp"], item.headers["x-lark-request-nonce"]
        assert item.headers["x-lark-signature"] == independent.lark_signature(stamp, nonce, CFG.encrypt_key, item.body)
        bodies.append(json.loads(item.body))
    assert [b["event"]["status"] for b in bodies] == ["PENDING", "APPROVED", "REVERTED"]
    assert all(b["type"] == "event_callback" and b["token"] == CFG.verification_token for b in bodies)
    assert all(b["event"]["type"] == "approval_instance" and b["event"]["instance_code"] == code for b in bodies)
    assert isinstance(bodies[1]["event"]["operate_time"], str) and MS_STRING.match(bodies[1]["event"]["operate_time"])
    assert isinstance(bodies[2]["event"]["operate_time"], int)


@pytest.mark.e2e
def test_encrypted_events_and_challenge_over_real_http(world: World, serve) -> None:  # type: ignore[no-untyped-def]
    receiver_app, receiver = plain_receiver()
    hook = serve(receiver_app)
    sim = serve(create_feishu_app(world, config=FeishuConfig(callback_url=f"{hook.url}/hook")))
    with httpx.Client(base_url=sim.url) as client:
        client.post("/_sim/callback", json={"encryptBody": False})
        challenge = client.post("/_sim/callback/verify").json()["delivery"]
        client.post("/_sim/callback", json={"encryptBody": True})
        headers = {
            "Authorization": "Bearer "
            + client.post(
                "/open-apis/auth/v3/tenant_access_token/internal",
                json={"app_id": CFG.app_id, "app_secret": CFG.app_secret},
            ).json()["tenant_access_token"]
        }
        code = client.post(BASE, json=new_instance(world), headers=headers).json()["data"]["instance_code"]
        wait_for(lambda: len(receiver.received) == 2)
        client.post(
            f"{BASE}/cancel",
            headers=headers,
            json={"approval_code": CFG.approval_code, "instance_code": code, "user_id": world.users[0].feishu_user_id},
        )
        wait_for(lambda: len(receiver.received) == 3)
    assert challenge["accepted"] is True
    for item in receiver.received[1:]:
        stamp, nonce = item.headers["x-lark-request-timestamp"], item.headers["x-lark-request-nonce"]
        assert item.headers["x-lark-signature"] == independent.lark_signature(stamp, nonce, CFG.encrypt_key, item.body)
    events = [
        json.loads(independent.lark_decrypt(CFG.encrypt_key, json.loads(i.body)["encrypt"]))["event"]
        for i in receiver.received[1:]
    ]
    assert [e["status"] for e in events] == ["PENDING", "CANCELED"]
