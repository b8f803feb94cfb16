"""Simulator-only controls of the HR system (no auth, under ``/_sim``): change upstream data as a recruiter
would in the ATS's own UI, so syncs and webhooks have something to pick up.

- ``GET``/``POST /_sim/webhook`` ``{"url", "secret", "duplicate_rate"}``: where change events go.
- ``POST /_sim/candidates`` ``{first_name, last_name, email?, phone?, company?, title?, tags?,
  resume_text?, job_id?}``: a new candidate (with a resume attachment and an application at the job's first
  stage when given); sends ``candidate.created``.
- ``PATCH /_sim/{model}/{id}`` with fields to set: an upstream edit (``current_stage`` on an application
  also updates the Chinese ``stageName``); sends ``{model}.changed``.
- ``DELETE /_sim/{model}/{id}``: an upstream deletion, flagged ``remote_was_deleted``; sends ``{model}.deleted``.
- ``GET /_sim/state``: record counts per model.

Mutations answer the record and the webhook deliveries they caused.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from simulators.hr import HRSimulator

__all__ = ["routes"]

_SINGULAR = {
    "candidates": "candidate",
    "jobs": "job",
    "applications": "application",
    "attachments": "attachment",
    "job-interview-stages": "job_interview_stage",
    "interviews": "interview",
    "users": "user",
    "departments": "department",
    "offices": "office",
}
_FIXED = {"id", "remote_id", "created_at", "modified_at", "remote_was_deleted"}


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


def _answer(record: dict[str, Any], deliveries: list[Any]) -> JSONResponse:
    return JSONResponse({"record": record, "deliveries": [asdict(d) for d in deliveries]})


async def _webhook(request: Request) -> Response:
    sim: HRSimulator = request.app.state.sim
    if request.method == "POST":
        body = await _json(request)
        sim.config.webhook_url = body.get("url", sim.config.webhook_url)
        sim.config.webhook_secret = body.get("secret", sim.config.webhook_secret)
        sim.config.duplicate_rate = float(body.get("duplicate_rate", sim.config.duplicate_rate))
    return JSONResponse(
        {
            "url": sim.config.webhook_url,
            "secret": sim.config.webhook_secret,
            "duplicate_rate": sim.config.duplicate_rate,
        }
    )


async def _new_candidate(request: Request) -> Response:
    sim: HRSimulator = request.app.state.sim
    body, now = await _json(request), sim.clock()
    if not body.get("first_name") or not body.get("last_name"):
        return JSONResponse({"error": "first_name and last_name are required"}, 400)
    job = sim.tables["jobs"].get(body.get("job_id") or "")
    candidates = sim.tables["candidates"]
    cid, remote_id = str(uuid.uuid4()), str(21000 + len(candidates))
    record: dict[str, Any] = {
        "id": cid,
        "remote_id": remote_id,
        "first_name": body["first_name"],
        "last_name": body["last_name"],
        "company": body.get("company"),
        "title": body.get("title"),
        "locations": body.get("locations", []),
        "phone_numbers": [{"value": body["phone"], "phone_number_type": "MOBILE"}] if body.get("phone") else [],
        "email_addresses": [{"value": body["email"], "email_address_type": "PERSONAL"}] if body.get("email") else [],
        "urls": [],
        "tags": body.get("tags", []),
        "applications": [],
        "attachments": [],
        "is_private": False,
        "can_email": True,
        "remote_was_deleted": False,
        "custom_fields": body.get("custom_fields", {}),
        "field_mappings": {"organization_defined_targets": {}, "integration_defined_targets": {}},
        "remote_data": [
            {
                "path": f"/candidates/{remote_id}",
                "data": {"name": body["last_name"] + body["first_name"], "stageName": None},
            }
        ],
    }
    if body.get("resume_text"):
        attachment: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "remote_id": str(50000 + len(sim.tables["attachments"])),
            "file_name": f"{body['last_name']}{body['first_name']}_简历.pdf",
            "file_url": None,
            "candidate": cid,
            "attachment_type": "RESUME",
            "remote_was_deleted": False,
            "remote_data": [{"path": "/attachments", "data": {"fileType": "pdf"}}],
        }
        sim.tables["attachments"].add(attachment, created=now, modified=now)
        sim.texts[attachment["id"]] = body["resume_text"]
        record["attachments"].append(attachment["id"])
    if job is not None:
        stages = [row.record for row in sim.tables["job-interview-stages"] if row.record["job"] == job.record["id"]]
        first = min(stages, key=lambda stage: stage["stage_order"])
        application: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "remote_id": str(90000 + len(sim.tables["applications"])),
            "candidate": cid,
            "job": job.record["id"],
            "applied_at": None,
            "rejected_at": None,
            "offers": [],
            "source": body.get("source", "官网 Careers site"),
            "credited_to": None,
            "current_stage": first["id"],
            "reject_reason": None,
            "remote_was_deleted": False,
            "remote_data": [
                {
                    "path": "/applications",
                    "data": {"stageName": first["remote_data"][0]["data"]["stageName"], "mode": job.record["mode"]},
                }
            ],
        }
        sim.tables["applications"].add(application, created=now, modified=now)
        application["applied_at"] = application["created_at"]
        record["applications"].append(application["id"])
    candidates.add(record, created=now, modified=now)
    return _answer(record, await sim.emit("candidate.created", "candidates", dict(record)))


async def _edit(request: Request) -> Response:
    sim: HRSimulator = request.app.state.sim
    path = request.path_params["model"]
    table = sim.tables.get(path)
    row = table.get(request.path_params["id"]) if table is not None else None
    if table is None or row is None:
        return JSONResponse({"error": "not found"}, 404)
    if request.method == "DELETE":
        table.touch(row, sim.clock(), remote_was_deleted=True)
        return _answer(row.record, await sim.emit(f"{_SINGULAR[path]}.deleted", path, dict(row.record)))
    changes = {k: v for k, v in (await _json(request)).items() if k not in _FIXED}
    if path == "applications" and "current_stage" in changes:
        stage = sim.tables["job-interview-stages"].get(changes["current_stage"])
        if stage is None:
            return JSONResponse({"error": "unknown stage"}, 400)
        data = {
            **row.record["remote_data"][0]["data"],
            "stageName": stage.record["remote_data"][0]["data"]["stageName"],
        }
        changes["remote_data"] = [{"path": row.record["remote_data"][0]["path"], "data": data}]
    table.touch(row, sim.clock(), **changes)
    return _answer(row.record, await sim.emit(f"{_SINGULAR[path]}.changed", path, dict(row.record)))


async def _state(request: Request) -> Response:
    sim: HRSimulator = request.app.state.sim
    counts = {
        path: {"total": len(table), "deleted": sum(1 for row in table if row.deleted)}
        for path, table in sim.tables.items()
    }
    return JSONResponse({"counts": counts, "screening_results": sum(len(v) for v in sim.screening.values())})


def routes() -> list[Route]:
    """The ``/_sim`` control routes of the HR simulator."""

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except ValueError as exc:
                return JSONResponse({"error": str(exc)}, 400)

        return endpoint

    return [
        Route("/_sim/webhook", guarded(_webhook), methods=["GET", "POST"]),
        Route("/_sim/candidates", guarded(_new_candidate), methods=["POST"]),
        Route("/_sim/state", _state, methods=["GET"]),
        Route("/_sim/{model}/{id}", guarded(_edit), methods=["PATCH", "DELETE"]),
    ]
