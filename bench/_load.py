"""Shared benchmark helpers: start an ASGI app under uvicorn in a subprocess, drive load."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``uvicorn <target>`` on a loopback port, one worker process, stopped on exit."""

    def __init__(self, target: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                target,
                "--port",
                str(self.port),
                "--log-level",
                "warning",
                "--no-access-log",
                "--loop",
                "uvloop",
                "--http",
                "httptools",
            ],
            env={**os.environ, **(env or {})},
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        self.proc.kill()
        raise RuntimeError(f"server {self.url} did not start")

    def __exit__(self, *exc: Any) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies_ms: list[float]
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(p / 100 * len(data)))]

    def line(self, label: str) -> str:
        return (
            f"{label:<28} {self.rps:8.1f} req/s   p50 {self.pct(50):7.2f} ms   p99 {self.pct(99):7.2f} ms"
            f"   ({self.requests} requests, {self.errors} errors)"
        )


async def drive(
    url: str, body: dict[str, Any], headers: dict[str, str], *, seconds: float, concurrency: int, check: Any = None
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one_client() -> None:
            nonlocal errors
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                response = await client.post(url, json=body, headers=headers)
                latencies.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200 or (check and not check(response.json())):
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return LoadResult(len(latencies), elapsed, latencies, errors)


def median(values: list[float]) -> float:
    return statistics.median(values)


ADMIN_PG_URL = os.environ.get("HUB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def create_scratch_database() -> str:
    """A fresh, migrated PostgreSQL database for one benchmark run; answer its URL."""
    import secrets

    import psycopg

    from hub.db.migrate import upgrade

    name = f"hub_bench_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_PG_URL.rpartition("/")[0] + "/" + name
    upgrade(url)
    return url


def drop_scratch_database(url: str) -> None:
    import psycopg

    name = url.rpartition("/")[2]
    with psycopg.connect(ADMIN_PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
