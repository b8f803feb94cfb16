"""A finished screening run writes its results (score, recommendation, rank, reasons, shortlist) back to the
HR system the applications came from, through the HR connector, by RQ jobs: each result arrives exactly
once, whatever is delivered twice, retried after an outage or planned again.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from hub import jobs
from hub.db import models as m
from hub.services.screening import stored_reasons
from hub.services.screening_sync import pending_runs, plan_write_back
from hub.services.sync import run_sync, start_sync
from schema.relay import decode_global_id
from simulators.hr import create_hr_app
from simulators.seed import Sizes, World, build_world
from tests.hub.integration_support import Hub, connect_hr, drain, serving, sim
from tests.hub.test_screening import RUN, START, call_job, gid, post

pytestmark = pytest.mark.e2e

REQUIREMENTS: dict[str, Any] = {
    "must_have": ["Python"],
    "nice_to_have": [{"skill": "SQL", "weight": 10}, {"skill": "Java", "weight": 5}],
    "min_years": 1,
    "knockouts": [],
    "pass_threshold": 40,
}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(23, Sizes(candidates=40, jobs=3))


async def _set_status(hub: Hub, connection_id: uuid.UUID, status: str) -> None:
    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.Connection).where(m.Connection.id == connection_id).values(status=status))
        await session.commit()


async def _synced_job(hub: Hub, connection_id: uuid.UUID) -> uuid.UUID:
    """Everything the HR system holds, synced in; the job with the most applications, with requirements."""
    for run in await start_sync(hub.db, hub.tenant, connection_id, None, full=True):
        assert (await run_sync(hub.db, hub.vault, hub.tenant, connection_id, run.model, run_id=run.id))["status"] in (
            "DONE",
            "PARTIALLY_SYNCED",
        )
    applications = await hub.rows(m.Application, m.Application.outcome == "ACTIVE")
    counts: dict[uuid.UUID, int] = {}
    for application in applications:
        counts[application.job_id] = counts.get(application.job_id, 0) + 1
    job_id = max(counts, key=lambda j: counts[j])
    async with hub.db.session(hub.tenant) as session:
        await session.execute(update(m.Job).where(m.Job.id == job_id).values(requirements=REQUIREMENTS))
        await session.commit()
    return job_id


async def _run(client: httpx.AsyncClient, hub: Hub, job_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    started = (await post(client, hub.hr, START, input={"jobId": gid("Job", job_id), **extra})).json()["data"][
        "startScreeningRun"
    ]["run"]
    await drain(hub.settings)
    return (await post(client, hub.hr, RUN, id=started["id"])).json()["data"]["node"]  # type: ignore[no-any-return]


async def _finished_while_paused(
    client: httpx.AsyncClient, hub: Hub, server: Any, app: Any
) -> tuple[Any, Any, list[uuid.UUID]]:
    """(connection, run, result ids to write) of a run that finished while the HR connection was paused,
    the connection active again and nothing written yet."""
    hr = await connect_hr(hub, server, app, breaker_failures=100)
    job_id = await _synced_job(hub, hr.id)
    await _set_status(hub, hr.id, "PAUSED")  # no write-back yet
    node = await _run(client, hub, job_id)
    (run,) = await hub.rows(m.ScreeningRun)
    assert node["status"] == "DONE" and _upstream(app, run.id) == {}
    await _set_status(hub, hr.id, "ACTIVE")
    connection_id, ids, why = await plan_write_back(hub.db, hub.tenant, run.id)
    assert why == "ok" and connection_id == hr.id and len(ids) >= 3
    return hr, run, ids


async def _screening_path(hub: Hub, result_id: uuid.UUID) -> str:
    """The HR API path a result is written to (its application's upstream id)."""
    (result,) = await hub.rows(m.ScreeningResult, m.ScreeningResult.id == result_id)
    (link,) = await hub.rows(
        m.RemoteLink, m.RemoteLink.entity == "application", m.RemoteLink.entity_id == result.application_id
    )
    return f"/applications/{link.remote_id}/screening"


def _upstream(app: Any, run_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """What the HR system holds for the run: its screening results by application remote id."""
    return {
        application: [r for r in results if r["run_id"] == str(run_id)]
        for application, results in app.state.sim.screening.items()
        if any(r["run_id"] == str(run_id) for r in results)
    }


async def test_results_and_shortlist_arrive_in_the_hr_system_once(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr = await connect_hr(hub, server, app, breaker_failures=100)
        job_id = await _synced_job(hub, hr.id)
        node = await _run(client, hub, job_id, shortlistSize=2)
        assert node["status"] == "DONE"
        run_id = decode_global_id(node["id"])[1]
        results = await hub.rows(m.ScreeningResult, m.ScreeningResult.run_id == run_id)
        (run,) = await hub.rows(m.ScreeningRun, m.ScreeningRun.id == run_id)
        links: dict[uuid.UUID, str] = {}  # the first link of each application (merged copies have more)
        for link in sorted(
            await hub.rows(m.RemoteLink, m.RemoteLink.entity == "application"), key=lambda r: (r.created_at, r.id)
        ):
            links.setdefault(link.entity_id, link.remote_id)
        assert results and all(r.application_id in links for r in results)

        upstream = _upstream(app, run_id)
        assert set(upstream) == {links[r.application_id] for r in results}
        assert all(len(written) == 1 for written in upstream.values())  # once each
        for result in results:
            (written,) = upstream[links[result.application_id]]
            assert (written["score"], written["passed"], written["rank"]) == (result.score, result.passed, result.rank)
            codes = [line.split(" ", 1)[0].rstrip(":") for line in written["reasons"]]
            expected = stored_reasons(result.reasons, result.profile_key, run.requirements)
            assert expected and codes[:-1] == [r["code"] for r in expected]
            shortlisted = result.rank <= 2 and result.passed
            assert written["reasons"][-1] == f"SHORTLISTED: {'yes' if shortlisted else 'no'}"
            assert result.written_back_at is not None
        assert await hub.count(m.RemoteLink, m.RemoteLink.entity == "screening_result") == len(results)
        assert (
            app.state.sim.tables["applications"]
            .get(links[results[0].application_id])
            .record["remote_data"][0]["data"]["screeningScore"]
            == results[0].score
        )

        # Planned again, or a batch delivered again under a new key: nothing is written twice.
        replay = await call_job(jobs.sync_screening_results, str(hub.tenant), str(run_id),
                                idempotency_key=f"screening:{run_id}:write-back")  # fmt: skip
        assert replay["replayed"] is True
        assert await plan_write_back(hub.db, hub.tenant, run_id) == (hr.id, [], "ok")
        again = await call_job(jobs.write_back_screening_results, str(hub.tenant), str(run_id), str(hr.id),
                               [str(r.id) for r in results], idempotency_key="again")  # fmt: skip
        assert again == {"status": "ok", "written": 0, "skipped": len(results), "failed": {}}
        assert all(len(written) == 1 for written in _upstream(app, run_id).values())


async def test_an_hr_outage_is_retried_and_each_result_still_arrives_once(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr, run, ids = await _finished_while_paused(client, hub, server, app)
        batch = [str(i) for i in ids]
        # The first two writes go through; the HR system fails every attempt at the third (an outage).
        sim(server, "/_sim/faults", {"fail_next": 100, "paths": [await _screening_path(hub, ids[2])]})
        with pytest.raises(jobs.engines.RetryLater):
            await call_job(jobs.write_back_screening_results, str(hub.tenant), str(run.id), str(hr.id), batch,
                           idempotency_key="batch-0")  # fmt: skip
        sim(server, "/_sim/faults", method="DELETE")
        assert sum(len(v) for v in _upstream(app, run.id).values()) == 2
        retried = await call_job(jobs.write_back_screening_results, str(hub.tenant), str(run.id), str(hr.id), batch,
                                 idempotency_key="batch-0")  # fmt: skip
        assert retried["written"] == len(ids) - 2 and retried["skipped"] == 2
        upstream = _upstream(app, run.id)
        assert len(upstream) == len(ids) and all(len(v) == 1 for v in upstream.values())


async def test_a_result_the_hr_system_refuses_is_recorded_and_not_offered_again(
    client: httpx.AsyncClient, hub: Hub, world: World
) -> None:
    app = create_hr_app(world)
    with serving(app) as (server,):
        hr, run, ids = await _finished_while_paused(client, hub, server, app)
        (second,) = await hub.rows(m.ScreeningResult, m.ScreeningResult.id == ids[1])
        # The HR system rejects the second result's payload (a 422: a refusal, not an outage).
        sim(
            server,
            "/_sim/faults",
            {"fail_next": 100, "error_status": 422, "paths": [await _screening_path(hub, ids[1])]},
        )
        outcome = await call_job(jobs.write_back_screening_results, str(hub.tenant), str(run.id), str(hr.id),
                                 [str(i) for i in ids], idempotency_key="batch-0")  # fmt: skip
        sim(server, "/_sim/faults", method="DELETE")
        assert outcome["written"] == len(ids) - 1 and outcome["failed"] == {str(second.id): "UPSTREAM_REJECTED"}
        (refused,) = await hub.rows(m.ScreeningResult, m.ScreeningResult.id == second.id)
        assert refused.write_back_error == "UPSTREAM_REJECTED" and refused.written_back_at is None

        # Planned again (a resumed connection, a replanned run): the refused result is not offered again.
        assert await plan_write_back(hub.db, hub.tenant, run.id) == (hr.id, [], "ok")
        assert await pending_runs(hub.db, hub.tenant, hr.id) == []
        assert sum(len(v) for v in _upstream(app, run.id).values()) == len(ids) - 1

        # GraphQL shows which results reached the HR system and which it refused.
        query = """query($id: ID!) { node(id: $id) { ... on ScreeningResult { writtenBackAt writeBackError } } }"""
        shown = (await post(client, hub.hr, query, id=gid("ScreeningResult", second.id))).json()["data"]["node"]
        assert shown == {"writtenBackAt": None, "writeBackError": "UPSTREAM_REJECTED"}
        written = (await post(client, hub.hr, query, id=gid("ScreeningResult", ids[0]))).json()["data"]["node"]
        assert written["writtenBackAt"] is not None and written["writeBackError"] is None
