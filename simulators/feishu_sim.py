"""Feishu event callbacks and the simulator-only controls (no auth, under ``/_sim``).

A callback POSTs ``{ts, uuid, token, type: "event_callback", event: {type: "approval_instance",
approval_code, instance_code, status, operate_time, ...}}`` (or, with ``encrypt_body``, ``{"encrypt": ...}``
per `simulators.signing.feishu_encrypt`) with headers ``X-Lark-Request-Timestamp`` (seconds),
``X-Lark-Request-Nonce`` and ``X-Lark-Signature`` = sha256(timestamp + nonce + encrypt_key + raw body).
The receiver must answer HTTP 200.

- ``POST /_sim/instances/{instance_code}/act`` ``{"action": "approve"|"reject"|"cancel"|"delete"|"revert"|
  "expire", "user_id"?, "comment"?}``: calls back at once; the answer carries the delivery.
- ``GET /_sim/instances``: every instance as the GET API renders it.
- ``GET``/``POST /_sim/callback`` ``{"url", "token", "encryptKey", "encryptBody"}``.
- ``POST /_sim/callback/verify``: the ``url_verification`` challenge; the receiver must echo ``challenge``.
- ``POST /_sim/tokens/expire``: expires every tenant access token.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.approvals import Instance, TransitionError
from simulators.delivery import Delivery, Judge
from simulators.feishu_render import render_event, render_instance
from simulators.oa_common import BadRequest, nonce, read_json
from simulators.signing import feishu_encrypt, feishu_signature

if TYPE_CHECKING:
    from simulators.feishu import FeishuSimulator

__all__ = ["notify", "routes", "send_event"]

_ACTIONS = {
    "approve": "agree",
    "reject": "refuse",
    "cancel": "cancel",
    "delete": "delete",
    "revert": "revert",
    "expire": "expire",
}


async def send_event(sim: FeishuSimulator, payload: dict[str, Any], kind: str, judge: Judge | None = None) -> Delivery:
    """Sign (and, when switched on, encrypt) one payload and POST it to the callback URL."""
    cfg = sim.config
    plain = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    body = (json.dumps({"encrypt": feishu_encrypt(cfg.encrypt_key, plain)}) if cfg.encrypt_body else plain).encode()
    timestamp, once = str(int(sim.clock())), nonce(16)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": once,
        "X-Lark-Signature": feishu_signature(timestamp, once, cfg.encrypt_key, body),
    }
    return await sim.deliverer.send(kind, cfg.callback_url or "", body=body, headers=headers, judge=judge)


async def notify(sim: FeishuSimulator, instance: Instance) -> Delivery | None:
    """Send the ``approval_instance`` event for the instance's current status; None without a URL."""
    if not sim.config.callback_url:
        return None
    now = sim.clock()
    payload = {
        "ts": f"{now:.7f}",
        "uuid": uuid.uuid4().hex,
        "token": sim.config.verification_token,
        "type": "event_callback",
        "event": render_event(instance, app_id=sim.config.app_id, tenant_key=sim.config.tenant_key, at=now),
    }
    return await send_event(sim, payload, "approval_instance")


def _sim(request: Request) -> FeishuSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


async def _act(request: Request) -> Response:
    sim = _sim(request)
    instance = sim.book.get(request.path_params["instance_code"])
    if instance is None:
        return JSONResponse({"error": "unknown instance"}, 404)
    try:
        body = await read_json(request)
        if body.get("action") not in _ACTIONS:
            raise BadRequest(f"action must be one of {', '.join(_ACTIONS)}")
        sim.book.act(instance, _ACTIONS[body["action"]], body.get("user_id"), body.get("comment") or "")
    except (BadRequest, TransitionError) as exc:
        return JSONResponse({"error": str(exc)}, 409 if isinstance(exc, TransitionError) else 400)
    delivery = await notify(sim, instance)
    return JSONResponse(
        {
            "instance": render_instance(instance, sim.open_ids, sim.config.approval_name),
            "delivery": asdict(delivery) if delivery else None,
        }
    )


async def _instances(request: Request) -> Response:
    sim = _sim(request)
    rendered = [render_instance(i, sim.open_ids, sim.config.approval_name) for i in sim.book.instances.values()]
    return JSONResponse({"instances": rendered})


async def _callback(request: Request) -> Response:
    cfg = _sim(request).config
    if request.method == "POST":
        try:
            body = await read_json(request)
        except BadRequest as exc:
            return JSONResponse({"error": str(exc)}, 400)
        cfg.callback_url = body.get("url", cfg.callback_url)
        cfg.verification_token = body.get("token", cfg.verification_token)
        cfg.encrypt_key = body.get("encryptKey", cfg.encrypt_key)
        cfg.encrypt_body = bool(body.get("encryptBody", cfg.encrypt_body))
    return JSONResponse(
        {
            "url": cfg.callback_url,
            "token": cfg.verification_token,
            "encryptKey": cfg.encrypt_key,
            "encryptBody": cfg.encrypt_body,
        }
    )


async def _verify(request: Request) -> Response:
    sim = _sim(request)
    if not sim.config.callback_url:
        return JSONResponse({"error": "no callback url configured"}, 409)
    challenge = secrets.token_hex(16)

    def judge(response: httpx.Response) -> str | None:
        try:
            ok = response.status_code == 200 and response.json().get("challenge") == challenge
        except ValueError:
            ok = False
        return None if ok else "receiver did not echo the challenge"

    payload = {"challenge": challenge, "token": sim.config.verification_token, "type": "url_verification"}
    delivery = await send_event(sim, payload, "url_verification", judge)
    return JSONResponse({"delivery": asdict(delivery)})


async def _expire(request: Request) -> Response:
    return JSONResponse({"expired": _sim(request).tokens.expire_all()})


def routes() -> list[Route]:
    """The ``/_sim`` control routes of the Feishu simulator."""
    return [
        Route("/_sim/instances", _instances, methods=["GET"]),
        Route("/_sim/instances/{instance_code}/act", _act, methods=["POST"]),
        Route("/_sim/callback", _callback, methods=["GET", "POST"]),
        Route("/_sim/callback/verify", _verify, methods=["POST"]),
        Route("/_sim/tokens/expire", _expire, methods=["POST"]),
    ]
