"""Simulated WeCom (企业微信) approvals: snake_case JSON, epoch seconds, ``errcode`` envelopes, XML callbacks.

API routes (all but ``gettoken`` need ``?access_token=``; every answer is HTTP 200 with ``errcode``/``errmsg``,
as WeCom does, except injected 5xx faults):

- ``GET /cgi-bin/gettoken?corpid=&corpsecret=`` -> ``{access_token, expires_in}`` (40013 bad corpid,
  40001 bad secret)
- ``POST /cgi-bin/oa/applyevent`` ``{creator_userid, template_id, use_template_approver, process:{node_list:
  [{type: 1, apv_rel: 1|2, userid: [...]}]}, apply_data:{contents:[{control, id, value}]}, summary_list}``
  -> ``{sp_no}``
- ``POST /cgi-bin/oa/getapprovaldetail`` ``{sp_no}`` -> ``{info}`` (see `simulators.wecom_render`)
- ``POST /cgi-bin/oa/getapprovalinfo`` ``{starttime, endtime, new_cursor, size (<= 100), filters}`` ->
  ``{sp_no_list, new_next_cursor}`` (``""`` on the last page); the window may span at most 31 days

Error codes: 41001 token missing, 40014 invalid token, 42001 token expired, 45009 rate limited (HTTP 200 with
``Retry-After``), 60111 unknown userid, 40058 invalid parameter, 301025 unknown sp_no, -1 system busy.
Callbacks and controls: `simulators.wecom_sim`.
"""

from __future__ import annotations

import json
import time
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

from simulators import wecom_sim
from simulators.approvals import ApprovalBook, FormField, seed_instances
from simulators.delivery import Deliverer
from simulators.faults import FaultConfig, FaultMiddleware, Faults, fault_routes
from simulators.oa_common import BadRequest, id_factory, read_json
from simulators.paging import decode_cursor, encode_cursor
from simulators.seed import Sizes, World, build_world
from simulators.timefmt import parse_epoch
from simulators.tokens import TokenIssuer
from simulators.wecom_render import SP_STATUS, control_value, render_info

__all__ = ["INTERVIEW_TEMPLATE", "WeComConfig", "WeComSimulator", "create_wecom_app"]

INTERVIEW_TEMPLATE = "3WLJF6naF5jhnXvwisuPmE85wVMYcy2F4"
DRIFT = {"sp_status": "status", "apply_time": "applytime", "applyer": "applicant"}
_MAX_WINDOW = 31 * 86400


@dataclass
class WeComConfig:
    """Corp credentials, the approval app's callback settings and the known templates."""

    corp_id: str = "wwsimcorp00000001"
    corp_secret: str = "sim-wecom-approval-secret"  # noqa: S105 (a simulator default)
    agent_id: str = "3010040"
    callback_url: str | None = None
    callback_token: str = "sim-wecom-callback-token"  # noqa: S105 (a simulator default)
    callback_aes_key: str = "c2ltLXdlY29tLWFlcy1rZXktaXMtMzItYnl0ZXMhISE"
    templates: dict[str, dict[str, str]] = field(
        default_factory=lambda: {
            INTERVIEW_TEMPLATE: {
                "_name": "二面审批",
                "Text-1511": "候选人",
                "Text-1512": "应聘岗位",
                "Text-1513": "面试轮次",
                "Number-1514": "AI面试评分",
                "Textarea-1515": "AI面试报告",
            }
        }
    )
    seed_instances: int = 0


class WeComError(Exception):
    """An ``errcode`` answer."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


def answer(
    errcode: int = 0, errmsg: str = "ok", status: int = 200, background: BackgroundTask | None = None, **data: Any
) -> JSONResponse:
    """WeCom's envelope; error messages carry the hint and link WeCom appends."""
    if errcode:
        link = f"https://open.work.weixin.qq.com/devtool/query?e={errcode}"
        errmsg = f"{errmsg}, hint: [{int(time.time())}-sim], more info at {link}"
    return JSONResponse({"errcode": errcode, "errmsg": errmsg, **data}, status, background=background)


def _render_fault(kind: str, status: int, retry_after: int | None) -> Response:
    if kind == "rate_limited":
        return answer(45009, "api freq out of limit")  # WeCom throttles with HTTP 200
    return answer(-1, "system busy", status=status)


class WeComSimulator:
    """State: tokens, the approval book, the callback deliverer."""

    def __init__(
        self, world: World, config: WeComConfig, faults: Faults, deliverer: Deliverer, clock: Callable[[], float]
    ) -> None:
        self.world, self.config, self.faults, self.deliverer, self.clock = world, config, faults, deliverer, clock
        self.tokens = TokenIssuer("sim-wecom-", clock=clock)
        self.book = ApprovalBook(id_factory(f"{world.seed}:wecom", "digits"), clock=clock)
        self.users = {u.wecom_id for u in world.users}
        self.default_approver = next(u.wecom_id for u in world.users if u.role == "HIRING_MANAGER")
        seed_instances(
            self.book,
            world,
            config.seed_instances,
            definition=INTERVIEW_TEMPLATE,
            user_id=lambda u: u.wecom_id,
            title=lambda name: f"{name}的二面审批",
        )
        for instance in self.book.instances.values():
            instance.extra["sp_name"] = "二面审批"

    def titles(self, template_id: str) -> dict[str, str]:
        return self.config.templates.get(template_id, {})


def _api(handler: Callable[[WeComSimulator, Request], Any], *, auth: bool = True) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        sim: WeComSimulator = request.app.state.sim
        if auth:
            problem = sim.tokens.check(request.query_params.get("access_token"))
            if problem:
                code, message = {
                    "missing": (41001, "access_token missing"),
                    "invalid": (40014, "invalid access_token"),
                    "expired": (42001, "access_token expired"),
                }[problem]
                return answer(code, message)
        try:
            return await handler(sim, request)  # type: ignore[no-any-return]
        except BadRequest as exc:
            return answer(40058, f"invalid Request Parameter: {exc}")
        except WeComError as exc:
            return answer(exc.errcode, exc.errmsg)

    return endpoint


async def _gettoken(sim: WeComSimulator, request: Request) -> Response:
    if request.query_params.get("corpid") != sim.config.corp_id:
        return answer(40013, "invalid corpid")
    if request.query_params.get("corpsecret") != sim.config.corp_secret:
        return answer(40001, "invalid credential")
    token, ttl = sim.tokens.issue()
    return answer(access_token=token, expires_in=ttl)


def _approvers(sim: WeComSimulator, body: dict[str, Any]) -> tuple[list[str], str]:
    if body.get("use_template_approver") == 1:
        return [sim.default_approver], "OR"
    nodes = [n for n in (body.get("process") or {}).get("node_list", []) if isinstance(n, dict) and n.get("type") == 1]
    users = [user for node in nodes for user in node.get("userid", [])]
    if not users:
        raise BadRequest("process.node_list needs an approver node when use_template_approver is 0")
    return users, "AND" if any(node.get("apv_rel") == 2 for node in nodes) else "OR"


async def _applyevent(sim: WeComSimulator, request: Request) -> Response:
    body = await read_json(request)
    creator, template = body.get("creator_userid"), body.get("template_id")
    if not isinstance(template, str) or template not in sim.config.templates:
        raise BadRequest("template_id")
    approvers, mode = _approvers(sim, body)
    unknown = [user for user in [creator, *approvers] if user not in sim.users]
    if unknown:
        raise WeComError(60111, f"invalid string value `{unknown[0]}`")
    contents = (body.get("apply_data") or {}).get("contents")
    if not isinstance(contents, list) or not contents:
        raise BadRequest("apply_data.contents")
    titles = sim.titles(template)
    form = []
    for content in contents:
        if not isinstance(content, dict) or not content.get("control") or not isinstance(content.get("value"), dict):
            raise BadRequest("apply_data.contents[].control/value")
        control_id = str(content.get("id", ""))
        form.append(
            FormField(
                control_id,
                titles.get(control_id, control_id),
                control_value(content),
                content["control"],
                json.dumps(content["value"], ensure_ascii=False),
            )
        )
    instance = sim.book.create(
        definition=template,
        title=titles.get("_name", "审批"),
        originator=str(creator),
        department=str(body.get("choose_department") or "1"),
        form=form,
        approvers=approvers,
        mode=mode,
    )
    instance.extra["sp_name"] = titles.get("_name", "审批")
    instance.extra["notifyer"] = list(body.get("notifyer") or [])
    return answer(sp_no=instance.instance_id, background=BackgroundTask(wecom_sim.notify, sim, instance, 1))


async def _detail(sim: WeComSimulator, request: Request) -> Response:
    body = await read_json(request)
    instance = sim.book.get(str(body.get("sp_no", "")))
    if instance is None:
        raise WeComError(301025, "sp_no not exist")
    info = sim.faults.damage(
        render_info(instance, sim.titles(instance.definition)),
        key=instance.instance_id,
        required=("sp_no", "sp_status", "apply_time", "applyer"),
    )
    return answer(info=info)


async def _list(sim: WeComSimulator, request: Request) -> Response:
    body = await read_json(request)
    try:
        start = parse_epoch(body["starttime"], millis=False)
        end = parse_epoch(body["endtime"], millis=False)
        size = int(body.get("size") or 100)
        offset = int(decode_cursor(body["new_cursor"])["o"]) if body.get("new_cursor") else 0
    except (KeyError, TypeError, ValueError):
        raise BadRequest("starttime, endtime (epoch seconds) and new_cursor") from None
    if not 0 < end - start <= _MAX_WINDOW:
        raise BadRequest("the time window must be positive and at most 31 days")
    if not 1 <= size <= 100:
        raise BadRequest("size must be 1 to 100")
    filters = {f.get("key"): str(f.get("value")) for f in body.get("filters") or [] if isinstance(f, dict)}
    found = [
        i
        for i in sim.book.query(start=start, end=end + 1)
        if filters.get("template_id", i.definition) == i.definition
        and filters.get("creator", i.originator) == i.originator
        and filters.get("sp_status", str(SP_STATUS[i.status])) == str(SP_STATUS[i.status])
    ]
    page = found[offset : offset + size]
    more = offset + size < len(found)
    return answer(
        sp_no_list=[i.instance_id for i in page], new_next_cursor=encode_cursor({"o": offset + size}) if more else ""
    )


def create_wecom_app(
    world: World | None = None,
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    config: WeComConfig | None = None,
    faults: FaultConfig | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the WeCom simulator; ``transport`` routes callbacks in-process (tests)."""
    fault_state = Faults(faults, clock=clock, default_drift=DRIFT)
    deliverer = Deliverer(transport=transport, clock=clock)
    world = world or build_world(seed, sizes or Sizes(candidates=40, jobs=4))
    sim = WeComSimulator(world, config or WeComConfig(), fault_state, deliverer, clock)
    routes = [
        *fault_routes(fault_state),
        *deliverer.routes(),
        *wecom_sim.routes(),
        Route("/cgi-bin/gettoken", _api(_gettoken, auth=False), methods=["GET"]),
        Route("/cgi-bin/oa/applyevent", _api(_applyevent), methods=["POST"]),
        Route("/cgi-bin/oa/getapprovaldetail", _api(_detail), methods=["POST"]),
        Route("/cgi-bin/oa/getapprovalinfo", _api(_list), methods=["POST"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=fault_state, render=_render_fault)])
    app.state.sim = sim
    return app
