"""Simulated Feishu (Lark) approvals v4: ``{code, msg, data}`` envelopes, epoch-ms strings, JSON-string forms.

API routes (all but the token need ``Authorization: Bearer <tenant_access_token>``):

- ``POST /open-apis/auth/v3/tenant_access_token/internal`` ``{app_id, app_secret}`` ->
  ``{code, msg, tenant_access_token, expire}`` (top level, not under ``data``, as Feishu does)
- ``POST /open-apis/approval/v4/instances`` ``{approval_code, user_id | open_id, department_id?,
  form: "<JSON string of [{id, type, value}]>", node_approver_user_id_list?, uuid?}`` ->
  ``{data: {instance_code}}``; ``uuid`` is an idempotency key (same body: same instance; other body:
  code 1390013); at most ``create_limit_per_minute`` (100) creates a minute, then HTTP 429 code 99991400
- ``GET /open-apis/approval/v4/instances/{instance_code}`` -> ``{data}`` (see `simulators.feishu_render`)
- ``GET /open-apis/approval/v4/instances?approval_code=&start_time=&end_time=&page_size=&page_token=`` ->
  ``{data: {instance_code_list, page_token, has_more}}``, ``page_size`` at most 100, times in ms
- ``POST /open-apis/approval/v4/instances/cancel`` ``{approval_code, instance_code, user_id}``

Errors: HTTP 400 with 99991661 (token missing), 99991663 (token invalid or expired), 1390001 (bad param),
1390002 (unknown approval_code), 1390003 (unknown instance); faults answer 99991400 (429) or 99991500 (5xx).
Callbacks and controls: `simulators.feishu_sim`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators import feishu_sim
from simulators.approvals import ApprovalBook, FormField, seed_instances
from simulators.delivery import Deliverer
from simulators.faults import FaultConfig, FaultMiddleware, Faults, fault_routes
from simulators.feishu_render import render_instance
from simulators.idempotency import IdempotencyConflict, IdempotencyStore
from simulators.oa_common import BadRequest, id_factory, read_json
from simulators.paging import clamp_page_size, decode_cursor, encode_cursor
from simulators.seed import Sizes, World, build_world
from simulators.timefmt import parse_epoch
from simulators.tokens import TokenIssuer

__all__ = ["FeishuConfig", "FeishuSimulator", "create_feishu_app"]

DRIFT = {"start_time": "start_at", "user_id": "userid", "task_list": "tasks"}


@dataclass
class FeishuConfig:
    """App credentials, the approval definition, the event subscription and the create limit."""

    app_id: str = "cli_simfeishu00001"
    app_secret: str = "sim-feishu-app-secret"  # noqa: S105 (a simulator default)
    approval_code: str = "7C468A54-8745-4D64-A3D5-5B8F2F9F4E01"
    approval_name: str = "二面审批"
    callback_url: str | None = None
    verification_token: str = "sim-feishu-verification-token"  # noqa: S105 (a simulator default)
    encrypt_key: str = "sim-feishu-encrypt-key"
    encrypt_body: bool = False  # send {"encrypt": ...} rather than the plain event
    tenant_key: str = "sim_tenant_key"
    create_limit_per_minute: int = 100
    seed_instances: int = 0


class FeishuError(Exception):
    """A ``{code, msg}`` answer."""

    def __init__(self, code: int, msg: str, status: int = 400, headers: dict[str, str] | None = None) -> None:
        super().__init__(msg)
        self.code, self.msg, self.status, self.headers = code, msg, status, headers


def envelope(data: Any = None, *, code: int = 0, msg: str = "success", status: int = 200, **extra: Any) -> JSONResponse:
    """``{code, msg, data}``."""
    body: dict[str, Any] = {"code": code, "msg": msg}
    if data is not None:
        body["data"] = data
    return JSONResponse({**body, **extra}, status)


def _render_fault(kind: str, status: int, retry_after: int | None) -> Response:
    if kind == "rate_limited":
        return envelope(code=99991400, msg="request trigger frequency limit", status=status)
    return envelope(code=99991500, msg="internal error, please retry", status=status)


class FeishuSimulator:
    """State: tokens, the approval book, uuid idempotency, the create limiter, the callback deliverer."""

    def __init__(
        self, world: World, config: FeishuConfig, faults: Faults, deliverer: Deliverer, clock: Callable[[], float]
    ) -> None:
        self.world, self.config, self.faults, self.deliverer, self.clock = world, config, faults, deliverer, clock
        self.tokens = TokenIssuer("t-sim", clock=clock)
        self.book = ApprovalBook(id_factory(f"{world.seed}:feishu", "UUID"), clock=clock)
        self.open_ids = {u.feishu_user_id: u.feishu_open_id for u in world.users}
        self.by_open_id = {open_id: user for user, open_id in self.open_ids.items()}
        self.default_approver = next(u.feishu_user_id for u in world.users if u.role == "HIRING_MANAGER")
        self.uuids = IdempotencyStore()
        self._window, self._creates = -1, 0
        seed_instances(
            self.book,
            world,
            config.seed_instances,
            definition=config.approval_code,
            user_id=lambda u: u.feishu_user_id,
            title=lambda name: f"{name}的二面审批",
        )

    def count_create(self) -> None:
        """Enforce the per-minute create limit; raises FeishuError 429 past it."""
        now = self.clock()
        window = int(now // 60)
        if window != self._window:
            self._window, self._creates = window, 0
        self._creates += 1
        if self._creates > self.config.create_limit_per_minute:
            reset = str(max(1, int((window + 1) * 60 - now)))
            raise FeishuError(
                99991400,
                "request trigger frequency limit",
                429,
                {
                    "x-ogw-ratelimit-limit": str(self.config.create_limit_per_minute),
                    "x-ogw-ratelimit-reset": reset,
                    "Retry-After": reset,
                },
            )

    def render(self, instance_code: str) -> dict[str, Any]:
        instance = self.book.get(instance_code)
        if instance is None:
            raise FeishuError(1390003, "instance code not found")
        return render_instance(instance, self.open_ids, self.config.approval_name)


def _api(handler: Callable[[FeishuSimulator, Request], Any], *, auth: bool = True) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        sim: FeishuSimulator = request.app.state.sim
        header = request.headers.get("authorization", "")
        if auth:
            problem = sim.tokens.check(header.removeprefix("Bearer ") if header.startswith("Bearer ") else None)
            if problem == "missing":
                return envelope(code=99991661, msg="Missing access token for authorization.", status=400)
            if problem:
                return envelope(code=99991663, msg="Invalid access token for authorization.", status=400)
        try:
            return await handler(sim, request)  # type: ignore[no-any-return]
        except BadRequest as exc:
            return envelope(code=1390001, msg=f"param is invalid: {exc}", status=400)
        except FeishuError as exc:
            response = envelope(code=exc.code, msg=exc.msg, status=exc.status)
            response.headers.update(exc.headers or {})
            return response

    return endpoint


async def _token(sim: FeishuSimulator, request: Request) -> Response:
    body = await read_json(request)
    if body.get("app_id") != sim.config.app_id or body.get("app_secret") != sim.config.app_secret:
        return envelope(code=10014, msg="app secret invalid", status=400)
    token, ttl = sim.tokens.issue()
    return envelope(msg="ok", tenant_access_token=token, expire=ttl)


def _form(raw: Any) -> list[FormField]:
    if not isinstance(raw, str):
        raise BadRequest("form must be a JSON string")
    try:
        widgets = json.loads(raw)
    except ValueError:
        raise BadRequest("form is not valid JSON") from None
    if not isinstance(widgets, list) or not all(isinstance(w, dict) and w.get("id") and "value" in w for w in widgets):
        raise BadRequest("form must be a JSON array of {id, type, value}")
    return [
        FormField(
            str(w["id"]),
            str(w.get("name", w["id"])),
            w["value"] if isinstance(w["value"], str) else json.dumps(w["value"], ensure_ascii=False),
            str(w.get("type", "input")),
        )
        for w in widgets
    ]


async def _create(sim: FeishuSimulator, request: Request) -> Response:
    sim.count_create()
    raw = await request.body()
    body = await read_json(request)
    if body.get("approval_code") != sim.config.approval_code:
        raise FeishuError(1390002, "approval code not found")
    key = body.get("uuid") if isinstance(body.get("uuid"), str) else None
    try:
        stored = sim.uuids.lookup("create", key, raw)
    except IdempotencyConflict:
        raise FeishuError(1390013, "uuid conflict: the uuid was used with different parameters") from None
    if stored is not None:
        return envelope(stored.payload)
    originator = body.get("user_id") or sim.by_open_id.get(body.get("open_id") or "")
    if originator not in sim.open_ids:
        raise BadRequest("user_id or open_id names no user")
    form = _form(body.get("form"))
    approvers = [u for node in body.get("node_approver_user_id_list") or [] for u in node.get("value", [])]
    approvers += [
        sim.by_open_id.get(o, o) for node in body.get("node_approver_open_id_list") or [] for o in node.get("value", [])
    ]
    if any(user not in sim.open_ids for user in approvers):
        raise BadRequest("node approver names no user")
    instance = sim.book.create(
        definition=sim.config.approval_code,
        title=sim.config.approval_name,
        originator=originator,
        department=str(body.get("department_id") or "od-sim-root"),
        form=form,
        approvers=approvers or [sim.default_approver],
    )
    instance.extra["uuid"] = key or ""
    data = {"instance_code": instance.instance_id}
    sim.uuids.remember("create", key, raw, 200, data)
    response = envelope(data)
    response.background = BackgroundTask(feishu_sim.notify, sim, instance)
    return response


async def _get(sim: FeishuSimulator, request: Request) -> Response:
    code = request.path_params["instance_code"]
    data = sim.faults.damage(sim.render(code), key=code, required=("status", "start_time", "form", "instance_code"))
    return envelope(data)


async def _list(sim: FeishuSimulator, request: Request) -> Response:
    params = request.query_params
    if params.get("approval_code") != sim.config.approval_code:
        raise FeishuError(1390002, "approval code not found")
    try:
        start = parse_epoch(params["start_time"], millis=True)
        end = parse_epoch(params["end_time"], millis=True)
        size = clamp_page_size(params.get("page_size"), default=100, maximum=100)
        offset = int(decode_cursor(params["page_token"])["o"]) if params.get("page_token") else 0
    except (KeyError, ValueError):
        raise BadRequest("start_time and end_time (epoch ms), page_size and page_token") from None
    found = sim.book.query(definition=sim.config.approval_code, start=start, end=end)
    more = offset + size < len(found)
    data = {
        "instance_code_list": [i.instance_id for i in found[offset : offset + size]],
        "has_more": more,
        "page_token": encode_cursor({"o": offset + size}) if more else "",
    }
    return envelope(data)


async def _cancel(sim: FeishuSimulator, request: Request) -> Response:
    body = await read_json(request)
    instance = sim.book.get(str(body.get("instance_code", "")))
    if instance is None:
        raise FeishuError(1390003, "instance code not found")
    if body.get("user_id") != instance.originator or instance.status != "PENDING":
        raise BadRequest("only the originator can cancel a pending instance")
    sim.book.act(instance, "cancel", instance.originator)
    response = envelope({})
    response.background = BackgroundTask(feishu_sim.notify, sim, instance)
    return response


def create_feishu_app(
    world: World | None = None,
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    config: FeishuConfig | None = None,
    faults: FaultConfig | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the Feishu simulator; ``transport`` routes callbacks in-process (tests)."""
    fault_state = Faults(faults, clock=clock, default_drift=DRIFT)
    deliverer = Deliverer(transport=transport, clock=clock)
    world = world or build_world(seed, sizes or Sizes(candidates=40, jobs=4))
    sim = FeishuSimulator(world, config or FeishuConfig(), fault_state, deliverer, clock)
    base = "/open-apis/approval/v4/instances"
    routes = [
        *fault_routes(fault_state),
        *deliverer.routes(),
        *feishu_sim.routes(),
        Route("/open-apis/auth/v3/tenant_access_token/internal", _api(_token, auth=False), methods=["POST"]),
        Route(base, _api(_create), methods=["POST"]),
        Route(base, _api(_list), methods=["GET"]),
        Route(f"{base}/cancel", _api(_cancel), methods=["POST"]),
        Route(base + "/{instance_code}", _api(_get), methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=fault_state, render=_render_fault)])
    app.state.sim = sim
    return app
