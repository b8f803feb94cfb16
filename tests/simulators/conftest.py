"""Fixtures for the simulator tests: a small seeded world, a fake clock, loopback servers, ASGI clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from starlette.types import ASGIApp

from simulators.seed import BASE_TIME, Sizes, World, build_world
from simulators.server import RunningServer, run_in_thread


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = BASE_TIME + 86400) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="session")
def world() -> World:
    return build_world(7, Sizes(candidates=120, jobs=6))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def serve() -> Iterator[Callable[[ASGIApp], RunningServer]]:
    """Start apps on loopback ports; every one is stopped after the test."""
    started: list[RunningServer] = []

    def start(app: ASGIApp) -> RunningServer:
        server = run_in_thread(app)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def asgi_client(app: ASGIApp, **kwargs: object) -> httpx.AsyncClient:
    """An in-process client (no sockets) for the fast cases."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim", **kwargs)  # type: ignore[arg-type]


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``predicate`` holds: callbacks sent after a response arrive a moment later."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)
