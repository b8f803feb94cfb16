"""Every fault switch, at construction and at runtime, in the dialects' own error shapes."""

from __future__ import annotations

import time

import pytest

from simulators.faults import FaultConfig, Faults
from simulators.feishu import create_feishu_app
from simulators.hr import HR_API_KEY, create_hr_app
from simulators.mobile import create_mobile_app
from simulators.seed import World
from simulators.wecom import create_wecom_app
from tests.simulators.conftest import FakeClock, asgi_client

AUTH = {"Authorization": f"Bearer {HR_API_KEY}"}


def hr(world: World, clock: FakeClock, **switches: object):  # type: ignore[no-untyped-def]
    return asgi_client(create_hr_app(world, clock=clock, faults=FaultConfig(**switches)), headers=AUTH)  # type: ignore[arg-type]


async def test_rate_limit_answers_429_with_retry_after_until_the_next_minute(world: World, clock: FakeClock) -> None:
    clock.now = 1_800_000_000.0 + 15  # 15 s into a minute
    async with hr(world, clock, rate_limit_per_minute=3) as client:
        statuses = [(await client.get("/jobs")).status_code for _ in range(3)]
        limited = await client.get("/jobs")
        assert statuses == [200, 200, 200]
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "45"
        assert "throttled" in limited.json()["detail"]
        assert (await client.get("/_sim/faults")).status_code == 200  # controls are never limited
        clock.advance(45)
        assert (await client.get("/jobs")).status_code == 200


async def test_fail_next_then_recover(world: World, clock: FakeClock) -> None:
    async with hr(world, clock, fail_next=2) as client:
        first, second, third = [await client.get("/candidates") for _ in range(3)]
    assert (first.status_code, second.status_code, third.status_code) == (503, 503, 200)
    assert first.json() == {"detail": "Upstream service temporarily unavailable."}


async def test_error_rate_is_reproducible_with_a_seed(world: World, clock: FakeClock) -> None:
    async def run() -> list[int]:
        async with hr(world, clock, error_rate=0.3, seed=42, error_status=502) as client:
            return [(await client.get("/jobs", params={"page_size": 1})).status_code for _ in range(40)]

    first, second = await run(), await run()
    assert first == second
    assert 4 <= first.count(502) <= 20 and set(first) == {200, 502}


async def test_html_error_page_is_not_json(world: World, clock: FakeClock) -> None:
    async with hr(world, clock, html_next=1) as client:
        page = await client.get("/candidates")
        assert page.status_code == 502
        assert page.headers["content-type"].startswith("text/html")
        assert page.text.lstrip().startswith("<!DOCTYPE html>")
        assert (await client.get("/candidates")).status_code == 200


async def test_slow_responses(world: World, clock: FakeClock) -> None:
    async with hr(world, clock, delay_seconds=0.25) as client:
        started = time.perf_counter()
        assert (await client.get("/jobs")).status_code == 200
        assert time.perf_counter() - started >= 0.25


async def test_malformed_records_inside_a_good_page_are_stable(world: World, clock: FakeClock) -> None:
    async with hr(world, clock, malformed_rate=0.2, seed=3) as client:
        first = (await client.get("/candidates", params={"page_size": 100})).json()["results"]
        again = (await client.get("/candidates", params={"page_size": 100})).json()["results"]
    required = ("id", "remote_id", "modified_at", "first_name", "last_name", "email_addresses")

    def broken(record: dict) -> bool:  # type: ignore[type-arg]
        return (
            any(name not in record for name in required)
            or not all(isinstance(record[name], str) for name in required[:5])
            or not isinstance(record["email_addresses"], list)
        )

    bad = [r for r in first if broken(r)]
    assert len(first) == 100 and 5 <= len(bad) <= 40
    assert first == again  # the same records are broken the same way on every read


async def test_schema_drift_renames_and_adds_fields(world: World, clock: FakeClock) -> None:
    async with hr(world, clock, schema_drift=True) as client:
        record = (await client.get("/candidates", params={"page_size": 1})).json()["results"][0]
        assert {"given_name", "family_name", "updated_at", "x_upstream_added"} <= set(record)
        assert "first_name" not in record
        await client.post("/_sim/faults", json={"drift_renames": {"title": "job_title"}, "drift_extra": {}})
        record = (await client.get("/candidates", params={"page_size": 1})).json()["results"][0]
        assert "job_title" in record and "first_name" in record and "x_upstream_added" not in record


async def test_runtime_switching_validation_reset_and_paths(world: World, clock: FakeClock) -> None:
    async with hr(world, clock) as client:
        assert (await client.post("/_sim/faults", json={"no_such_switch": 1})).status_code == 400
        assert (await client.post("/_sim/faults", json={"error_rate": 2})).status_code == 400
        assert (await client.post("/_sim/faults", json=[1])).status_code == 400
        config = (await client.post("/_sim/faults", json={"fail_next": 5, "paths": ["/jobs"]})).json()
        assert config["fail_next"] == 5
        assert (await client.get("/candidates")).status_code == 200  # outside the faulted paths
        assert (await client.get("/jobs")).status_code == 503
        assert (await client.get("/_sim/faults")).json()["injected"] == {"server_error": 1}
        assert (await client.delete("/_sim/faults")).json()["fail_next"] == 0
        assert (await client.get("/jobs")).status_code == 200


async def test_dialect_shapes_of_injected_errors(world: World, clock: FakeClock) -> None:
    wecom = asgi_client(create_wecom_app(world, clock=clock, faults=FaultConfig(rate_limit_per_minute=0)))
    async with wecom as client:
        answer = await client.get("/cgi-bin/gettoken", params={"corpid": "x", "corpsecret": "y"})
    assert answer.status_code == 200  # WeCom throttles inside an HTTP 200
    assert answer.json()["errcode"] == 45009 and "Retry-After" in answer.headers
    feishu = asgi_client(create_feishu_app(world, clock=clock, faults=FaultConfig(fail_next=1)))
    async with feishu as client:
        answer = await client.get("/open-apis/approval/v4/instances/x")
    assert answer.status_code == 503 and answer.json()["code"] == 99991500
    mobile = asgi_client(create_mobile_app(world, clock=clock, faults=FaultConfig(rate_limit_per_minute=0)))
    async with mobile as client:
        answer = await client.get("/v1/interview-sessions")
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "RATE_LIMITED"


def test_faults_object_counts_and_validates() -> None:
    faults = Faults(FaultConfig(fail_next=1))
    assert faults.decide("/x").kind == "server_error"
    assert faults.decide("/x").kind is None
    with pytest.raises(ValueError, match="delay_seconds"):
        faults.update({"delay_seconds": -1})
    faults.reset()
    assert faults.config.fail_next == 1 and faults.injected == {}
