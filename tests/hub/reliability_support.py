"""Real processes and reconnecting protocol clients for the reliability tests.

Processes: hub servers (``hub serve``), RQ workers (``hub worker``) and a private ``redis-server``,
each started in a session of its own so a test can SIGTERM or SIGKILL it, and everything it forked
(RQ's work horse runs in a process group of its own), without touching anything else on the machine.
Every process a test starts is registered with a :class:`Processes` and killed at the end.

Clients: :class:`EventFeed` subscribes to ``events`` over ``graphql-transport-ws`` or GraphQL over
SSE, keeps every event it receives, and when the connection drops, reconnects with the last cursor
it saw, as a mobile client does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis as redis_lib
import websockets

from hub.db import Database
from hub.db import models as m
from hub.events import publish_pending
from hub.redis import async_redis
from hub.settings import Settings
from tests.hub.integration_support import wait_for

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hub_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment of a hub or worker process sharing the test's database, Redis and prefix."""
    env = {
        **os.environ,
        "HUB_ENV": "test",
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_REDIS_PREFIX": settings.redis_prefix,
        "HUB_JWT_SECRET": settings.jwt_secret,
        "HUB_KEK": settings.kek,
        "HUB_HOST": "127.0.0.1",
        "HUB_LOG_LEVEL": "warning",
    }
    env.update(overrides)
    return env


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    try:
        return wait_for(predicate, timeout)
    except AssertionError:
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}") from None


async def wait_until_async(predicate: Callable[[], Awaitable[Any]], limit: float, what: str) -> Any:
    deadline = time.monotonic() + limit
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


class ChildProcess:
    """A command in a session of its own, its output in a log file; restartable with the same command."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        log.write(f"--- start {' '.join(self.argv)}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tree(self) -> list[int]:
        """This process and every process it started, however deep (whatever their process group)."""
        if self.proc is None:
            return []
        children = _children()
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo.extend(children.get(pid, []))
        return found

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the process itself (as an orchestrator stopping it would)."""
        if self.alive():
            os.kill(self.pid, sig)

    def kill_tree(self) -> None:
        """SIGKILL the process and everything it started at once: the machine or container died."""
        for pid in self.tree():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.wait(10)

    def wait(self, timeout: float) -> int | None:
        if self.proc is None:
            return None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.alive():
            self.kill_tree()
        elif self.proc is not None:  # it exited; anything it forked (a work horse) must not outlive the test
            for pid in self.tree()[1:]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class HubServer(ChildProcess):
    """``hub serve`` on a fixed loopback port (a restart comes back at the same address)."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        super().__init__(name, [str(BIN / "hub"), "serve", "--port", str(self.port)], env, log_dir)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        super().start()

        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"{self.name} exited at start:\n{self.log_tail()}")
            try:
                return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(ready, 60, f"{self.name} to answer /healthz")


class WorkerProcess(ChildProcess):
    """``hub worker`` with short lease and maintenance intervals, so an abandoned job is seen in seconds."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        argv = [str(BIN / "hub"), "worker", "--name", f"{name}-{uuid.uuid4().hex[:6]}"]
        argv += ["--heartbeat", "1", "--lease-grace", "2", "--maintenance", "1"]
        super().__init__(name, argv, env, log_dir)


class PrivateRedis(ChildProcess):
    """A ``redis-server`` of this test alone on a free loopback port, persisting nothing: a restart loses
    every stream and queue (never the shared Redis on 6379)."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        super().__init__("redis", argv, dict(os.environ), log_dir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        super().start()
        client = redis_lib.Redis.from_url(self.url, socket_connect_timeout=1)

        def pong() -> bool:
            try:
                return bool(client.ping())
            except redis_lib.ConnectionError:
                return False

        try:
            wait_until(pong, 20, "the private redis-server to answer PING")
        finally:
            client.close()


class Processes:
    """Every process a test started; :meth:`stop_all` kills each tree (the fixture's finalizer)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[ChildProcess] = []

    def add(self, process: ChildProcess, *, start: bool = True) -> Any:
        self.started.append(process)
        if start:
            process.start()
        return process

    def stop_all(self) -> None:
        for process in reversed(self.started):
            process.stop()

    def logs(self) -> str:
        return "\n".join(f"=== {p.name}\n{p.log_tail()}" for p in self.started)


@contextlib.contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    running = Processes(log_dir)
    try:
        yield running
    finally:
        running.stop_all()


# --- producing events as jobs do -----------------------------------------------------------------------------


async def commit_job_created(db: Database, tenant: uuid.UUID, title: str) -> uuid.UUID:
    """Commit a job and its ``job.created`` event in one transaction (the outbox); answer the job's id."""
    async with db.session(tenant) as session:
        job = m.Job(title=title, stages=["APPLIED"])
        session.add(job)
        await session.flush()
        session.add(m.Event(type="job.created", entity="job", entity_id=job.id, data={}))
        await session.commit()
        return job.id


@dataclass
class Producer:
    """Commits events continuously and publishes every other one itself (as a job's runtime does); the
    rest wait for a hub's relay sweeper, as if the producer had crashed between commit and publish."""

    db: Database
    settings: Settings
    tenant: uuid.UUID
    interval: float = 0.02
    produced: list[uuid.UUID] = field(default_factory=list)
    publish_failures: int = 0
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, redis_url: str | None = None) -> None:
        redis = async_redis(redis_url or self.settings.redis_url)
        try:
            while not self._stop.is_set():
                n = len(self.produced)
                self.produced.append(await commit_job_created(self.db, self.tenant, f"event {n}"))
                if n % 2 == 0:
                    try:
                        await publish_pending(self.db, redis, self.settings.redis_prefix)
                    except Exception:  # the database itself failed: the sweeper publishes it later
                        self.publish_failures += 1
                await asyncio.sleep(self.interval)
        finally:
            await redis.aclose()

    def stop(self) -> None:
        self._stop.set()


# --- reconnecting subscribers ----------------------------------------------------------------------------

EVENTS = "subscription($after: String) { events(after: $after, types: [\"job.created\"]) { cursor type node { id } } }"


@dataclass
class EventFeed:
    """A client of the ``events`` subscription that survives its server: on any drop it reconnects to
    ``url`` (WebSocket or SSE) with the last cursor it saw, until stopped. ``received`` holds
    ``(cursor, node id)`` of every event, duplicates included, so a test can see them."""

    transport: str  # "ws" | "sse"
    base_url: str
    token: str
    after: str | None = "0"
    received: list[tuple[int, str]] = field(default_factory=list)
    connections: int = 0
    errors: list[Any] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"feed-{self.transport}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def cursor(self) -> str | None:
        return str(self.received[-1][0]) if self.received else self.after

    def _take(self, payload: dict[str, Any]) -> None:
        if payload.get("errors"):
            self.errors.append(payload["errors"])
            return
        event = payload["data"]["events"]
        self.received.append((int(event["cursor"]), event["node"]["id"] if event["node"] else ""))

    async def _run(self) -> None:
        while True:
            try:
                if self.transport == "ws":
                    await self._websocket()
                else:
                    await self._sse()
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, websockets.WebSocketException, httpx.HTTPError):
                pass  # the server went away: reconnect with the cursor
            await asyncio.sleep(0.1)

    async def _websocket(self) -> None:
        url = self.base_url.replace("http", "ws", 1) + "/graphql"
        async with websockets.connect(
            url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], open_timeout=5, max_queue=None
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {self.token}"}}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if ack["type"] != "connection_ack":
                self.errors.append(ack)
                return
            self.connections += 1
            variables = {"after": self.cursor}
            payload = {"query": EVENTS, "variables": variables}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "next":
                    self._take(message["payload"])
                elif message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message["type"] in ("error", "complete"):
                    self.errors.append(message)
                    return

    async def _sse(self) -> None:
        headers = {"authorization": f"Bearer {self.token}", "accept": "text/event-stream"}
        body = {"query": EVENTS, "variables": {"after": self.cursor}}
        timeout = httpx.Timeout(5, read=None)
        async with (
            httpx.AsyncClient(base_url=self.base_url, timeout=timeout) as http,
            http.stream("POST", "/graphql", headers=headers, json=body) as response,
        ):
            if response.status_code != 200:
                self.errors.append(response.status_code)
                return
            self.connections += 1
            event = None
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    event = line[len("event: ") :]
                elif line.startswith("data: ") and event == "next":
                    self._take(json.loads(line[len("data: ") :]))
                elif line.startswith("event: complete"):
                    return

    async def wait_for(self, count: int, timeout: float) -> None:  # noqa: ASYNC109
        await wait_until_async(
            lambda: true(len(self.received) >= count),
            timeout,
            f"{count} events over {self.transport} (have {len(self.received)}, errors {self.errors[:3]})",
        )


async def true(value: bool) -> bool:
    """An awaitable ``value``, for :func:`wait_until_async` on a plain condition."""
    return value


def assert_exactly_once_in_order(feed: EventFeed, produced_gids: list[str], first_cursor: int = 1) -> None:
    """Every produced event arrived once, in production order, with consecutive cursors."""
    cursors = [c for c, _ in feed.received]
    ids = [i for _, i in feed.received]
    duplicates = len(cursors) - len(set(cursors))
    assert duplicates == 0, f"{feed.transport}: {duplicates} duplicate deliveries"
    assert cursors == list(range(first_cursor, first_cursor + len(produced_gids))), (
        f"{feed.transport}: cursors are not consecutive: first gap after "
        f"{next((a for a, b in itertools.pairwise(cursors) if b != a + 1), None)}"
    )
    assert ids == produced_gids, f"{feed.transport}: events out of production order"
    assert not feed.errors, feed.errors
