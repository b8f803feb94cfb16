"""DingTalk callbacks and the simulator-only controls (no auth, under ``/_sim``).

- ``POST /_sim/instances/{id}/act`` ``{"action": "agree"|"refuse"|"terminate", "userId"?, "remark"?}``: the
  approver (or, for terminate, the originator) acts in the DingTalk app; the ``bpms_instance_change`` callback
  is sent at once and the answer says whether the receiver replied with a valid encrypted ``success``.
- ``GET /_sim/instances``: every instance as ``GET processInstances`` renders it, with its id.
- ``GET``/``POST /_sim/callback`` ``{"url", "token", "aesKey", "ownerKey"}``: the event subscription.
- ``POST /_sim/callback/check``: sends the ``check_url`` event DingTalk sends when a URL is registered.
- ``POST /_sim/tokens/expire``: expires every access token issued so far.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.approvals import Instance, TransitionError
from simulators.delivery import Delivery
from simulators.dingtalk_render import render_instance
from simulators.oa_common import BadRequest, nonce, read_json
from simulators.signing import MsgCrypt, SignatureError
from simulators.timefmt import epoch_ms

if TYPE_CHECKING:
    from simulators.dingtalk import DingTalkSimulator

__all__ = ["notify", "routes", "send_event"]


def _crypt(sim: DingTalkSimulator) -> MsgCrypt:
    cfg = sim.config
    return MsgCrypt(cfg.callback_token, cfg.callback_aes_key, cfg.owner_key or cfg.app_key)


def _judge(crypt: MsgCrypt) -> Any:
    def judge(response: httpx.Response) -> str | None:
        if not response.is_success:
            return f"receiver answered HTTP {response.status_code}"
        try:
            answer = response.json()
            crypt.verify(answer["msg_signature"], str(answer["timeStamp"]), str(answer["nonce"]), answer["encrypt"])
            plain = crypt.decrypt(answer["encrypt"])
        except (ValueError, KeyError, TypeError) as exc:  # SignatureError is a ValueError
            return f"receiver answer is not an encrypted success: {exc}"
        return None if plain == b"success" else f"receiver answered {plain!r}, not success"

    return judge


async def send_event(sim: DingTalkSimulator, payload: dict[str, Any]) -> Delivery | None:
    """Encrypt, sign and POST one event to the callback URL; None when no URL is configured."""
    if not sim.config.callback_url:
        return None
    crypt = _crypt(sim)
    encrypted = crypt.encrypt(json.dumps(payload, ensure_ascii=False, separators=(",", ":")))
    timestamp, once = str(int(sim.clock() * 1000)), nonce()
    params = {"signature": crypt.signature(timestamp, once, encrypted), "timestamp": timestamp, "nonce": once}
    body = json.dumps({"encrypt": encrypted}).encode()
    return await sim.deliverer.send(
        payload["EventType"],
        sim.config.callback_url,
        body=body,
        headers={"Content-Type": "application/json"},
        params=params,
        judge=_judge(crypt),
    )


async def notify(sim: DingTalkSimulator, instance: Instance, kind: str) -> Delivery | None:
    """Send ``bpms_instance_change`` of type ``start``, ``finish`` or ``terminate`` for ``instance``."""
    payload: dict[str, Any] = {
        "EventType": "bpms_instance_change",
        "processInstanceId": instance.instance_id,
        "corpId": sim.config.corp_id,
        "createTime": epoch_ms(instance.created_at),
        "title": instance.title,
        "type": kind,
        "staffId": instance.originator,
        "processCode": instance.definition,
        "businessId": instance.business_id,
        "bizCategoryId": "",
        "url": f"https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm?corpid={sim.config.corp_id}"
        f"&dinstId={instance.instance_id}",
    }
    if kind != "start":
        payload["finishTime"] = epoch_ms(instance.finished_at or sim.clock())
    if kind == "finish":
        payload["result"] = "agree" if instance.status in ("APPROVED", "PAID") else "refuse"
    return await send_event(sim, payload)


def _sim(request: Request) -> DingTalkSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


def _delivery(delivery: Delivery | None) -> dict[str, Any] | None:
    return asdict(delivery) if delivery else None


async def _act(request: Request) -> Response:
    sim = _sim(request)
    instance = sim.book.get(request.path_params["id"])
    if instance is None:
        return JSONResponse({"error": "unknown instance"}, 404)
    try:
        body = await read_json(request)
        action = {"agree": "agree", "refuse": "refuse", "terminate": "cancel"}.get(body.get("action", ""))
        if action is None:
            raise BadRequest("action must be agree, refuse or terminate")
        sim.book.act(instance, action, body.get("userId"), body.get("remark") or "")
    except (BadRequest, TransitionError) as exc:
        return JSONResponse({"error": str(exc)}, 409 if isinstance(exc, TransitionError) else 400)
    kind = "terminate" if action == "cancel" else ("finish" if instance.status != "PENDING" else None)
    delivery = await notify(sim, instance, kind) if kind else None
    return JSONResponse({"instance": render_instance(instance, sim.config.corp_id), "delivery": _delivery(delivery)})


async def _instances(request: Request) -> Response:
    sim = _sim(request)
    return JSONResponse(
        {
            "instances": [
                {"processInstanceId": i.instance_id, **render_instance(i, sim.config.corp_id)}
                for i in sim.book.instances.values()
            ]
        }
    )


async def _callback(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        try:
            body = await read_json(request)
            cfg = sim.config
            cfg.callback_url = body.get("url", cfg.callback_url)
            cfg.callback_token = body.get("token", cfg.callback_token)
            cfg.owner_key = body.get("ownerKey", cfg.owner_key)
            if "aesKey" in body:
                MsgCrypt("t", body["aesKey"], "r")  # validates the 43-character key
                cfg.callback_aes_key = body["aesKey"]
        except (BadRequest, ValueError, SignatureError) as exc:
            return JSONResponse({"error": str(exc)}, 400)
    cfg = sim.config
    return JSONResponse(
        {
            "url": cfg.callback_url,
            "token": cfg.callback_token,
            "aesKey": cfg.callback_aes_key,
            "ownerKey": cfg.owner_key or cfg.app_key,
        }
    )


async def _check(request: Request) -> Response:
    sim = _sim(request)
    delivery = await send_event(sim, {"EventType": "check_url"})
    return JSONResponse({"delivery": _delivery(delivery)}, 200 if delivery else 409)


async def _expire(request: Request) -> Response:
    return JSONResponse({"expired": _sim(request).tokens.expire_all()})


def routes() -> list[Route]:
    """The ``/_sim`` control routes of the DingTalk simulator."""
    return [
        Route("/_sim/instances", _instances, methods=["GET"]),
        Route("/_sim/instances/{id}/act", _act, methods=["POST"]),
        Route("/_sim/callback", _callback, methods=["GET", "POST"]),
        Route("/_sim/callback/check", _check, methods=["POST"]),
        Route("/_sim/tokens/expire", _expire, methods=["POST"]),
    ]
