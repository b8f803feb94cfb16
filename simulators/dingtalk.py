"""Simulated DingTalk approvals (workflow v1.0): camelCase, UTC ISO times to the minute, encrypted callbacks.

API routes (all but the token need header ``x-acs-dingtalk-access-token``):

- ``POST /v1.0/oauth2/accessToken`` ``{appKey, appSecret}`` -> ``{accessToken, expireIn}``
- ``POST /v1.0/workflow/processInstances`` ``{originatorUserId, processCode, deptId, approvers?,
  formComponentValues}`` -> ``{instanceId}``; as in practice, a missing ``deptId`` is refused
- ``GET /v1.0/workflow/processInstances?processInstanceId=`` -> ``{success, result}`` with ``tasks`` and
  ``operationRecords``
- ``POST /v1.0/workflow/processes/instanceIds/query`` ``{processCode, startTime, endTime?, nextToken?,
  maxResults (<= 20), statuses?}`` -> ``{success, result: {list, nextToken?}}``
- ``POST /v1.0/workflow/processInstances/execute`` ``{processInstanceId, result: agree|refuse,
  actionerUserId, taskId?, remark?}`` and ``POST /v1.0/workflow/processInstances/terminate``
  ``{processInstanceId, operatingUserId?, remark?}`` -> ``{success, result: true}``

Errors answer ``{code, message, requestid}`` with HTTP 400 (bad input), 401 (token) or 429 (throttled).
Every status change (``start``, ``finish`` with ``agree``/``refuse``, ``terminate``) POSTs the
``bpms_instance_change`` event to the callback URL, encrypted (`simulators.signing.MsgCrypt`, receive id =
``owner_key``, the appKey by default) as ``{"encrypt"}`` with ``signature``, ``timestamp`` (ms) and ``nonce``
query parameters; the receiver must answer ``{msg_signature, timeStamp, nonce, encrypt}`` whose ciphertext
decrypts to ``success``, which the simulator checks and logs (`simulators.dingtalk_sim` has the controls).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators import dingtalk_sim
from simulators.approvals import ApprovalBook, FormField, Instance, TransitionError, seed_instances
from simulators.delivery import Deliverer
from simulators.dingtalk_render import render_instance
from simulators.faults import FaultConfig, FaultMiddleware, Faults, fault_routes
from simulators.oa_common import BadRequest, id_factory, read_json, require_str
from simulators.seed import Sizes, World, build_world
from simulators.tokens import TokenIssuer

__all__ = ["DingTalkConfig", "DingTalkSimulator", "create_dingtalk_app"]

DRIFT = {"formComponentValues": "formValues", "originatorUserId": "originatorUserid", "createTime": "gmtCreate"}


@dataclass
class DingTalkConfig:
    """App credentials and the event subscription (callback) settings."""

    app_key: str = "dingsimappkey0001"
    app_secret: str = "sim-dingtalk-app-secret"  # noqa: S105 (a simulator default)
    corp_id: str = "dingcorpsim0001"
    callback_url: str | None = None
    callback_token: str = "sim-dingtalk-callback-token"  # noqa: S105 (a simulator default)
    callback_aes_key: str = "c2ltLWRpbmd0YWxrLWFlcy1rZXktMzItYnl0ZXMhISE"
    owner_key: str | None = None  # the crypt's receive id; the appKey when None
    process_names: dict[str, str] = field(default_factory=lambda: {"PROC-SIM-INTERVIEW-2ND": "二面审批"})
    seed_instances: int = 0


def error(status: int, code: str, message: str) -> JSONResponse:
    """DingTalk's error body."""
    return JSONResponse({"code": code, "message": message, "requestid": uuid.uuid4().hex.upper()[:32]}, status)


def _render_fault(kind: str, status: int, retry_after: int | None) -> Response:
    if kind == "rate_limited":
        return error(status, "Forbidden.AccessDenied.QpsLimitForApi", "调用接口频率超过限制，请稍后重试")
    return error(status, "ServiceUnavailable", "系统繁忙，请稍后重试")


class DingTalkSimulator:
    """State: tokens, the approval book, the callback deliverer."""

    def __init__(
        self, world: World, config: DingTalkConfig, faults: Faults, deliverer: Deliverer, clock: Callable[[], float]
    ) -> None:
        self.world, self.config, self.faults, self.deliverer, self.clock = world, config, faults, deliverer, clock
        self.tokens = TokenIssuer("sim-ding-", clock=clock)
        self.book = ApprovalBook(id_factory(f"{world.seed}:dingtalk", "uuid"), clock=clock)
        self.users = {u.dingtalk_id: u.last_name + u.first_name for u in world.users}
        self.default_approver = next(u.dingtalk_id for u in world.users if u.role == "HIRING_MANAGER")
        seed_instances(
            self.book,
            world,
            config.seed_instances,
            definition="PROC-SIM-INTERVIEW-2ND",
            user_id=lambda u: u.dingtalk_id,
            title=lambda name: f"{name}的二面审批",
        )

    def instance_or_error(self, instance_id: Any) -> Instance:
        instance = self.book.get(instance_id) if isinstance(instance_id, str) else None
        if instance is None:
            raise BadRequest("processInstanceId: 审批实例不存在")
        return instance


def _sim(request: Request) -> DingTalkSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


def _api(handler: Callable[[DingTalkSimulator, Request], Any], *, auth: bool = True) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        sim = _sim(request)
        if auth:
            problem = sim.tokens.check(request.headers.get("x-acs-dingtalk-access-token"))
            if problem:
                return error(
                    401,
                    "InvalidAuthentication",
                    "不合法的access_token" if problem != "expired" else "access_token已过期",
                )
        try:
            return await handler(sim, request)  # type: ignore[no-any-return]
        except (BadRequest, TransitionError) as exc:
            return error(400, "InvalidParameter", str(exc))

    return endpoint


async def _token(sim: DingTalkSimulator, request: Request) -> Response:
    body = await read_json(request)
    if body.get("appKey") != sim.config.app_key or body.get("appSecret") != sim.config.app_secret:
        return error(400, "invalidClientIdOrSecret", "无效的clientId或者clientSecret")
    token, ttl = sim.tokens.issue()
    return JSONResponse({"accessToken": token, "expireIn": ttl})


async def _create(sim: DingTalkSimulator, request: Request) -> Response:
    body = await read_json(request)
    originator, code = require_str(body, "originatorUserId"), require_str(body, "processCode")
    if body.get("deptId") in (None, ""):
        raise BadRequest("deptId: 发起人在多个部门中，必须指定deptId")
    values = body.get("formComponentValues")
    if (
        not isinstance(values, list)
        or not values
        or not all(
            isinstance(v, dict) and isinstance(v.get("name"), str) and isinstance(v.get("value"), str) for v in values
        )
    ):
        raise BadRequest("formComponentValues: 必须是包含 name 和 value 的非空列表")
    approvers, mode = [sim.default_approver], "OR"
    if body.get("approvers"):
        groups = body["approvers"]
        approvers = [user for group in groups for user in group.get("userIds", [])]
        mode = "AND" if any(group.get("actionType") == "AND" for group in groups) else "OR"
    unknown = [user for user in [originator, *approvers] if user not in sim.users]
    if unknown or not approvers:
        raise BadRequest(f"userId 不存在: {', '.join(unknown) or 'approvers'}")
    form = [
        FormField(
            v.get("id") or f"TextField-{n}",
            v["name"],
            v["value"],
            v.get("componentType") or "TextField",
            v.get("extValue"),
        )
        for n, v in enumerate(values)
    ]
    title = f"{sim.users[originator]}提交的{sim.config.process_names.get(code, '审批')}"
    instance = sim.book.create(
        definition=code,
        title=body.get("title") or title,
        originator=originator,
        department=str(body["deptId"]),
        form=form,
        approvers=approvers,
        mode=mode,
    )
    return JSONResponse(
        {"instanceId": instance.instance_id}, background=BackgroundTask(dingtalk_sim.notify, sim, instance, "start")
    )


async def _get(sim: DingTalkSimulator, request: Request) -> Response:
    instance = sim.instance_or_error(request.query_params.get("processInstanceId"))
    rendered = sim.faults.damage(
        render_instance(instance, sim.config.corp_id),
        key=instance.instance_id,
        required=("status", "createTime", "formComponentValues", "originatorUserId"),
    )
    return JSONResponse({"success": True, "result": rendered})


async def _query(sim: DingTalkSimulator, request: Request) -> Response:
    body = await read_json(request)
    code = require_str(body, "processCode")
    try:
        start, end = int(body["startTime"]) / 1000, int(body.get("endTime") or sim.clock() * 1000) / 1000
        offset, size = int(body.get("nextToken") or 0), int(body.get("maxResults") or 20)
    except (KeyError, TypeError, ValueError):
        raise BadRequest("startTime, endTime, nextToken and maxResults are numbers; startTime is required") from None
    if not 1 <= size <= 20:
        raise BadRequest("maxResults 取值范围 1-20")
    wanted = {
        "RUNNING": {"PENDING"},
        "COMPLETED": {"APPROVED", "REJECTED", "PAID"},
        "TERMINATED": {"CANCELED", "EXPIRED", "REVERTED"},
    }
    statuses = set().union(*(wanted.get(s, set()) for s in body["statuses"])) if body.get("statuses") else None
    users = set(body.get("userIds") or [])
    found = [
        i
        for i in sim.book.query(definition=code, start=start, end=end, statuses=statuses)
        if not users or i.originator in users
    ]
    result: dict[str, Any] = {"list": [i.instance_id for i in found[offset : offset + size]]}
    if offset + size < len(found):
        result["nextToken"] = offset + size
    return JSONResponse({"success": True, "result": result})


async def _execute(sim: DingTalkSimulator, request: Request) -> Response:
    body = await read_json(request)
    instance = sim.instance_or_error(body.get("processInstanceId"))
    verdict = body.get("result")
    if verdict not in ("agree", "refuse"):
        raise BadRequest("result 必须是 agree 或 refuse")
    actor = require_str(body, "actionerUserId")
    task = next((t for t in instance.tasks if t.task_id == str(body.get("taskId"))), None)
    if body.get("taskId") is not None and (task is None or task.user_id != actor):
        raise BadRequest("taskId 与 actionerUserId 不匹配")
    sim.book.act(instance, verdict, actor, body.get("remark") or "")
    event = "finish" if instance.status != "PENDING" else None
    task_bg = BackgroundTask(dingtalk_sim.notify, sim, instance, event) if event else None
    return JSONResponse({"success": True, "result": True}, background=task_bg)


async def _terminate(sim: DingTalkSimulator, request: Request) -> Response:
    body = await read_json(request)
    instance = sim.instance_or_error(body.get("processInstanceId"))
    sim.book.act(instance, "cancel", body.get("operatingUserId"), body.get("remark") or "")
    return JSONResponse(
        {"success": True, "result": True}, background=BackgroundTask(dingtalk_sim.notify, sim, instance, "terminate")
    )


def create_dingtalk_app(
    world: World | None = None,
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    config: DingTalkConfig | None = None,
    faults: FaultConfig | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the DingTalk simulator; ``transport`` routes callbacks in-process (tests)."""
    fault_state = Faults(faults, clock=clock, default_drift=DRIFT)
    deliverer = Deliverer(transport=transport, clock=clock)
    world = world or build_world(seed, sizes or Sizes(candidates=40, jobs=4))
    sim = DingTalkSimulator(world, config or DingTalkConfig(), fault_state, deliverer, clock)
    routes = [
        *fault_routes(fault_state),
        *deliverer.routes(),
        *dingtalk_sim.routes(),
        Route("/v1.0/oauth2/accessToken", _api(_token, auth=False), methods=["POST"]),
        Route("/v1.0/workflow/processInstances", _api(_create), methods=["POST"]),
        Route("/v1.0/workflow/processInstances", _api(_get), methods=["GET"]),
        Route("/v1.0/workflow/processes/instanceIds/query", _api(_query), methods=["POST"]),
        Route("/v1.0/workflow/processInstances/execute", _api(_execute), methods=["POST"]),
        Route("/v1.0/workflow/processInstances/terminate", _api(_terminate), methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=fault_state, render=_render_fault)])
    app.state.sim = sim
    return app
