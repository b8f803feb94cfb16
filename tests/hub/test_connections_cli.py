"""``hub connectors`` and ``hub connections`` against the test database and a simulated HR system."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from hub.cli import app
from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from simulators.hr import create_hr_app
from simulators.seed import Sizes, build_world
from tests.hub.integration_support import serving

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"


def _env(settings: Settings) -> dict[str, str]:
    return {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_JWT_SECRET": settings.jwt_secret,
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_REDIS_PREFIX": settings.redis_prefix,
        "HUB_KEK": settings.kek,
    }


def test_validate_reports_every_problem_with_its_line(tmp_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(app, ["connectors", "validate", str(EXAMPLES / "moka_style.yaml")])
    assert good.exit_code == 0 and "valid" in good.output and "moka_style 1.2.0" in good.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("manifest_version: 1\nkind: Bad Kind\nname: x\nversion: '1'\nauth: {type: none}\nmodels: 3\n")
    result = runner.invoke(app, ["connectors", "validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:2:1: $.kind" in result.output and f"{broken}:6:1: $.models" in result.output


def test_register_create_list_and_sync_inline(settings: Settings) -> None:
    runner, env = CliRunner(), _env(settings)
    slug = f"cli-{uuid.uuid4().hex[:6]}"
    assert runner.invoke(app, ["tenants", "create", slug], env=env).exit_code == 0
    registered = runner.invoke(
        app, ["connectors", "register", str(EXAMPLES / "greenhouse_style.yaml"), "--tenant", slug], env=env
    )
    assert registered.exit_code == 0 and "registered: greenhouse_style 1.0.0" in registered.output
    again = runner.invoke(
        app, ["connectors", "register", str(EXAMPLES / "greenhouse_style.yaml"), "--tenant", slug], env=env
    )
    assert "already registered" in again.output
    listed = runner.invoke(app, ["connectors", "list", "--tenant", slug], env=env)
    assert "greenhouse_style" in listed.output and "dingtalk" in listed.output

    world = build_world(3, Sizes(candidates=12, jobs=2))
    hr_app = create_hr_app(world)
    with serving(hr_app) as (server,):
        config = hr_app.state.sim.config
        create = ["connections", "create", "--tenant", slug, "--name", "ats", "--kind", "hr", "--base-url",
                  server.url, "--credentials", json.dumps({"api_key": config.api_key})]  # fmt: skip
        created = runner.invoke(app, create, env=env)
        assert created.exit_code == 0 and "/webhooks/" in created.output
        refused = runner.invoke(app, [*create[:5], "other", *create[6:9], server.url, "--credentials", "{}"], env=env)
        assert refused.exit_code == 1 and "VALIDATION_FAILED" in refused.output
        synced = runner.invoke(app, ["connections", "sync", "ats", "--tenant", slug, "--inline",
                                     "--model", "job", "--model", "candidate"], env=env)  # fmt: skip
    assert synced.exit_code == 0, synced.output
    assert "job: DONE" in synced.output and "candidate: DONE" in synced.output
    status = runner.invoke(app, ["connections", "list", "--tenant", slug], env=env)
    assert "ats" in status.output and "candidate: DONE" in status.output
    asyncio.run(_drop(settings, slug))


async def _drop(settings: Settings, slug: str) -> None:
    db = Database(settings)
    try:
        async with db.system_session() as session:
            await session.execute(delete(m.Tenant).where(m.Tenant.slug == slug))
            await session.commit()
    finally:
        await db.dispose()
