"""WeCom callbacks and the simulator-only controls (no auth, under ``/_sim``).

A callback is ``POST {url}?msg_signature=&timestamp=&nonce=`` (timestamp in seconds) with the XML body
``<xml><ToUserName/><AgentID/><Encrypt/></xml>``; ``Encrypt`` is the `simulators.signing.MsgCrypt`
ciphertext (receive id = corpid) of the ``sys_approval_change`` XML. The receiver must answer HTTP 200 with
an empty body, ``success`` or an encrypted passive reply (which is verified).

- ``POST /_sim/approvals/{sp_no}/act`` ``{"action": "agree"|"reject"|"revoke"|"revert"|"pay"|"delete",
  "userid"?, "speech"?}``: an approver (or the applicant) acts; agree, reject, revoke and revert call back
  at once (``StatuChangeEvent`` 2, 3, 6, 6) and the answer carries the delivery.
- ``GET /_sim/approvals``: every instance's ``info``.
- ``GET``/``POST /_sim/callback`` ``{"url", "token", "aesKey"}``.
- ``POST /_sim/callback/verify``: the URL check WeCom runs on registration: ``GET {url}?msg_signature=
  &timestamp=&nonce=&echostr=<ciphertext>``, which must answer the decrypted echostr in plain text.
- ``POST /_sim/tokens/expire``: expires every access token.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.approvals import Instance, TransitionError
from simulators.delivery import Delivery, Judge
from simulators.oa_common import BadRequest, nonce, read_json
from simulators.signing import MsgCrypt
from simulators.wecom_render import approval_xml, render_info

if TYPE_CHECKING:
    from simulators.wecom import WeComSimulator

__all__ = ["notify", "routes"]

_ACTIONS = {
    "agree": ("agree", 2),
    "reject": ("refuse", 3),
    "revoke": ("cancel", 6),
    "revert": ("revert", 6),
    "pay": ("pay", None),
    "delete": ("delete", None),
}


def _crypt(sim: WeComSimulator) -> MsgCrypt:
    return MsgCrypt(sim.config.callback_token, sim.config.callback_aes_key, sim.config.corp_id)


def _tag(xml: str, name: str) -> str | None:
    match = re.search(rf"<{name}>(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))</{name}>", xml, re.S)
    return None if match is None else (match.group(1) if match.group(1) is not None else match.group(2))


def _judge(crypt: MsgCrypt) -> Judge:
    def judge(response: httpx.Response) -> str | None:
        if response.status_code != 200:
            return f"receiver answered HTTP {response.status_code}"
        text = response.text.strip()
        if text in ("", "success"):
            return None
        encrypted, signature = _tag(text, "Encrypt"), _tag(text, "MsgSignature")
        timestamp, once = _tag(text, "TimeStamp"), _tag(text, "Nonce")
        if not (encrypted and signature and timestamp and once):
            return "receiver answer is neither empty, success nor an encrypted reply"
        try:
            crypt.verify(signature, timestamp, once, encrypted)
            crypt.decrypt(encrypted)
        except ValueError as exc:
            return f"receiver reply does not verify: {exc}"
        return None

    return judge


async def notify(sim: WeComSimulator, instance: Instance, change_event: int) -> Delivery | None:
    """Send ``sys_approval_change`` for ``instance``; None when no callback URL is configured."""
    cfg = sim.config
    if not cfg.callback_url:
        return None
    crypt = _crypt(sim)
    inner = approval_xml(
        instance, corp_id=cfg.corp_id, agent_id=cfg.agent_id, change_event=change_event, now=sim.clock()
    )
    encrypted = crypt.encrypt(inner)
    timestamp, once = str(int(sim.clock())), nonce(10)
    params = {"msg_signature": crypt.signature(timestamp, once, encrypted), "timestamp": timestamp, "nonce": once}
    body = (
        f"<xml><ToUserName><![CDATA[{cfg.corp_id}]]></ToUserName><AgentID><![CDATA[{cfg.agent_id}]]></AgentID>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    ).encode()
    return await sim.deliverer.send(
        "sys_approval_change",
        cfg.callback_url,
        body=body,
        headers={"Content-Type": "text/xml"},
        params=params,
        judge=_judge(crypt),
    )


def _sim(request: Request) -> WeComSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


def _delivery(delivery: Delivery | None) -> dict[str, Any] | None:
    return asdict(delivery) if delivery else None


async def _act(request: Request) -> Response:
    sim = _sim(request)
    instance = sim.book.get(request.path_params["sp_no"])
    if instance is None:
        return JSONResponse({"error": "unknown sp_no"}, 404)
    try:
        body = await read_json(request)
        if body.get("action") not in _ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(_ACTIONS)}")
        action, change_event = _ACTIONS[body["action"]]
        sim.book.act(instance, action, body.get("userid"), body.get("speech") or "")
    except (BadRequest, TransitionError) as exc:
        return JSONResponse({"error": str(exc)}, 409 if isinstance(exc, TransitionError) else 400)
    delivery = await notify(sim, instance, change_event) if change_event else None
    return JSONResponse(
        {"info": render_info(instance, sim.titles(instance.definition)), "delivery": _delivery(delivery)}
    )


async def _approvals(request: Request) -> Response:
    sim = _sim(request)
    infos = [render_info(i, sim.titles(i.definition)) for i in sim.book.instances.values()]
    return JSONResponse({"approvals": infos})


async def _callback(request: Request) -> Response:
    cfg = _sim(request).config
    if request.method == "POST":
        try:
            body = await read_json(request)
            if "aesKey" in body:
                MsgCrypt("t", body["aesKey"], "r")  # validates the 43-character key
                cfg.callback_aes_key = body["aesKey"]
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, 400)
        cfg.callback_url = body.get("url", cfg.callback_url)
        cfg.callback_token = body.get("token", cfg.callback_token)
    return JSONResponse(
        {"url": cfg.callback_url, "token": cfg.callback_token, "aesKey": cfg.callback_aes_key, "receiveId": cfg.corp_id}
    )


async def _verify(request: Request) -> Response:
    sim = _sim(request)
    if not sim.config.callback_url:
        return JSONResponse({"error": "no callback url configured"}, 409)
    crypt, echo = _crypt(sim), f"{secrets.randbelow(10**18):018d}"
    encrypted = crypt.encrypt(echo)
    timestamp, once = str(int(sim.clock())), nonce(10)
    params = {
        "msg_signature": crypt.signature(timestamp, once, encrypted),
        "timestamp": timestamp,
        "nonce": once,
        "echostr": encrypted,
    }

    def judge(response: httpx.Response) -> str | None:
        ok = response.status_code == 200 and response.text.strip() == echo
        return None if ok else "receiver did not answer the decrypted echostr"

    delivery = await sim.deliverer.send(
        "url_verification", sim.config.callback_url, body=b"", headers={}, params=params, judge=judge, method="GET"
    )
    return JSONResponse({"delivery": _delivery(delivery)})


async def _expire(request: Request) -> Response:
    return JSONResponse({"expired": _sim(request).tokens.expire_all()})


def routes() -> list[Route]:
    """The ``/_sim`` control routes of the WeCom simulator."""
    return [
        Route("/_sim/approvals", _approvals, methods=["GET"]),
        Route("/_sim/approvals/{sp_no}/act", _act, methods=["POST"]),
        Route("/_sim/callback", _callback, methods=["GET", "POST"]),
        Route("/_sim/callback/verify", _verify, methods=["POST"]),
        Route("/_sim/tokens/expire", _expire, methods=["POST"]),
    ]
