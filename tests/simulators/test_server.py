"""run_in_thread, the five-system suite and the command line."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest

from simulators import cli
from simulators.hr import HR_API_KEY, create_hr_app
from simulators.seed import Sizes
from simulators.server import ServerStartError, run_in_thread
from simulators.suite import start_suite


@pytest.mark.e2e
def test_run_in_thread_binds_a_free_port_and_stops_cleanly() -> None:
    server = run_in_thread(create_hr_app(sizes=Sizes(candidates=5)))
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    assert httpx.get(f"{server.url}/jobs", headers={"Authorization": f"Bearer {HR_API_KEY}"}).status_code == 200
    server.stop()
    server.stop()  # twice is fine
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/jobs")


@pytest.mark.e2e
def test_a_taken_port_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(ServerStartError):
            run_in_thread(create_hr_app(sizes=Sizes(candidates=5)), port=taken.getsockname()[1])


@pytest.mark.e2e
def test_suite_serves_five_systems_over_one_world() -> None:
    suite = start_suite(seed=3, sizes=Sizes(candidates=30, jobs=3), seed_instances=2)
    try:
        credentials = suite.credentials()
        hr = httpx.get(
            f"{suite.urls['hr']}/candidates", headers={"Authorization": f"Bearer {credentials['hr']['api_key']}"}
        )
        mobile = httpx.get(
            f"{suite.urls['mobile']}/v1/interview-sessions",
            headers={"Authorization": f"Bearer {credentials['mobile']['api_key']}"},
        )
        token = httpx.post(
            f"{suite.urls['dingtalk']}/v1.0/oauth2/accessToken",
            json={"appKey": credentials["dingtalk"]["app_key"], "appSecret": credentials["dingtalk"]["app_secret"]},
        )
    finally:
        suite.stop()
    remote_ids = {c["remote_id"] for c in hr.json()["results"]}
    assert {s["candidate"]["remoteId"] for s in mobile.json()["items"]} <= remote_ids
    assert token.status_code == 200 and len(set(suite.apps)) == 5
    assert sorted(credentials) == ["dingtalk", "feishu", "hr", "mobile", "wecom"]


@pytest.mark.e2e
def test_cli_prints_urls_and_serves_until_stopped(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(cli.main(["--candidates", "10", "--jobs", "2"], stop=stop)))
    thread.start()
    printed = ""
    try:
        for _ in range(500):
            printed += capsys.readouterr().out
            if printed.rstrip().endswith("}") or result:
                break
            threading.Event().wait(0.02)
        announced = json.loads(printed)
        answer = httpx.get(
            f"{announced['urls']['mobile']}/v1/interview-sessions",
            headers={"Authorization": f"Bearer {announced['credentials']['mobile']['api_key']}"},
        )
    finally:
        stop.set()
        thread.join(15)
    assert sorted(announced["urls"]) == ["dingtalk", "feishu", "hr", "mobile", "wecom"]
    assert answer.status_code == 200 and result == [0]
