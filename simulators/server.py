"""Serve an ASGI app with uvicorn on a loopback port in a background thread.

Used by the tests, the hub's embedded demo and ``python -m simulators``. Port 0 (the default) lets the
operating system pick a free port; the real one is read back from the bound socket.

Example:
    >>> from simulators.hr import create_hr_app
    >>> server = run_in_thread(create_hr_app())
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.stop()
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import uvicorn
from starlette.types import ASGIApp

__all__ = ["RunningServer", "ServerStartError", "run_in_thread"]


class ServerStartError(RuntimeError):
    """uvicorn did not come up (port in use, startup failure or timeout)."""


@dataclass
class RunningServer:
    """A server running in a background thread: its base URL and how to stop it."""

    url: str
    port: int
    _server: uvicorn.Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for the thread; safe to call twice."""
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_in_thread(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    startup_timeout: float = 10.0,
    log_level: str = "warning",
    lifespan: Literal["auto", "on", "off"] = "auto",
) -> RunningServer:
    """Start ``app`` under uvicorn in a daemon thread; returns once it accepts connections.

    Raises ServerStartError when the port is taken, the app's startup fails or ``startup_timeout`` passes.
    """
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan=lifespan,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            asyncio.run(server.serve())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=serve, name=f"uvicorn-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if failure or not thread.is_alive():
            raise ServerStartError(f"uvicorn failed to start on {host}:{port}: {failure[:1]}")
        if time.monotonic() > deadline:
            server.should_exit = True
            raise ServerStartError(f"uvicorn did not start on {host}:{port} within {startup_timeout} s")
        time.sleep(0.005)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(f"http://{host}:{bound}", bound, server, thread)
