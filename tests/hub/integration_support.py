"""Helpers of the integration tests (sync, webhooks, connections, outbound): simulators on loopback, a
tenant with an integrator, connections to each simulator, a real RQ worker drained once, GraphQL calls."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from rq.serializers import JSONSerializer
from sqlalchemy import func, select

from hub import jobs
from hub.db import Database
from hub.db import models as m
from hub.queues import Queues
from hub.services.connections import create_connection
from hub.services.crypto import PolicyVault
from hub.settings import Settings
from hub.worker import _ThreadWorker
from simulators.server import RunningServer, run_in_thread
from simulators.wecom import INTERVIEW_TEMPLATE
from tests.factories import Actor, make_actor, make_tenant

HISTORY = {"history_start": "2024-10-01T00:00:00Z"}
#: Fast retries for tests: three attempts, tens of milliseconds apart.
QUICK = {"retry_attempts": 3, "retry_base_delay": 0.01}


@contextmanager
def serving(*apps: Any) -> Iterator[list[RunningServer]]:
    servers = [run_in_thread(app) for app in apps]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()


def sim(server: RunningServer | str, path: str, body: Any = None, method: str = "POST") -> Any:
    """Drive a simulator's ``/_sim`` controls (as a person acting in the upstream system would)."""
    url = server if isinstance(server, str) else server.url
    response = httpx.request(method, url + path, json=body, timeout=30)
    assert response.status_code < 400, response.text
    return response.json()


def work(settings: Settings) -> None:
    """Drain the hub's queues with a real RQ worker (the embedded mode's thread worker), once."""
    queues = Queues(_redis(settings), prefix=settings.redis_prefix)
    jobs.configure(settings)
    _ThreadWorker(queues.all(), connection=queues.connection, serializer=JSONSerializer).work(burst=True)


async def drain(settings: Settings) -> None:
    await asyncio.to_thread(work, settings)


def _redis(settings: Settings) -> Any:
    from hub.redis import sync_redis

    return sync_redis(settings.redis_url)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@dataclass
class Hub:
    """A tenant with an integrator (and an HR user), and the services the tests call directly."""

    settings: Settings
    db: Database
    vault: PolicyVault
    tenant: uuid.UUID
    integrator: Actor
    hr: Actor

    async def connect(self, name: str, kind: str, base_url: str, credentials: dict[str, str], **kw: Any) -> Any:
        settings = {**QUICK, **kw.pop("settings", {})}
        return await create_connection(
            self.db, self.vault, self.tenant, name=name, kind=kind, base_url=base_url, credentials=credentials,
            settings=settings, **kw,
        )  # fmt: skip

    async def count(self, model: Any, *where: Any) -> int:
        async with self.db.session(self.tenant) as session:
            return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar() or 0)

    async def rows(self, model: Any, *where: Any) -> list[Any]:
        async with self.db.session(self.tenant) as session:
            return list((await session.scalars(select(model).where(*where))).all())

    async def events(self, type_: str) -> list[m.Event]:
        return await self.rows(m.Event, m.Event.type == type_)


async def drop_tenant(db: Database, tenant_id: uuid.UUID) -> None:
    """Remove a test tenant and, by cascade, everything it owns (these tests write many rows; other tests
    of the session scan whole tables)."""
    from sqlalchemy import delete

    async with db.system_session() as session:
        await session.execute(delete(m.Tenant).where(m.Tenant.id == tenant_id))
        await session.commit()


async def make_hub(settings: Settings, db: Database) -> Hub:
    tenant = await make_tenant(db)
    integrator = await make_actor(db, settings, tenant, "integrator", kind="integrator")
    hr = await make_actor(db, settings, tenant, "hr")
    vault = PolicyVault.from_settings(settings, db)
    await vault.prepare(tenant)
    return Hub(settings, db, vault, tenant, integrator, hr)


# --- connections to each simulator ------------------------------------------------------------------------


def hr_credentials(app: Any) -> dict[str, str]:
    return {"api_key": app.state.sim.config.api_key}


async def connect_hr(hub: Hub, server: RunningServer, app: Any, **settings: Any) -> Any:
    return await hub.connect(
        "hr",
        "hr",
        server.url,
        hr_credentials(app),
        settings=settings,
        webhook_secret=app.state.sim.config.webhook_secret,
    )


async def connect_mobile(hub: Hub, server: RunningServer, app: Any) -> Any:
    config = app.state.sim.config
    return await hub.connect(
        "mobile", "mobile", server.url, {"api_key": config.api_key}, webhook_secret=config.webhook_secret
    )


async def connect_dingtalk(hub: Hub, server: RunningServer, app: Any) -> Any:
    c = app.state.sim.config
    credentials = {
        "app_key": c.app_key,
        "app_secret": c.app_secret,
        "callback_token": c.callback_token,
        "callback_aes_key": c.callback_aes_key,
    }
    settings = {"process_codes": ["PROC-SIM-INTERVIEW-2ND"], "default_department_id": "1", **HISTORY}
    return await hub.connect("dingtalk", "dingtalk", server.url, credentials, settings=settings)


async def connect_wecom(hub: Hub, server: RunningServer, app: Any) -> Any:
    c = app.state.sim.config
    credentials = {
        "corp_id": c.corp_id,
        "corp_secret": c.corp_secret,
        "callback_token": c.callback_token,
        "callback_aes_key": c.callback_aes_key,
    }
    settings = {"template_ids": [INTERVIEW_TEMPLATE], "report_field_id": "Textarea-1515", **HISTORY}
    return await hub.connect("wecom", "wecom", server.url, credentials, settings=settings)


async def connect_feishu(hub: Hub, server: RunningServer, app: Any) -> Any:
    c = app.state.sim.config
    credentials = {
        "app_id": c.app_id,
        "app_secret": c.app_secret,
        "encrypt_key": c.encrypt_key,
        "verification_token": c.verification_token,
    }
    return await hub.connect(
        "feishu", "feishu", server.url, credentials, settings={"approval_codes": [c.approval_code], **HISTORY}
    )


def gql(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body["data"]


def gql_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("errors"), body
    return body["errors"][0]
