"""The embedded demo's upstream systems: the simulators, in this process, and the demo tenant's connections.

`start_upstreams` serves the simulated HR system, DingTalk approvals and mobile HR app (plus WeCom and
Feishu, for trying other dialects) on loopback ports, once per process; `connect_demo` points the demo
tenant's connections at them (created on the first start, their URLs refreshed on later ones, since the
ports change), points the simulators' webhooks and callbacks at the hub, and queues a sync of every model
as soon as the hub answers on its port. The embedded worker then syncs in the background: a newcomer sees candidates,
jobs, approvals and AI interview sessions arrive, callbacks processed and write-backs land upstream.

For the quick start only: the simulators hold their data in memory and are rebuilt, deterministically, on
every start.
"""

from __future__ import annotations

import atexit
import threading
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.queues import Queues
from hub.redis import sync_redis
from hub.services.connections import create_connection, update_connection
from hub.services.vault import Vault
from hub.settings import Settings

__all__ = ["DEMO_CONNECTIONS", "connect_demo", "start_upstreams"]

#: Connection name -> simulator: what the demo tenant connects to.
DEMO_CONNECTIONS = {"hr-sim": "hr", "dingtalk-sim": "dingtalk", "mobile-sim": "mobile"}

_suite: Any = None


def start_upstreams() -> Any:
    """Serve the simulators (a small seeded world) in this process; the same suite on later calls."""
    global _suite
    if _suite is None:
        from simulators.seed import Sizes
        from simulators.suite import start_suite

        _suite = start_suite(seed=7, sizes=Sizes(candidates=40, jobs=4), seed_instances=6)
        atexit.register(stop_upstreams)
    return _suite


def stop_upstreams() -> None:
    global _suite
    if _suite is not None:
        _suite.stop()
        _suite = None


def _specs(suite: Any) -> dict[str, dict[str, Any]]:
    credentials = suite.credentials()
    ding = credentials["dingtalk"]
    originator = suite.world.users[0].dingtalk_id
    return {
        "hr-sim": {
            "kind": "hr",
            "credentials": {"api_key": credentials["hr"]["api_key"]},
            "webhook_secret": credentials["hr"]["webhook_secret"],
            "settings": {},
        },
        "dingtalk-sim": {
            "kind": "dingtalk",
            "credentials": {k: ding[k] for k in ("app_key", "app_secret", "callback_token", "callback_aes_key")},
            "webhook_secret": None,
            "settings": {
                "process_codes": [ding["process_code"]],
                "default_department_id": "1",
                "history_start": "2024-10-01T00:00:00Z",
                # what the workflow engine puts into approval.create
                "approval_definition_code": ding["process_code"],
                "originator": originator,
                "department_id": "1",
            },
        },
        "mobile-sim": {
            "kind": "mobile",
            "credentials": {"api_key": credentials["mobile"]["api_key"]},
            "webhook_secret": credentials["mobile"]["webhook_secret"],
            "settings": {},
        },
    }


async def connect_demo(db: Database, vault: Vault, settings: Settings, tenant_id: uuid.UUID, suite: Any) -> list[Any]:
    """Create or refresh the demo tenant's connections, aim the simulators' webhooks at the hub, and queue
    a sync of every model of every connection (the embedded worker runs it)."""
    from hub.jobs.sync import enqueue_sync
    from hub.services.sync import start_sync

    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host  # noqa: S104 - a comparison
    hub_url = f"http://{host}:{settings.port}"
    async with db.session(tenant_id) as session:
        existing = {c.name: c for c in (await session.scalars(select(m.Connection))).all()}
    connections = []
    for name, spec in _specs(suite).items():
        url = suite.urls[DEMO_CONNECTIONS[name]]
        if name in existing:
            row = await update_connection(
                db, vault, tenant_id, existing[name].id, base_url=url, credentials=spec["credentials"],
                settings=spec["settings"], webhook_secret=spec["webhook_secret"], status="ACTIVE",
            )  # fmt: skip
        else:
            row = await create_connection(
                db, vault, tenant_id, name=name, kind=spec["kind"], base_url=url, credentials=spec["credentials"],
                settings=spec["settings"], webhook_secret=spec["webhook_secret"],
            )  # fmt: skip
        connections.append(row)
        sim = suite.apps[DEMO_CONNECTIONS[name]].state.sim.config
        if hasattr(sim, "callback_url"):
            sim.callback_url = f"{hub_url}/webhooks/{row.id}"
        else:
            sim.webhook_url = f"{hub_url}/webhooks/{row.id}"
    runs = [run for row in connections for run in await start_sync(db, tenant_id, row.id, None, full=False)]
    queues = Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix)
    threading.Thread(
        target=_sync_when_serving, args=(hub_url, queues, tenant_id, runs, enqueue_sync), daemon=True
    ).start()
    return connections


def _sync_when_serving(hub_url: str, queues: Queues, tenant_id: uuid.UUID, runs: list[Any], enqueue: Any) -> None:
    """Queue the first syncs once the hub answers (so callbacks the upstreams send find it listening; and
    a process that only prepares the embedded mode, as tests do, never syncs behind their backs)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{hub_url}/healthz", timeout=1).status_code == 200:
                enqueue(queues, tenant_id, runs)
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
