"""Simulated HR system (ATS/HRIS) speaking the unified-HR-API dialect with Chinese ATS quirks.

Routes (all need ``Authorization: Bearer <api_key>``):

- ``GET /{model}``: list ``candidates``, ``jobs``, ``applications``, ``attachments``,
  ``job-interview-stages``, ``interviews``, ``users``, ``departments``, ``offices``. Answers
  ``{"next", "previous", "results"}``; ``page_size`` (default and maximum 100), opaque ``cursor``,
  ``modified_after``/``modified_before``/``created_after``/``created_before`` (ISO 8601; ``modified_after``
  is inclusive at second precision, so an edit in the watermark's own second is never lost),
  ``include_deleted_data=true`` (alias ``include_deleted``) to see records flagged ``remote_was_deleted``,
  which a plain read leaves out; filters ``candidate_id``, ``job_id``, ``application_id``,
  ``current_stage_id``, ``status``, ``mode``.
- ``GET /{model}/{id}``: one record (deleted ones too, flagged).
- ``GET /attachments/{id}/content``: the resume text, ``text/plain; charset=utf-8``.
- Writes in `simulators.hr_writes`; simulator controls in `simulators.hr_control`.

Example:
    >>> app = create_hr_app(sizes=Sizes(candidates=20))
    >>> len(app.state.sim.tables["candidates"])
    20
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from simulators import hr_control, hr_writes
from simulators.delivery import Deliverer, Delivery
from simulators.faults import FaultConfig, FaultMiddleware, Faults, fault_routes
from simulators.hr_render import MODELS, REQUIRED, load_world, new_tables
from simulators.hr_store import Row
from simulators.idempotency import IdempotencyStore
from simulators.paging import clamp_page_size, decode_cursor, encode_cursor
from simulators.seed import Sizes, World, build_world, paused_gc
from simulators.signing import hr_signature
from simulators.timefmt import iso_z, parse_iso

__all__ = ["HR_API_KEY", "HRConfig", "HRSimulator", "create_hr_app"]

HR_API_KEY = "sim-hr-api-key"
DRIFT = {
    "first_name": "given_name",
    "last_name": "family_name",
    "modified_at": "updated_at",
    "current_stage": "stage",
    "email_addresses": "emails",
}
_FILTERS = {
    "candidate_id": "candidate",
    "job_id": "job",
    "application_id": "application",
    "current_stage_id": "current_stage",
    "status": "status",
    "mode": "mode",
}


@dataclass
class HRConfig:
    """Credentials and webhook settings; every field can be changed at runtime through ``/_sim``."""

    api_key: str = HR_API_KEY
    webhook_url: str | None = None
    webhook_secret: str = "sim-hr-webhook-secret"  # noqa: S105 (a simulator default)
    duplicate_rate: float = 0.0  # probability that a webhook is delivered twice


def error(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The dialect's error body: ``{"detail": ...}``."""
    return JSONResponse({"detail": detail}, status, headers=headers)


def _render_fault(kind: str, status: int, retry_after: int | None) -> Response:
    if kind == "rate_limited":
        return error(status, f"Request was throttled. Expected available in {retry_after} seconds.")
    if status < 500:
        return error(status, "The request was rejected.")
    return error(status, "Upstream service temporarily unavailable.")


class HRSimulator:
    """The HR system's state: tables, resume texts, screening results, notes, idempotency keys and webhooks."""

    def __init__(
        self, world: World, config: HRConfig, faults: Faults, deliverer: Deliverer, clock: Callable[[], float]
    ) -> None:
        self.world = world
        self.config = config
        self.faults = faults
        self.deliverer = deliverer
        self.clock = clock
        self.tables = new_tables()
        with paused_gc():
            self.texts = load_world(world, self.tables)
        self.screening: dict[str, list[dict[str, Any]]] = {}
        self.notes: dict[str, list[dict[str, Any]]] = {}  # application id -> notes for the recruiters
        self.idempotency = IdempotencyStore()
        self._webhook_rng = random.Random(world.seed)  # noqa: S311 (reproducible, not crypto)

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.config.api_key}"

    def render(self, path: str, row: Row, request: Request) -> dict[str, Any]:
        """A record as the API answers it (faults applied, absolute ``file_url`` on attachments)."""
        record = row.record
        if path == "attachments":
            record = dict(record, file_url=f"{str(request.base_url).rstrip('/')}/attachments/{record['id']}/content")
        return self.faults.damage(record, key=record["id"], required=REQUIRED.get(path, ("id", "modified_at")))

    async def emit(self, event: str, path: str, record: dict[str, Any]) -> list[Delivery]:
        """POST a signed change event to the configured webhook (twice, sometimes, when so switched)."""
        if not self.config.webhook_url:
            return []
        body = json.dumps(
            {
                "id": str(uuid.uuid4()),
                "event": event,
                "model": MODELS[path],
                "created_at": iso_z(self.clock()),
                "data": record,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "X-HR-Event": event,
            "X-HR-Signature": hr_signature(self.config.webhook_secret, body),
        }
        sent = [await self.deliverer.send(event, self.config.webhook_url, body=body, headers=headers)]
        if self._webhook_rng.random() < self.config.duplicate_rate:
            sent.append(await self.deliverer.send(event, self.config.webhook_url, body=body, headers=headers))
        return sent


def _sim(request: Request) -> HRSimulator:
    return request.app.state.sim  # type: ignore[no-any-return]


async def list_records(request: Request) -> Response:
    sim, path = _sim(request), request.path_params["model"]
    if not sim.authorized(request):
        return error(401, "Invalid API key.")
    table = sim.tables.get(path)
    if table is None:
        return error(404, "Not found.")
    params = request.query_params
    try:
        size = clamp_page_size(params.get("page_size"), default=100, maximum=100)
        position = decode_cursor(params["cursor"]) if params.get("cursor") else {}
        after, before = position.get("a"), position.get("b")
        bounds = {
            name: parse_iso(params[name])
            for name in ("modified_after", "modified_before", "created_after", "created_before")
            if params.get(name)
        }
    except ValueError as exc:
        return error(400, str(exc))
    flag = params.get("include_deleted_data", params.get("include_deleted", "false")).lower()
    include_deleted = flag in ("true", "1", "yes")
    wanted = [(field, params[name]) for name, field in _FILTERS.items() if params.get(name)]

    def keep(row: Row) -> bool:
        if row.deleted and not include_deleted:
            return False
        if "modified_after" in bounds and row.modified < bounds["modified_after"]:
            return False
        if "modified_before" in bounds and row.modified >= bounds["modified_before"]:
            return False
        if "created_after" in bounds and row.created < bounds["created_after"]:
            return False
        if "created_before" in bounds and row.created >= bounds["created_before"]:
            return False
        return all(row.record.get(field) == value for field, value in wanted)

    page = table.page(after=after, before=before, size=size, keep=keep)
    return JSONResponse(
        {
            "next": encode_cursor({"a": page.next_after}) if page.next_after is not None else None,
            "previous": encode_cursor({"b": page.previous_before}) if page.previous_before is not None else None,
            "results": [sim.render(path, row, request) for row in page.rows],
        }
    )


async def get_record(request: Request) -> Response:
    sim, path = _sim(request), request.path_params["model"]
    if not sim.authorized(request):
        return error(401, "Invalid API key.")
    table = sim.tables.get(path)
    row = table.get(request.path_params["id"]) if table is not None else None
    if row is None:
        return error(404, "Not found.")
    return JSONResponse(sim.render(path, row, request))


async def attachment_content(request: Request) -> Response:
    sim = _sim(request)
    if not sim.authorized(request):
        return error(401, "Invalid API key.")
    text = sim.texts.get(request.path_params["id"])
    if text is None:
        return error(404, "Not found.")
    return PlainTextResponse(text, media_type="text/plain; charset=utf-8")


def create_hr_app(
    world: World | None = None,
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    config: HRConfig | None = None,
    faults: FaultConfig | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """Build the HR simulator; ``world`` defaults to ``build_world(seed, sizes)``.

    ``transport`` routes webhooks in-process (tests); by default they go over HTTP.
    """
    fault_state = Faults(faults, clock=clock, default_drift=DRIFT)
    deliverer = Deliverer(transport=transport, clock=clock)
    sim = HRSimulator(world or build_world(seed, sizes), config or HRConfig(), fault_state, deliverer, clock)
    routes = [
        *fault_routes(fault_state),
        *deliverer.routes(),
        *hr_control.routes(),
        *hr_writes.routes(),
        Route("/attachments/{id}/content", attachment_content),
        Route("/{model}", list_records),
        Route("/{model}/{id}", get_record),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, faults=fault_state, render=_render_fault)])
    app.state.sim = sim
    return app
