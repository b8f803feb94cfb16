"""Mobile app webhooks (Standard Webhooks) and the simulator-only controls (no auth, under ``/_sim``).

Webhooks POST ``{"type", "timestamp" (ms), "data"}`` with headers ``webhook-id`` (``msg_...``),
``webhook-timestamp`` (seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`` keyed by the ``whsec_`` secret); the receiver must answer 2xx.

- ``POST /_sim/sessions/{id}/start`` ``{"platform"?, "appVersion"?, "consent"?: true}``: the candidate opens
  the invitation (and grants or refuses AI-scoring consent); sends ``session.started``.
- ``POST /_sim/sessions/{id}/submit`` ``{"answers"?: [{questionId, transcript, durationMs}], "consent"?}``:
  the candidate submits (unanswered questions get generated transcripts); sends ``session.submitted``.
- ``POST /_sim/sessions/{id}/status`` ``{"status": "SCORING"|"COMPLETED"|"EXPIRED"|"CANCELED"}``;
  sends ``session.<status>``.
- ``POST /_sim/notifications/{id}/ack``: the device acknowledges; sends ``notification.acknowledged``.
- ``GET``/``POST /_sim/webhook`` ``{"url", "secret"}``.

Each control answers the changed record and the delivery; an impossible transition answers 409.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.delivery import Delivery
from simulators.mobile_state import APP_VERSION, FINAL_STATUSES
from simulators.signing import standard_webhook_signature
from simulators.timefmt import epoch_ms

if TYPE_CHECKING:
    from simulators.mobile import MobileSimulator

__all__ = ["routes", "send_webhook"]

_ALLOWED = {  # target status -> statuses it may come from
    "STARTED": {"INVITED"},
    "SUBMITTED": {"INVITED", "STARTED"},
    "SCORING": {"SUBMITTED"},
    "COMPLETED": {"SUBMITTED", "SCORING"},
    "EXPIRED": {"INVITED", "STARTED"},
    "CANCELED": {"INVITED", "STARTED", "SUBMITTED", "SCORING"},
}


async def send_webhook(sim: MobileSimulator, event: str, data: dict[str, Any]) -> Delivery | None:
    """Sign one event per Standard Webhooks and POST it; None when no webhook URL is configured."""
    if not sim.config.webhook_url:
        return None
    now = sim.clock()
    body = json.dumps(
        {"type": event, "timestamp": epoch_ms(now), "data": data}, ensure_ascii=False, separators=(",", ":")
    ).encode()
    msg_id, stamp = f"msg_{uuid.uuid4().hex}", int(now)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": standard_webhook_signature(sim.config.webhook_secret, msg_id, stamp, body),
    }
    return await sim.deliverer.send(event, sim.config.webhook_url, body=body, headers=headers)


def _sim(request: Request) -> MobileSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


async def _transition(request: Request) -> Response:
    sim, action = _sim(request), request.path_params["action"]
    row = sim.state.by_id.get(request.path_params["id"])
    if row is None or action not in ("start", "submit", "status"):
        return JSONResponse({"error": "unknown session or action"}, 404)
    body, record = await _body(request), row.record
    target = {"start": "STARTED", "submit": "SUBMITTED"}.get(action) or str(body.get("status", ""))
    if target not in _ALLOWED or (action == "status" and target in ("STARTED", "SUBMITTED")):
        return JSONResponse({"error": f"unknown status {target!r}"}, 400)
    if record["status"] not in _ALLOWED[target]:
        return JSONResponse({"error": f"cannot go from {record['status']} to {target}"}, 409)
    now = epoch_ms(sim.clock())
    changes: dict[str, Any] = {"status": target}
    if target in ("STARTED", "SUBMITTED") and record["startedAt"] is None:
        consent = bool(body.get("consent", True))
        changes["startedAt"] = now
        changes["consent"] = {"aiScoring": consent, "grantedAt": now if consent else None}
        changes["device"] = {
            "platform": body.get("platform", "android"),
            "appVersion": body.get("appVersion", APP_VERSION),
        }
    if target == "SUBMITTED":
        if "consent" in body and "consent" not in changes:
            changes["consent"] = {"aiScoring": bool(body["consent"]), "grantedAt": now if body["consent"] else None}
        sim.state.fill_answers(record, list(body.get("answers") or []))
        changes["submittedAt"] = now
    sim.state.touch(record, **changes)
    delivery = await send_webhook(sim, f"session.{target.lower()}", record)
    return JSONResponse({"session": record, "delivery": asdict(delivery) if delivery else None})


async def _ack(request: Request) -> Response:
    sim = _sim(request)
    record = sim.state.notifications.get(request.path_params["id"])
    if record is None:
        return JSONResponse({"error": "unknown notification"}, 404)
    if record["status"] != "DELIVERED":
        return JSONResponse({"error": f"cannot acknowledge a {record['status']} notification"}, 409)
    record.update(status="ACKNOWLEDGED", acknowledgedAt=epoch_ms(sim.clock()))
    delivery = await send_webhook(sim, "notification.acknowledged", record)
    return JSONResponse({"notification": record, "delivery": asdict(delivery) if delivery else None})


async def _webhook(request: Request) -> Response:
    cfg = _sim(request).config
    if request.method == "POST":
        body = await _body(request)
        cfg.webhook_url = body.get("url", cfg.webhook_url)
        cfg.webhook_secret = body.get("secret", cfg.webhook_secret)
    return JSONResponse({"url": cfg.webhook_url, "secret": cfg.webhook_secret})


async def _state(request: Request) -> Response:
    sim = _sim(request)
    counts: dict[str, int] = {}
    for row in sim.state.rows:
        counts[row.record["status"]] = counts.get(row.record["status"], 0) + 1
    return JSONResponse(
        {"sessions": counts, "notifications": len(sim.state.notifications), "final": sorted(FINAL_STATUSES)}
    )


def routes() -> list[Route]:
    """The ``/_sim`` control routes of the mobile simulator."""
    return [
        Route("/_sim/sessions/{id}/{action:str}", _transition, methods=["POST"]),
        Route("/_sim/notifications/{id}/ack", _ack, methods=["POST"]),
        Route("/_sim/webhook", _webhook, methods=["GET", "POST"]),
        Route("/_sim/state", _state, methods=["GET"]),
    ]
