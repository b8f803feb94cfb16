"""Fault switches shared by every simulator.

Request-level faults are injected by `FaultMiddleware` before a request reaches the simulator; record-level
faults (malformed records, schema drift) are applied by the simulator to each record it returns through
`Faults.damage`. The ``/_sim/...`` control routes are never faulted.

| switch                    | effect                                                                   |
|---------------------------|--------------------------------------------------------------------------|
| ``rate_limit_per_minute`` | budget per fixed minute; over it the dialect's rate-limit answer with     |
|                           | ``Retry-After`` (seconds to the next minute)                             |
| ``fail_next``             | the next N requests answer ``error_status`` (default 503; a 4xx is a     |
|                           | refusal of the request rather than an outage)                            |
| ``error_rate``            | probability that a request answers ``error_status``                      |
| ``html_next``/``html_rate`` | an nginx-style HTML error page (``html_status``, default 502), not JSON |
| ``delay_seconds``         | sleep before answering, with probability ``delay_rate`` (default 1)      |
| ``malformed_rate``        | probability that a record has a missing required field or a wrong type;  |
|                           | decided per record id, so the same record stays broken on every read     |
| ``schema_drift``          | rename fields (``drift_renames`` or the dialect's default) and add       |
|                           | ``drift_extra`` fields to every record                                   |
| ``paths``                 | path prefixes the request-level faults apply to (default: all)           |
| ``seed``                  | seeds the random draws, so a run is reproducible                         |

Switch at construction (``FaultConfig(...)``) or at runtime: ``POST /_sim/faults`` with a JSON object of the
switches to change (answers the whole configuration), ``GET /_sim/faults``, ``DELETE /_sim/faults`` to go
back to the constructor's configuration.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import hashlib
import math
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ErrorRenderer", "FaultConfig", "FaultMiddleware", "Faults", "fault_routes"]

ErrorRenderer = Callable[[str, int, int | None], Response]
"""``render(kind, status, retry_after)`` builds the dialect's answer; kind is "rate_limited" or "server_error"."""

DEFAULT_DRIFT_EXTRA: dict[str, Any] = {"x_upstream_added": "drift"}

_HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>{status} Bad Gateway</title></head>\n<body>\n"
    "<center><h1>{status} Bad Gateway</h1></center>\n<hr><center>nginx</center>\n</body></html>\n"
)


@dataclass
class FaultConfig:
    """The switches; every one is off by default."""

    seed: int = 0
    rate_limit_per_minute: int | None = None
    fail_next: int = 0
    error_rate: float = 0.0
    error_status: int = 503
    html_next: int = 0
    html_rate: float = 0.0
    html_status: int = 502
    delay_seconds: float = 0.0
    delay_rate: float = 1.0
    malformed_rate: float = 0.0
    schema_drift: bool = False
    drift_renames: dict[str, str] | None = None
    drift_extra: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_DRIFT_EXTRA))
    paths: list[str] | None = None


@dataclass
class _Decision:
    delay: float = 0.0
    kind: str | None = None  # "rate_limited", "server_error" or "html"
    status: int = 200
    retry_after: int | None = None


def _validate(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` suits switch ``name``."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    count = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    ok = {
        "seed": isinstance(value, int) and not isinstance(value, bool),
        "rate_limit_per_minute": value is None or count,
        "fail_next": count,
        "html_next": count,
        "error_status": count and 400 <= value <= 599,
        "html_status": count and 400 <= value <= 599,
        "delay_seconds": number and 0 <= value <= 60,
        "schema_drift": isinstance(value, bool),
        "drift_renames": value is None or isinstance(value, dict),
        "drift_extra": isinstance(value, dict),
        "paths": value is None or (isinstance(value, list) and all(isinstance(p, str) for p in value)),
    }.get(name, number and 0 <= value <= 1)  # the remaining switches are probabilities
    if not ok:
        raise ValueError(f"bad value for fault switch {name}: {value!r}")


def _chance(seed: int, salt: str, key: str) -> float:
    digest = hashlib.blake2b(f"{seed}:{salt}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _wrong_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes"
    if isinstance(value, str):
        return 12345
    if isinstance(value, int | float):
        return "not-a-number"
    if isinstance(value, list):
        return "not-a-list"
    if isinstance(value, dict):
        return ["not", "an", "object"]
    return {"unexpected": True}


class Faults:
    """The live switch state of one simulator, plus counters of what was injected."""

    def __init__(
        self,
        config: FaultConfig | None = None,
        *,
        clock: Callable[[], float] = time.time,
        default_drift: Mapping[str, str] | None = None,
    ) -> None:
        self._initial = copy.deepcopy(config or FaultConfig())
        self._clock = clock
        self._default_drift = dict(default_drift or {})
        self.injected: dict[str, int] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the constructor's configuration, with fresh counters and random state."""
        self.config = copy.deepcopy(self._initial)
        self._rng = random.Random(self.config.seed)  # noqa: S311 (reproducible, not crypto)
        self._window = -1
        self._window_count = 0
        self.injected.clear()

    def update(self, changes: Mapping[str, Any]) -> FaultConfig:
        """Change some switches; raises ValueError on an unknown switch or a bad value."""
        known = {f.name: f for f in dataclasses.fields(FaultConfig)}
        unknown = sorted(set(changes) - set(known))
        if unknown:
            raise ValueError(f"unknown fault switch(es): {', '.join(unknown)}")
        for name, value in changes.items():
            _validate(name, value)
        self.config = dataclasses.replace(self.config, **dict(changes))
        if "seed" in changes:
            self._rng = random.Random(self.config.seed)  # noqa: S311 (reproducible, not crypto)
        return self.config

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def _applies(self, path: str) -> bool:
        prefixes = self.config.paths
        return prefixes is None or any(path.startswith(prefix) for prefix in prefixes)

    def decide(self, path: str) -> _Decision:
        """Decide the request-level faults for one request (consumes budget and random draws)."""
        cfg, decision = self.config, _Decision()
        if not self._applies(path):
            return decision
        if cfg.delay_seconds > 0 and (cfg.delay_rate >= 1 or self._rng.random() < cfg.delay_rate):
            decision.delay = cfg.delay_seconds
            self._count("delay")
        if cfg.rate_limit_per_minute is not None:
            now = self._clock()
            window = int(now // 60)
            if window != self._window:
                self._window, self._window_count = window, 0
            self._window_count += 1
            if self._window_count > cfg.rate_limit_per_minute:
                decision.kind, decision.status = "rate_limited", 429
                decision.retry_after = max(1, math.ceil((window + 1) * 60 - now))
                self._count("rate_limited")
                return decision
        if cfg.fail_next > 0:
            cfg.fail_next -= 1
            decision.kind, decision.status = "server_error", cfg.error_status
        elif cfg.html_next > 0:
            cfg.html_next -= 1
            decision.kind, decision.status = "html", cfg.html_status
        elif cfg.error_rate > 0 and self._rng.random() < cfg.error_rate:
            decision.kind, decision.status = "server_error", cfg.error_status
        elif cfg.html_rate > 0 and self._rng.random() < cfg.html_rate:
            decision.kind, decision.status = "html", cfg.html_status
        if decision.kind:
            self._count(decision.kind)
        return decision

    def damage(self, record: dict[str, Any], *, key: str, required: Sequence[str] = ()) -> dict[str, Any]:
        """Apply the record-level faults to one record (answers a copy when anything changes).

        ``key`` identifies the record (its id), so the same record is broken the same way on every read;
        ``required`` lists the fields a consumer cannot do without, the ones a malformed record breaks.
        """
        cfg = self.config
        broken = cfg.malformed_rate > 0 and _chance(cfg.seed, "malformed", key) < cfg.malformed_rate
        if not broken and not cfg.schema_drift:
            return record
        out = dict(record)
        if broken:
            present = [name for name in required if name in out] or list(out)
            target = present[int(_chance(cfg.seed, "field", key) * len(present))]
            if _chance(cfg.seed, "how", key) < 0.5:
                del out[target]
            else:
                out[target] = _wrong_type(out[target])
            self._count("malformed")
        if cfg.schema_drift:
            renames = self._default_drift if cfg.drift_renames is None else cfg.drift_renames
            out = {renames.get(name, name): value for name, value in out.items()}
            out.update(cfg.drift_extra)
            self._count("drift")
        return out


class FaultMiddleware:
    """Pure ASGI middleware injecting the request-level faults; ``/_sim/`` paths pass untouched."""

    def __init__(self, app: ASGIApp, faults: Faults, render: ErrorRenderer) -> None:
        self.app = app
        self.faults = faults
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/_sim"):
            await self.app(scope, receive, send)
            return
        decision = self.faults.decide(path)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.kind is None:
            await self.app(scope, receive, send)
            return
        if decision.kind == "html":
            response: Response = HTMLResponse(_HTML_PAGE.format(status=decision.status), decision.status)
        else:
            response = self.render(decision.kind, decision.status, decision.retry_after)
            if decision.retry_after is not None:
                response.headers["Retry-After"] = str(decision.retry_after)
        await response(scope, receive, send)


def fault_routes(faults: Faults) -> list[Route]:
    """``GET``/``POST``/``DELETE /_sim/faults`` for switching faults at runtime."""

    async def handle(request: Request) -> Response:
        if request.method == "POST":
            try:
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object")
                faults.update(changes)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, 400)
        elif request.method == "DELETE":
            faults.reset()
        body = dataclasses.asdict(faults.config)
        body["injected"] = dict(faults.injected)
        return JSONResponse(body)

    return [Route("/_sim/faults", handle, methods=["GET", "POST", "DELETE"])]
