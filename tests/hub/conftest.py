from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import create_app
from hub.runtime import Runtime
from hub.settings import Settings
from tests.factories import Actor, make_actor, make_tenant
from tests.hub.integration_support import Hub, drop_tenant, make_hub
from tests.hub.reliability_support import Processes, processes


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    rt = Runtime.create(settings)
    yield rt
    await rt.close()


@pytest.fixture
async def hub(runtime: Runtime) -> AsyncIterator[Hub]:
    """A tenant with an integrator and an HR user (:func:`tests.hub.integration_support.make_hub`),
    dropped after the test."""
    made = await make_hub(runtime.settings, runtime.db)
    yield made
    await drop_tenant(runtime.db, made.tenant)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime.settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub.test") as c:
        yield c


@pytest.fixture
async def tenant(runtime: Runtime) -> Any:
    return await make_tenant(runtime.db)


@pytest.fixture
async def hr(runtime: Runtime, tenant: Any) -> Actor:
    return await make_actor(runtime.db, runtime.settings, tenant, "hr")


@pytest.fixture
def actor_factory(runtime: Runtime) -> Any:
    async def make(tenant_id: Any, *roles: str, **kw: Any) -> Actor:
        return await make_actor(runtime.db, runtime.settings, tenant_id, *roles, **kw)

    return make


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Processes]:
    """Real processes (hubs, workers, a private Redis) started by a test, all stopped after it."""
    with processes(tmp_path) as started:
        yield started
