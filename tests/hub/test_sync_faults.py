"""Every fault switch of the simulated HR system against the hub's sync, over real HTTP.

429 with ``Retry-After`` (honoured in-process; a longer one reschedules the run after it), 5xx then success,
persistent 5xx and HTML error pages (FAILED with a coded error, resumable at the page it stopped on, the
circuit breaker opening and holding across connectors), slow answers (timeout), malformed records
(quarantine; the rest syncs), schema drift (every record quarantined, nothing stored is lost or marked
deleted). Pages commit whole: nothing is half-written.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.db import models as m
from hub.jobs.sync import enqueue_sync
from hub.runtime import Runtime
from hub.services.connections import get_connection, open_connector
from hub.services.sync import run_sync, start_sync
from simulators.hr import create_hr_app
from simulators.seed import Sizes, World, build_world
from tests.hub.integration_support import Hub, connect_hr, drain, serving, sim

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(5, Sizes(candidates=45, jobs=3, deleted_candidates=0))


async def _run(hub: Hub, connection: Any, model: str, *, full: bool = True, run_id: Any = None) -> dict[str, Any]:
    if run_id is None:
        (run,) = await start_sync(hub.db, hub.tenant, connection.id, [model], full=full)
        run_id = run.id
    return await run_sync(hub.db, hub.vault, hub.tenant, connection.id, model, run_id=run_id, full=full)


class MinuteEnd:
    """The simulator's clock, shifted (by `arm`) so its rate-limit minute ends a moment later: its
    ``Retry-After`` is then short enough to wait for in a test."""

    def __init__(self) -> None:
        self.offset = 0.0

    def arm(self, left: float = 1.2) -> None:
        now = time.time()
        self.offset = (60 - left) - (now % 60) + 60  # forward only: the simulator's windows never go back

    def __call__(self) -> float:
        return time.time() + self.offset


async def test_429_retry_after_is_honoured(hub: Hub, world: World) -> None:
    clock = MinuteEnd()
    app = create_hr_app(world, clock=clock)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, page_size=20)
        sim(server, "/_sim/faults", {"rate_limit_per_minute": 2})  # three pages: the third waits a minute
        clock.arm()
        started = time.monotonic()
        outcome = await _run(hub, hr, "candidate")
        waited = time.monotonic() - started
        faults = sim(server, "/_sim/faults", method="GET")
    assert outcome["status"] == "DONE" and outcome["created"] == 45
    assert faults["injected"]["rate_limited"] >= 1
    assert waited >= 1.0  # it slept the Retry-After instead of hammering the upstream


async def test_429_beyond_patience_fails_with_a_retryable_code(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, page_size=20, retry_attempts=1)
        sim(server, "/_sim/faults", {"rate_limit_per_minute": 1})
        outcome = await _run(hub, hr, "candidate")
    assert outcome["status"] == "FAILED" and outcome["error"] == "UPSTREAM_RATE_LIMITED" and outcome["retryable"]
    (state,) = await hub.rows(m.SyncState, m.SyncState.model == "candidate")
    assert state.status == "FAILED" and state.last_error.startswith("UPSTREAM_RATE_LIMITED")
    assert await hub.count(m.Candidate) == 20  # the first page was committed whole


async def test_5xx_then_success(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        sim(server, "/_sim/faults", {"fail_next": 2})
        outcome = await _run(hub, hr, "job")
    assert outcome["status"] == "DONE" and outcome["created"] == 3


async def test_failure_mid_sync_resumes_at_its_page_and_nothing_is_half_written(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, page_size=10, retry_attempts=1, breaker_failures=50)
        (run,) = await start_sync(hub.db, hub.tenant, hr.id, ["candidate"], full=True)
        sim(server, "/_sim/faults", {"error_rate": 0.6, "seed": 4})
        failed = None
        for _ in range(20):  # until a page fails (deterministic with the seed)
            outcome = await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "candidate", run_id=run.id, full=True)
            if outcome["status"] == "FAILED":
                failed = outcome
                break
        assert failed is not None and failed["error"] == "UPSTREAM_UNAVAILABLE"
        stored = await hub.count(m.Candidate)
        assert stored % 10 == 0 and stored == failed["created"]  # whole pages only
        assert await hub.count(m.RemoteLink) == stored and await hub.count(m.Event) == stored
        sim(server, "/_sim/faults", method="DELETE")
        resumed = await run_sync(hub.db, hub.vault, hub.tenant, hr.id, "candidate", run_id=run.id, full=True)
    assert resumed["status"] == "DONE" and resumed["created"] == 45
    assert resumed["pages"] == 5  # the failed run's pages plus the rest, none read twice into the counts
    assert await hub.count(m.Candidate) == 45 and await hub.count(m.Event) == 45


async def test_circuit_breaker_opens_and_holds_across_connectors(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, retry_attempts=2, breaker_failures=3, breaker_reset=60)
        sim(server, "/_sim/faults", {"fail_next": 100})
        first = await _run(hub, hr, "job")
        second = await _run(hub, hr, "job")
        injected = sim(server, "/_sim/faults", method="GET")["injected"]["server_error"]
        third = await _run(hub, hr, "job")
        after = sim(server, "/_sim/faults", method="GET")["injected"]["server_error"]
        row = await get_connection(hub.db, hub.tenant, hr.id)
        connector, breaker = await open_connector(hub.db, hub.vault, hub.tenant, row)
        await connector.aclose()
    assert first["error"] == "UPSTREAM_UNAVAILABLE"
    assert second["error"] == "UPSTREAM_CIRCUIT_OPEN" and third["error"] == "UPSTREAM_CIRCUIT_OPEN"
    assert after == injected  # an open circuit sends nothing upstream
    assert row.breaker["opened_at"] is not None and breaker.state(now=time.time()).value == "OPEN"


async def test_slow_upstream_times_out_and_writes_nothing(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, timeout_seconds=0.3, retry_attempts=2)
        sim(server, "/_sim/faults", {"delay_seconds": 1.5})
        outcome = await _run(hub, hr, "job")
    assert outcome["status"] == "FAILED" and outcome["error"] == "UPSTREAM_TIMEOUT" and outcome["retryable"]
    assert await hub.count(m.Job) == 0 and await hub.count(m.Event) == 0


async def test_html_error_pages_are_coded_failures(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        sim(server, "/_sim/faults", {"html_next": 10})
        outcome = await _run(hub, hr, "job")
    assert outcome["status"] == "FAILED" and outcome["error"] == "UPSTREAM_UNAVAILABLE"


async def test_malformed_records_are_quarantined_and_the_rest_syncs(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        sim(server, "/_sim/faults", {"malformed_rate": 0.25, "seed": 9})
        outcome = await _run(hub, hr, "candidate")
        quarantined = await hub.rows(m.Quarantine)
        assert outcome["status"] == "PARTIALLY_SYNCED" and outcome["quarantined"] == len(quarantined) > 0
        assert outcome["created"] + outcome["quarantined"] == 45
        assert all(q.code == "NORMALIZATION_FAILED" and q.path.startswith("$.") and q.errors for q in quarantined)
        assert all(q.raw.startswith("enc:") and q.status == "OPEN" for q in quarantined)
        again = await _run(hub, hr, "candidate")  # still broken upstream: one OPEN row per record, not two
        assert again["quarantined"] == outcome["quarantined"]
        assert await hub.count(m.Quarantine) == len(quarantined)
        sim(server, "/_sim/faults", method="DELETE")  # fixed upstream
        fixed = await _run(hub, hr, "candidate")
    assert fixed["status"] == "DONE" and fixed["created"] == outcome["quarantined"]
    assert {q.status for q in await hub.rows(m.Quarantine)} == {"RESOLVED"}
    assert await hub.count(m.Candidate) == 45


async def test_schema_drift_quarantines_and_loses_nothing(hub: Hub, world: World) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app)
        assert (await _run(hub, hr, "candidate"))["created"] == 45
        sim(server, "/_sim/faults", {"schema_drift": True})
        drifted = await _run(hub, hr, "candidate", full=True)
    assert drifted["status"] == "PARTIALLY_SYNCED" and drifted["quarantined"] == 45
    assert drifted["deleted"] == 0 and drifted["updated"] == 0  # still there upstream: not deleted, not emptied
    assert await hub.count(m.RemoteLink, m.RemoteLink.remote_deleted_at.is_not(None)) == 0
    reasons = {q.path for q in await hub.rows(m.Quarantine)}
    assert reasons <= {"$.first_name", "$.last_name", "$.modified_at", "$.email_addresses"}
    (state,) = await hub.rows(m.SyncState, m.SyncState.model == "candidate")
    assert state.status == "PARTIALLY_SYNCED" and state.last_error == "45 record(s) quarantined"


async def test_a_long_retry_after_reschedules_the_run_after_it(hub: Hub, world: World, runtime: Runtime) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, page_size=20, retry_attempts=1)
        sim(server, "/_sim/faults", {"rate_limit_per_minute": 1})
        runs = await start_sync(hub.db, hub.tenant, hr.id, ["candidate"], full=True)
        (job,) = enqueue_sync(runtime.queues, hub.tenant, runs)
        await drain(hub.settings)
    job.refresh()
    outcome = job.return_value()
    assert outcome["error"] == "UPSTREAM_RATE_LIMITED" and 1 <= outcome["rescheduled_in"] <= 60
    (scheduled,) = runtime.queues["default"].scheduled_job_registry.get_job_ids()
    again = runtime.queues["default"].fetch_job(scheduled)
    assert again.args == job.args and again.kwargs["idempotency_key"] == f"sync:{runs[0].id}:after1"
