"""Callback receivers for the tests: Starlette apps that record what arrives and answer as each vendor
requires (verification uses `tests.simulators.independent`, never the simulators' own code).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.simulators import independent


@dataclass
class Received:
    """One request as it arrived: raw body, headers (lower-case) and query parameters."""

    method: str
    body: bytes
    headers: dict[str, str]
    params: dict[str, str]


@dataclass
class Receiver:
    """What a receiver got; ``answer`` decides the reply (defaults per dialect)."""

    received: list[Received] = field(default_factory=list)
    status: int = 200
    mode: str = "ok"  # per dialect: "ok" or a deliberately wrong answer

    def json_bodies(self) -> list[Any]:
        return [json.loads(item.body) for item in self.received]


async def _record(receiver: Receiver, request: Request) -> Received:
    item = Received(request.method, await request.body(), dict(request.headers), dict(request.query_params))
    receiver.received.append(item)
    return item


def plain_receiver() -> tuple[Starlette, Receiver]:
    """Records and answers ``receiver.status`` with ``ok`` (HR and mobile webhooks, Feishu events)."""
    receiver = Receiver()

    async def handle(request: Request) -> Response:
        item = await _record(receiver, request)
        body = json.loads(item.body) if item.body else {}
        if isinstance(body, dict) and body.get("type") == "url_verification":
            return JSONResponse({"challenge": body["challenge"]})
        return PlainTextResponse("ok", receiver.status)

    return Starlette(routes=[Route("/hook", handle, methods=["POST"])]), receiver


def dingtalk_receiver(token: str, aes_key: str, owner_key: str) -> tuple[Starlette, Receiver]:
    """Answers DingTalk callbacks with an encrypted ``success`` (mode "plain" answers a bare ``success``)."""
    receiver = Receiver()

    async def handle(request: Request) -> Response:
        item = await _record(receiver, request)
        encrypt = json.loads(item.body)["encrypt"]
        signature = independent.wx_signature(token, item.params["timestamp"], item.params["nonce"], encrypt)
        if signature != item.params["signature"]:
            return PlainTextResponse("bad signature", 403)
        if receiver.mode == "plain":
            return PlainTextResponse("success")
        stamp, nonce = str(int(time.time() * 1000)), "abcd1234"
        reply = independent.wx_encrypt(aes_key, b"success", owner_key.encode())
        return JSONResponse(
            {
                "msg_signature": independent.wx_signature(token, stamp, nonce, reply),
                "timeStamp": stamp,
                "nonce": nonce,
                "encrypt": reply,
            }
        )

    return Starlette(routes=[Route("/hook", handle, methods=["POST"])]), receiver


def wecom_receiver(token: str, aes_key: str) -> tuple[Starlette, Receiver]:
    """Verifies WeCom's URL check (GET echostr) and answers callbacks with an empty body."""
    receiver = Receiver()

    async def handle(request: Request) -> Response:
        item = await _record(receiver, request)
        if request.method == "GET":
            echo = item.params["echostr"]
            signature = independent.wx_signature(token, item.params["timestamp"], item.params["nonce"], echo)
            if signature != item.params["msg_signature"]:
                return PlainTextResponse("bad signature", 403)
            message, _ = independent.wx_decrypt(aes_key, echo)
            return PlainTextResponse(message.decode())
        return PlainTextResponse("", receiver.status)

    return Starlette(routes=[Route("/hook", handle, methods=["GET", "POST"])]), receiver
