"""The ``hub`` CLI against the test database."""

from __future__ import annotations

import uuid

from typer.testing import CliRunner

from hub.cli import app
from hub.settings import Settings


def _env(settings: Settings) -> dict[str, str]:
    return {
        "HUB_DATABASE_URL": settings.database_url,
        "HUB_JWT_SECRET": settings.jwt_secret,
        "HUB_REDIS_URL": settings.redis_url,
        "HUB_REDIS_PREFIX": settings.redis_prefix,
    }


def test_tenants_users_and_keys(settings: Settings) -> None:
    runner = CliRunner()
    env = _env(settings)
    slug = f"acme-{uuid.uuid4().hex[:6]}"
    result = runner.invoke(app, ["tenants", "create", slug, "--name", "Acme"], env=env)
    assert result.exit_code == 0, result.output
    duplicate = runner.invoke(app, ["tenants", "create", slug], env=env)
    assert duplicate.exit_code == 1
    listed = runner.invoke(app, ["tenants", "list"], env=env)
    assert slug in listed.output
    user = runner.invoke(
        app, ["users", "create", "--tenant", slug, "--email", "hr@acme.example", "--roles", "hr"], env=env
    )
    assert user.exit_code == 0 and user.output.count(".") >= 2  # a JWT
    bad_role = runner.invoke(
        app, ["users", "create", "--tenant", slug, "--email", "x@acme.example", "--roles", "superuser"], env=env
    )
    assert bad_role.exit_code == 2
    key = runner.invoke(app, ["keys", "create", "--tenant", slug, "--name", "ats-sync"], env=env)
    assert key.exit_code == 0 and key.output.startswith("hubk_")
    prefix = key.output.strip().split("_")[1]
    assert runner.invoke(app, ["keys", "revoke", "--tenant", slug, prefix], env=env).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", "--tenant", "no-such-tenant", prefix], env=env).exit_code == 1


def test_configuration_errors_are_reported(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["tenants", "list"], env={"HUB_JWT_SECRET": "short", "HUB_ENV": "production"})
    assert result.exit_code == 2 and "HUB_JWT_SECRET" in result.output


def test_schema_export_and_help() -> None:
    runner = CliRunner()
    assert "type Query" in runner.invoke(app, ["schema", "export"]).output
    for command in (["--help"], ["serve", "--help"], ["worker", "--help"], ["keys", "--help"]):
        assert runner.invoke(app, command).exit_code == 0
