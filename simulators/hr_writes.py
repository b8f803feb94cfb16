"""Writes into the HR system: stage changes, calendar interviews, screening results and notes.

Every write takes an optional ``Idempotency-Key`` header: the same key with the same body answers the first
response again (header ``Idempotent-Replayed: true``) and changes nothing; the same key with another body
answers 422. Write bodies and answers follow the unified-HR-API shape: ``{"model": {...}}`` in,
``{"model", "warnings", "errors", "logs"}`` out; validation failures answer 400 with
``{"errors": [{"title", "detail", "problem_type", "source": {"pointer"}}], "warnings": []}``.

- ``POST /applications/{id}/change-stage`` ``{"job_interview_stage": id, "remote_user_id"?}``: moves the
  application (the stage must belong to its job); ``remote_data`` gets the new Chinese ``stageName``.
- ``POST /interviews`` ``{"model": {application, job_interview_stage?, organizer?, interviewers?, location?,
  start_at, end_at, status?}}``: puts an interview on the calendar (201).
- ``POST /applications/{id}/screening-results`` ``{"model": {score (0-100), passed, reasons[], rank?,
  run_id?}}``: writes a screening outcome into the interview process (201); ``GET`` lists them.
- ``POST /applications/{id}/notes`` ``{"model": {subject, body, visibility?, remote_user_id?}}``: a note on
  the application's activity feed, which the recruiters see (201, no webhook); ``GET`` lists them.
  ``visibility``: ``ADMIN_ONLY``, ``PUBLIC`` or ``PRIVATE`` (default ``ADMIN_ONLY``).

Each successful write sends a signed webhook after the answer (``application.changed``,
``interview.created``, ``screening_result.created``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulators.idempotency import IdempotencyConflict
from simulators.timefmt import iso_z, parse_iso

if TYPE_CHECKING:
    from simulators.hr import HRSimulator

__all__ = ["routes"]

Outcome = tuple[int, dict[str, Any], list[tuple[str, str, dict[str, Any]]]]
"""(status, answer, webhooks to send as (event, model path, record))."""

_TITLES = {
    "MISSING_REQUIRED_FIELD": "Missing Required Field",
    "INVALID_FIELD": "Invalid Field",
    "NOT_FOUND": "Not Found",
    "MALFORMED_BODY": "Malformed Body",
}


class _Invalid(Exception):
    def __init__(self, problem_type: str, detail: str, pointer: str) -> None:
        super().__init__(detail)
        self.body = {
            "title": _TITLES[problem_type],
            "detail": detail,
            "problem_type": problem_type,
            "source": {"pointer": pointer},
        }


def _ok(model: dict[str, Any]) -> dict[str, Any]:
    return {"model": model, "warnings": [], "errors": [], "logs": []}


def _model(body: Any) -> dict[str, Any]:
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, dict):
        raise _Invalid("MISSING_REQUIRED_FIELD", "The request needs a 'model' object.", "/model")
    return model


def _time(model: dict[str, Any], name: str) -> float:
    if not isinstance(model.get(name), str):
        raise _Invalid("MISSING_REQUIRED_FIELD", f"'{name}' is required (ISO 8601).", f"/model/{name}")
    try:
        return parse_iso(model[name])
    except ValueError:
        raise _Invalid("INVALID_FIELD", f"'{name}' is not an ISO 8601 time.", f"/model/{name}") from None


def _user(sim: HRSimulator, value: Any, pointer: str) -> str:
    if not isinstance(value, str) or sim.tables["users"].get(value) is None:
        raise _Invalid("INVALID_FIELD", f"Unknown user {value!r}.", pointer)
    return value


def _change_stage(sim: HRSimulator, request: Request, body: Any) -> Outcome:
    row = sim.tables["applications"].get(request.path_params["id"])
    if row is None:
        raise _Invalid("NOT_FOUND", "Application not found.", "/id")
    stage_id = body.get("job_interview_stage") if isinstance(body, dict) else None
    stage = sim.tables["job-interview-stages"].get(stage_id) if isinstance(stage_id, str) else None
    if stage is None or stage.record["job"] != row.record["job"]:
        raise _Invalid(
            "INVALID_FIELD", "job_interview_stage is not a stage of this application's job.", "/job_interview_stage"
        )
    if body.get("remote_user_id") is not None:
        _user(sim, body["remote_user_id"], "/remote_user_id")
    stage_name = stage.record["remote_data"][0]["data"]["stageName"]
    remote_data = [
        {
            "path": row.record["remote_data"][0]["path"],
            "data": {**row.record["remote_data"][0]["data"], "stageName": stage_name},
        }
    ]
    sim.tables["applications"].touch(row, sim.clock(), current_stage=stage.record["id"], remote_data=remote_data)
    return 200, _ok(row.record), [("application.changed", "applications", row.record)]


def _create_interview(sim: HRSimulator, request: Request, body: Any) -> Outcome:
    model = _model(body)
    application = sim.tables["applications"].get(model.get("application") or "")
    if application is None:
        raise _Invalid("MISSING_REQUIRED_FIELD", "'application' must name an application.", "/model/application")
    start, end = _time(model, "start_at"), _time(model, "end_at")
    if end <= start:
        raise _Invalid("INVALID_FIELD", "'end_at' must be after 'start_at'.", "/model/end_at")
    stage_id = model.get("job_interview_stage") or application.record["current_stage"]
    stage = sim.tables["job-interview-stages"].get(stage_id)
    if stage is None or stage.record["job"] != application.record["job"]:
        raise _Invalid("INVALID_FIELD", "Unknown job_interview_stage for this job.", "/model/job_interview_stage")
    interviewers = model.get("interviewers") or []
    if not isinstance(interviewers, list):
        raise _Invalid("INVALID_FIELD", "'interviewers' must be a list of user ids.", "/model/interviewers")
    status = model.get("status", "SCHEDULED")
    if status not in ("SCHEDULED", "AWAITING_FEEDBACK", "COMPLETE"):
        raise _Invalid("INVALID_FIELD", f"Unknown status {status!r}.", "/model/status")
    now, table = sim.clock(), sim.tables["interviews"]
    record = {
        "id": str(uuid.uuid4()),
        "remote_id": str(30000 + len(table)),
        "application": application.record["id"],
        "job_interview_stage": stage_id,
        "organizer": _user(sim, model["organizer"], "/model/organizer") if model.get("organizer") else None,
        "interviewers": [_user(sim, u, f"/model/interviewers/{n}") for n, u in enumerate(interviewers)],
        "location": model.get("location"),
        "start_at": iso_z(start),
        "end_at": iso_z(end),
        "remote_created_at": iso_z(now),
        "remote_updated_at": iso_z(now),
        "status": status,
        "remote_was_deleted": False,
        "field_mappings": {"organization_defined_targets": {}, "integration_defined_targets": {}},
        "remote_data": [
            {
                "path": f"/interviews/{30000 + len(table)}",
                "data": {"stageName": stage.record["remote_data"][0]["data"]["stageName"]},
            }
        ],
    }
    table.add(record, created=now, modified=now)
    return 201, _ok(record), [("interview.created", "interviews", record)]


def _add_screening(sim: HRSimulator, request: Request, body: Any) -> Outcome:
    row = sim.tables["applications"].get(request.path_params["id"])
    if row is None:
        raise _Invalid("NOT_FOUND", "Application not found.", "/id")
    model = _model(body)
    score = model.get("score")
    if not isinstance(score, int | float) or isinstance(score, bool) or not 0 <= score <= 100:
        raise _Invalid("INVALID_FIELD", "'score' must be a number from 0 to 100.", "/model/score")
    if not isinstance(model.get("passed"), bool):
        raise _Invalid("MISSING_REQUIRED_FIELD", "'passed' must be true or false.", "/model/passed")
    reasons = model.get("reasons")
    if not isinstance(reasons, list) or not all(isinstance(r, str | dict) for r in reasons):
        raise _Invalid("INVALID_FIELD", "'reasons' must be a list of strings or objects.", "/model/reasons")
    now, results = sim.clock(), sim.screening.setdefault(row.record["id"], [])
    result = {
        "id": str(uuid.uuid4()),
        "application": row.record["id"],
        "score": score,
        "passed": model["passed"],
        "rank": model.get("rank"),
        "reasons": reasons,
        "run_id": model.get("run_id"),
        "created_at": iso_z(now),
    }
    results.append(result)
    data = {**row.record["remote_data"][0]["data"], "screeningScore": score, "screeningPassed": model["passed"]}
    sim.tables["applications"].touch(
        row, now, remote_data=[{"path": row.record["remote_data"][0]["path"], "data": data}]
    )
    return 201, _ok(result), [("screening_result.created", "applications", row.record)]


def _add_note(sim: HRSimulator, request: Request, body: Any) -> Outcome:
    row = sim.tables["applications"].get(request.path_params["id"])
    if row is None:
        raise _Invalid("NOT_FOUND", "Application not found.", "/id")
    model = _model(body)
    for name in ("subject", "body"):
        if not isinstance(model.get(name), str) or not model[name].strip():
            raise _Invalid("MISSING_REQUIRED_FIELD", f"'{name}' must be a non-empty string.", f"/model/{name}")
    visibility = model.get("visibility", "ADMIN_ONLY")
    if visibility not in ("ADMIN_ONLY", "PUBLIC", "PRIVATE"):
        raise _Invalid("INVALID_FIELD", f"Unknown visibility {visibility!r}.", "/model/visibility")
    notes = sim.notes.setdefault(row.record["id"], [])
    note = {
        "id": str(uuid.uuid4()),
        "remote_id": str(70000 + sum(len(n) for n in sim.notes.values())),
        "application": row.record["id"],
        "candidate": row.record["candidate"],
        "activity_type": "NOTE",
        "subject": model["subject"],
        "body": model["body"],
        "visibility": visibility,
        "user": _user(sim, model["remote_user_id"], "/model/remote_user_id") if model.get("remote_user_id") else None,
        "remote_created_at": iso_z(sim.clock()),
    }
    notes.append(note)
    return 201, _ok(note), []


def _write(handler: Callable[[HRSimulator, Request, Any], Outcome]) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        sim: HRSimulator = request.app.state.sim
        if not sim.authorized(request):
            return JSONResponse({"detail": "Invalid API key."}, 401)
        raw, key = await request.body(), request.headers.get("idempotency-key")
        try:
            stored = sim.idempotency.lookup(request.url.path, key, raw)
        except IdempotencyConflict:
            return JSONResponse({"detail": "Idempotency-Key was used with a different request body."}, 422)
        if stored is not None:
            return JSONResponse(stored.payload, stored.status, headers={"Idempotent-Replayed": "true"})
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            problem = _Invalid("MALFORMED_BODY", "The body is not valid JSON.", "/")
            return JSONResponse({"errors": [problem.body], "warnings": []}, 400)
        try:
            status, answer, events = handler(sim, request, body)
        except _Invalid as exc:
            not_found = exc.body["problem_type"] == "NOT_FOUND"
            return JSONResponse({"errors": [exc.body], "warnings": []}, 404 if not_found else 400)
        sim.idempotency.remember(request.url.path, key, raw, status, answer)

        snapshots = [(event, path, dict(record)) for event, path, record in events]

        async def send() -> None:
            for event, path, record in snapshots:
                await sim.emit(event, path, record)

        return JSONResponse(answer, status, background=BackgroundTask(send))

    return endpoint


def _per_application(book: Callable[[HRSimulator], dict[str, list[dict[str, Any]]]]) -> Callable[[Request], Any]:
    """List what was written about one application (screening results, notes)."""

    async def endpoint(request: Request) -> Response:
        sim: HRSimulator = request.app.state.sim
        if not sim.authorized(request):
            return JSONResponse({"detail": "Invalid API key."}, 401)
        if sim.tables["applications"].get(request.path_params["id"]) is None:
            return JSONResponse({"detail": "Not found."}, 404)
        results = book(sim).get(request.path_params["id"], [])
        return JSONResponse({"next": None, "previous": None, "results": results})

    return endpoint


def routes() -> list[Route]:
    """The write routes (they must precede the generic ``/{model}/{id}`` read routes)."""
    return [
        Route("/applications/{id}/change-stage", _write(_change_stage), methods=["POST"]),
        Route("/applications/{id}/screening-results", _write(_add_screening), methods=["POST"]),
        Route("/applications/{id}/screening-results", _per_application(lambda s: s.screening), methods=["GET"]),
        Route("/applications/{id}/notes", _write(_add_note), methods=["POST"]),
        Route("/applications/{id}/notes", _per_application(lambda s: s.notes), methods=["GET"]),
        Route("/interviews", _write(_create_interview), methods=["POST"]),
    ]
