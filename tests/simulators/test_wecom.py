"""The WeCom simulator: errcode envelopes, epoch seconds, cursor listing, encrypted XML callbacks."""

from __future__ import annotations

import re

import httpx
import pytest

from simulators.seed import BASE_TIME, World
from simulators.wecom import INTERVIEW_TEMPLATE, WeComConfig, create_wecom_app
from tests.simulators import independent
from tests.simulators.conftest import FakeClock, asgi_client, wait_for
from tests.simulators.receivers import wecom_receiver

CFG = WeComConfig()
DAY = 86400


async def token(client: httpx.AsyncClient) -> dict[str, str]:
    answer = (
        await client.get("/cgi-bin/gettoken", params={"corpid": CFG.corp_id, "corpsecret": CFG.corp_secret})
    ).json()
    assert answer["errcode"] == 0 and answer["expires_in"] == 7200
    return {"access_token": answer["access_token"]}


def application(world: World, **extra: object) -> dict[str, object]:
    return {
        "creator_userid": world.users[0].wecom_id,
        "template_id": INTERVIEW_TEMPLATE,
        "use_template_approver": 0,
        "process": {"node_list": [{"type": 1, "apv_rel": 1, "userid": [world.users[1].wecom_id]}]},
        "apply_data": {
            "contents": [
                {"control": "Text", "id": "Text-1511", "value": {"text": "张伟"}},
                {"control": "Number", "id": "Number-1514", "value": {"new_number": "88"}},
            ]
        },
        "summary_list": [{"summary_info": [{"text": "张伟 二面", "lang": "zh_CN"}]}],
        **extra,
    }


async def test_token_and_errcodes(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_wecom_app(world, clock=clock)) as client:
        codes = [
            (await client.get("/cgi-bin/gettoken", params=p)).json()["errcode"]
            for p in ({"corpid": "x", "corpsecret": CFG.corp_secret}, {"corpid": CFG.corp_id, "corpsecret": "x"})
        ]
        missing = (await client.post("/cgi-bin/oa/getapprovaldetail", json={"sp_no": "1"})).json()
        invalid = (await client.post("/cgi-bin/oa/getapprovaldetail", params={"access_token": "x"}, json={})).json()
        params = await token(client)
        await client.post("/_sim/tokens/expire")
        expired = await client.post("/cgi-bin/oa/getapprovaldetail", params=params, json={"sp_no": "1"})
    assert codes == [40013, 40001]
    assert (missing["errcode"], invalid["errcode"]) == (41001, 40014)
    assert expired.status_code == 200 and expired.json()["errcode"] == 42001
    assert "more info at https://open.work.weixin.qq.com/devtool/query?e=42001" in expired.json()["errmsg"]


async def test_apply_and_read_detail(world: World, clock: FakeClock) -> None:
    async with asgi_client(create_wecom_app(world, clock=clock)) as client:
        params = await token(client)
        created = (await client.post("/cgi-bin/oa/applyevent", params=params, json=application(world))).json()
        unknown_user = (
            await client.post("/cgi-bin/oa/applyevent", params=params, json=application(world, creator_userid="Nobody"))
        ).json()
        bad_template = (
            await client.post("/cgi-bin/oa/applyevent", params=params, json=application(world, template_id="T"))
        ).json()
        detail = (
            await client.post("/cgi-bin/oa/getapprovaldetail", params=params, json={"sp_no": created["sp_no"]})
        ).json()
        unknown = (await client.post("/cgi-bin/oa/getapprovaldetail", params=params, json={"sp_no": "0"})).json()
    assert created["errcode"] == 0 and re.match(r"^\d{12}$", created["sp_no"])
    assert created["sp_no"].startswith("20250302")  # the creation date (UTC), then a counter
    assert unknown_user["errcode"] == 60111 and bad_template["errcode"] == 40058 and unknown["errcode"] == 301025
    info = detail["info"]
    assert info["sp_status"] == 1 and info["apply_time"] == int(clock.now) and info["sp_name"] == "二面审批"
    assert info["applyer"] == {"userid": world.users[0].wecom_id, "partyid": "1"}
    record = info["sp_record"][0]
    assert record["approverattr"] == 1 and record["details"][0]["sptime"] == 0
    assert info["apply_data"]["contents"][1] == {
        "control": "Number",
        "id": "Number-1514",
        "title": [{"text": "AI面试评分", "lang": "zh_CN"}],
        "value": {"new_number": "88"},
    }


async def test_list_walks_every_instance_and_enforces_the_window(world: World, clock: FakeClock) -> None:
    app = create_wecom_app(world, clock=clock, config=WeComConfig(seed_instances=230))
    async with asgi_client(app) as client:
        params = await token(client)
        window = {"starttime": int(BASE_TIME - 30 * DAY), "endtime": int(BASE_TIME)}
        seen, cursor = [], ""
        while True:
            answer = (
                await client.post(
                    "/cgi-bin/oa/getapprovalinfo", params=params, json={**window, "new_cursor": cursor, "size": 100}
                )
            ).json()
            assert answer["errcode"] == 0
            seen.extend(answer["sp_no_list"])
            cursor = answer["new_next_cursor"]
            if not cursor:
                break
        wide = (
            await client.post(
                "/cgi-bin/oa/getapprovalinfo", params=params, json={"starttime": 0, "endtime": int(BASE_TIME)}
            )
        ).json()
        oversize = (
            await client.post("/cgi-bin/oa/getapprovalinfo", params=params, json={**window, "size": 101})
        ).json()
        approved = (
            await client.post(
                "/cgi-bin/oa/getapprovalinfo",
                params=params,
                json={**window, "size": 100, "filters": [{"key": "sp_status", "value": "3"}]},
            )
        ).json()["sp_no_list"]
        statuses = {
            (await client.post("/cgi-bin/oa/getapprovaldetail", params=params, json={"sp_no": sp_no})).json()["info"][
                "sp_status"
            ]
            for sp_no in approved
        }
    assert len(seen) == len(set(seen)) == 230
    assert wide["errcode"] == 40058 and oversize["errcode"] == 40058
    assert 0 < len(approved) < 100 and statuses == {3}


@pytest.mark.e2e
def test_callbacks_are_encrypted_xml_and_url_verification(world: World, serve) -> None:  # type: ignore[no-untyped-def]
    receiver_app, receiver = wecom_receiver(CFG.callback_token, CFG.callback_aes_key)
    hook = serve(receiver_app)
    sim = serve(create_wecom_app(world, config=WeComConfig(callback_url=f"{hook.url}/hook")))
    with httpx.Client(base_url=sim.url) as client:
        verified = client.post("/_sim/callback/verify").json()["delivery"]
        params = {
            "access_token": client.get(
                "/cgi-bin/gettoken", params={"corpid": CFG.corp_id, "corpsecret": CFG.corp_secret}
            ).json()["access_token"]
        }
        sp_no = client.post("/cgi-bin/oa/applyevent", params=params, json=application(world)).json()["sp_no"]
        wait_for(lambda: len(receiver.received) == 2)
        acted = client.post(f"/_sim/approvals/{sp_no}/act", json={"action": "reject", "speech": "不合适"}).json()
        revoke = client.post(f"/_sim/approvals/{sp_no}/act", json={"action": "revoke"})
    assert verified["accepted"] is True
    assert acted["info"]["sp_status"] == 3 and acted["delivery"]["accepted"] is True
    assert revoke.status_code == 409
    events = []
    for item in receiver.received[1:]:
        assert item.headers["content-type"] == "text/xml"
        encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", item.body.decode()).group(1)  # type: ignore[union-attr]
        signature = independent.wx_signature(
            CFG.callback_token, item.params["timestamp"], item.params["nonce"], encrypt
        )
        assert signature == item.params["msg_signature"] and len(item.params["timestamp"]) == 10
        message, corp = independent.wx_decrypt(CFG.callback_aes_key, encrypt)
        assert corp == CFG.corp_id.encode()
        events.append(message.decode())
    assert all("<Event><![CDATA[sys_approval_change]]></Event>" in event for event in events)
    assert f"<SpNo>{sp_no}</SpNo>" in events[0] and "<StatuChangeEvent>1</StatuChangeEvent>" in events[0]
    assert "<SpStatus>3</SpStatus>" in events[1] and "<StatuChangeEvent>3</StatuChangeEvent>" in events[1]
    assert "<Speech><![CDATA[不合适]]></Speech>" in events[1]
