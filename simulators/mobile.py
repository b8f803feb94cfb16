"""Simulated mobile HR app backend: AI interview sessions, invitations and push notifications.

camelCase keys, epoch milliseconds as numbers; errors answer ``{"error": {"code", "message", "field"?}}``.
All routes need ``Authorization: Bearer <api_key>``.

- ``GET /v1/interview-sessions?updatedAfter=<ms>&status=&candidateRemoteId=&limit=(<=100)&cursor=`` ->
  ``{items, nextCursor, hasMore}`` (``updatedAfter`` inclusive)
- ``GET /v1/interview-sessions/{sessionId}``: one session with questions, answers (transcripts) and consent
- ``POST /v1/interview-sessions`` ``{candidate: {remoteId, name?, email?, phone?}, application: {remoteId},
  job: {remoteId, name?}, packageId, expiresAt?, locale?, questions?}`` -> 201 session ``INVITED``
- ``POST /v1/notifications`` ``{to, title, body, deepLink?, data?}`` -> 202 with the delivery record
  (``DELIVERED`` to a known recipient, ``FAILED`` with ``failureReason`` otherwise)
- ``GET /v1/notifications/{notificationId}``: delivery status and ``acknowledgedAt``

Both POSTs honour ``Idempotency-Key`` (same key and body: the first answer again; other body: 422).
Controls and Standard Webhooks: `simulators.mobile_sim`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators import mobile_sim
from simulators.delivery import Deliverer
from simulators.faults import FaultConfig, FaultMiddleware, Faults, fault_routes
from simulators.idempotency import IdempotencyConflict, IdempotencyStore
from simulators.mobile_state import MobileState
from simulators.paging import clamp_page_size, decode_cursor, encode_cursor
from simulators.seed import Sizes, World, build_world, paused_gc
from simulators.timefmt import epoch_ms

__all__ = ["MOBILE_API_KEY", "MobileConfig", "MobileSimulator", "create_mobile_app", "error"]

MOBILE_API_KEY = "sim-mobile-api-key"
DRIFT = {"sessionId": "id", "submittedAt": "submitted_at", "answers": "responses"}
_REQUIRED = ("sessionId", "status", "updatedAt", "candidate", "answers")


@dataclass
class MobileConfig:
    """The API key and the Standard Webhooks endpoint."""

    api_key: str = MOBILE_API_KEY
    webhook_url: str | None = None
    webhook_secret: str = "whsec_c2ltLW1vYmlsZS13ZWJob29rLXNlY3JldC0zMg=="  # noqa: S105 (a simulator default)


def error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """The app's error body."""
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    return JSONResponse({"error": body}, status)


def _render_fault(kind: str, status: int, retry_after: int | None) -> Response:
    if kind == "rate_limited":
        return error(status, "RATE_LIMITED", f"Too many requests; retry in {retry_after} s.")
    return error(status, "UNAVAILABLE", "The service is temporarily unavailable.")


class MobileSimulator:
    """State, idempotency keys, faults and the webhook deliverer."""

    def __init__(
        self, world: World, config: MobileConfig, faults: Faults, deliverer: Deliverer, clock: Callable[[], float]
    ) -> None:
        self.world, self.config, self.faults, self.deliverer, self.clock = world, config, faults, deliverer, clock
        with paused_gc():
            self.state = MobileState(world, clock)
        self.idempotency = IdempotencyStore()

    def render(self, record: dict[str, Any]) -> dict[str, Any]:
        return self.faults.damage(record, key=record["sessionId"], required=_REQUIRED)


def _api(handler: Callable[[MobileSimulator, Request], Any]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        sim: MobileSimulator = request.app.state.sim
        if request.headers.get("authorization") != f"Bearer {sim.config.api_key}":
            return error(401, "UNAUTHENTICATED", "A valid API key is required.")
        return await handler(sim, request)  # type: ignore[no-any-return]

    return endpoint


def _idempotent(scope: str, create: Callable[[MobileSimulator, Any], tuple[int, Any]]) -> Callable[[Request], Any]:
    async def handler(sim: MobileSimulator, request: Request) -> Response:
        raw, key = await request.body(), request.headers.get("idempotency-key")
        try:
            stored = sim.idempotency.lookup(scope, key, raw)
        except IdempotencyConflict:
            return error(422, "IDEMPOTENCY_KEY_REUSED", "The Idempotency-Key was used with another body.")
        if stored is not None:
            return JSONResponse(stored.payload, stored.status, headers={"Idempotent-Replayed": "true"})
        try:
            body = await request.json()
        except ValueError:
            return error(400, "INVALID_JSON", "The body is not valid JSON.")
        status, payload = create(sim, body)
        if status < 400:
            sim.idempotency.remember(scope, key, raw, status, payload)
            return JSONResponse(payload, status)
        return error(status, *payload)

    return _api(handler)


async def _list(sim: MobileSimulator, request: Request) -> Response:
    params = request.query_params
    try:
        size = clamp_page_size(params.get("limit"), default=50, maximum=100)
        after = int(decode_cursor(params["cursor"])["s"]) if params.get("cursor") else -1
        since = int(params["updatedAfter"]) if params.get("updatedAfter") else None
    except (KeyError, ValueError):
        return error(400, "INVALID_ARGUMENT", "limit, cursor or updatedAfter is invalid.")
    status, candidate = params.get("status"), params.get("candidateRemoteId")
    found = []
    for row in sim.state.rows[after + 1 :]:
        r = row.record
        if (
            (since is None or r["updatedAt"] >= since)
            and (status is None or r["status"] == status)
            and (candidate is None or r["candidate"]["remoteId"] == candidate)
        ):
            found.append(row)
            if len(found) > size:
                break
    more = len(found) > size
    found = found[:size]
    return JSONResponse(
        {
            "items": [sim.render(row.record) for row in found],
            "nextCursor": encode_cursor({"s": found[-1].seq}) if more else None,
            "hasMore": more,
        }
    )


async def _get(sim: MobileSimulator, request: Request) -> Response:
    row = sim.state.by_id.get(request.path_params["session_id"])
    if row is None:
        return error(404, "NOT_FOUND", "No such interview session.")
    return JSONResponse(sim.render(row.record))


def _invite(sim: MobileSimulator, body: Any) -> tuple[int, Any]:
    if not isinstance(body, dict):
        return 400, ("VALIDATION_FAILED", "The body must be an object.")
    candidate = body.get("candidate")
    if not isinstance(candidate, dict) or not isinstance(candidate.get("remoteId"), str):
        return 400, ("VALIDATION_FAILED", "candidate.remoteId is required.", "candidate.remoteId")
    if not isinstance(body.get("packageId"), str):
        return 400, ("VALIDATION_FAILED", "packageId is required.", "packageId")
    questions = body.get("questions")
    if questions is not None and not (
        isinstance(questions, list)
        and all(isinstance(q, dict) and isinstance(q.get("question"), str) for q in questions)
    ):
        return 400, ("VALIDATION_FAILED", "questions must be a list of {question}.", "questions")
    locale = body.get("locale") or "zh-CN"
    known, job = sim.state.people.get(candidate["remoteId"], {}), body.get("job") or {}
    now, session_id = sim.clock(), sim.state.new_session_id()
    asked = (
        [{"questionId": q.get("questionId") or f"q{n + 1}", "question": q["question"]} for n, q in enumerate(questions)]
        if questions
        else sim.state.questions_for(candidate["remoteId"], locale.startswith("zh"))
    )
    record = {
        "sessionId": session_id,
        "packageId": body["packageId"],
        "locale": locale,
        "candidate": {k: candidate.get(k, known.get(k)) for k in ("remoteId", "name", "email", "phone")},
        "application": {"remoteId": (body.get("application") or {}).get("remoteId")},
        "job": {
            "remoteId": job.get("remoteId"),
            "name": job.get("name", sim.state.job_names.get(str(job.get("remoteId")))),
        },
        "device": None,
        "consent": {"aiScoring": False, "grantedAt": None},
        "status": "INVITED",
        "invitedAt": epoch_ms(now),
        "startedAt": None,
        "submittedAt": None,
        "expiresAt": int(body.get("expiresAt") or epoch_ms(now + 7 * 86400) or 0),
        "updatedAt": epoch_ms(now),
        "inviteUrl": f"https://m.hr-app.example.com/i/{session_id}",
        "questions": asked,
        "answers": [],
    }
    sim.state.add(record)
    sim.state.recipients.add(candidate["remoteId"])
    return 201, record


def _notify(sim: MobileSimulator, body: Any) -> tuple[int, Any]:
    if not isinstance(body, dict):
        return 400, ("VALIDATION_FAILED", "The body must be an object.")
    for name in ("to", "title", "body"):
        if not isinstance(body.get(name), str) or not body[name]:
            return 400, ("VALIDATION_FAILED", f"{name} is required.", name)
    if body.get("data") is not None and not isinstance(body["data"], dict):
        return 400, ("VALIDATION_FAILED", "data must be an object.", "data")
    now = epoch_ms(sim.clock())
    known = body["to"] in sim.state.recipients
    record = {
        "notificationId": f"ntf_{uuid.uuid4().hex[:20]}",
        "to": body["to"],
        "title": body["title"],
        "body": body["body"],
        "deepLink": body.get("deepLink"),
        "data": body.get("data") or {},
        "status": "DELIVERED" if known else "FAILED",
        "failureReason": None if known else "UNKNOWN_RECIPIENT",
        "createdAt": now,
        "sentAt": now,
        "deliveredAt": now if known else None,
        "acknowledgedAt": None,
    }
    sim.state.notifications[record["notificationId"]] = record
    return 202, record


async def _get_notification(sim: MobileSimulator, request: Request) -> Response:
    record = sim.state.notifications.get(request.path_params["notification_id"])
    if record is None:
        return error(404, "NOT_FOUND", "No such notification.")
    return JSONResponse(record)


def create_mobile_app(
    world: World | None = None,
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    config: MobileConfig | None = None,
    faults: FaultConfig | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the mobile app simulator; ``transport`` routes webhooks in-process (tests)."""
    fault_state = Faults(faults, clock=clock, default_drift=DRIFT)
    deliverer = Deliverer(transport=transport, clock=clock)
    sim = MobileSimulator(world or build_world(seed, sizes), config or MobileConfig(), fault_state, deliverer, clock)
    routes = [
        *fault_routes(fault_state),
        *deliverer.routes(),
        *mobile_sim.routes(),
        Route("/v1/interview-sessions", _api(_list), methods=["GET"]),
        Route("/v1/interview-sessions", _idempotent("invite", _invite), methods=["POST"]),
        Route("/v1/interview-sessions/{session_id}", _api(_get), methods=["GET"]),
        Route("/v1/notifications", _idempotent("notify", _notify), methods=["POST"]),
        Route("/v1/notifications/{notification_id}", _api(_get_notification), methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=fault_state, render=_render_fault)])
    app.state.sim = sim
    return app
