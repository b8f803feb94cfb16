"""The ``hub`` command line.

    hub serve                 run the HTTP/WebSocket server (``--embedded`` for the quick start)
    hub worker                run an RQ worker on the hub's queues
    hub migrate               apply database migrations
    hub tenants create|list   manage tenants
    hub users create|token    manage users and mint their bearer tokens
    hub keys create|revoke    manage integrator API keys
    hub schema export         print or write the GraphQL SDL

Every command reads its settings from ``HUB_*`` environment variables (see README).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from schema.context import ROLES

app = typer.Typer(help="The recruiting integration hub.", no_args_is_help=True, add_completion=False)
tenants = typer.Typer(help="Create and list tenants.", no_args_is_help=True)
users = typer.Typer(help="Create users and mint their bearer tokens.", no_args_is_help=True)
keys = typer.Typer(help="Create and revoke integrator API keys.", no_args_is_help=True)
schema_cli = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
app.add_typer(tenants, name="tenants")
app.add_typer(users, name="users")
app.add_typer(keys, name="keys")
app.add_typer(schema_cli, name="schema")

console = Console()
err = Console(stderr=True)


def _settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env(**overrides)
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


async def _tenant_id(db: Database, slug: str) -> uuid.UUID:
    async with db.system_session() as session:
        tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.slug == slug))).first()
    if tenant is None:
        err.print(f"[red]no tenant with slug {slug!r}[/red]")
        raise typer.Exit(1)
    return tenant.id


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default HUB_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default HUB_PORT).")] = None,
    embedded: Annotated[bool, typer.Option(help="Quick start: SQLite, in-process Redis, demo data.")] = False,
    workers: Annotated[int, typer.Option(help="Uvicorn worker processes (production).")] = 1,
) -> None:
    """Run the hub's HTTP and WebSocket server."""
    import uvicorn

    if embedded:
        from hub.embedded import prepare_embedded

        settings, banner = prepare_embedded(host=host, port=port)
        console.print(banner)
        from hub.app import create_app
        from hub.worker import EmbeddedWorker

        worker = EmbeddedWorker(settings)
        worker.start()
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")
        return
    settings = _settings()
    uvicorn.run(
        "hub.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        proxy_headers=True,
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty.")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name shown in RQ's registry.")] = None,
) -> None:
    """Run an RQ worker on the hub's queues (high, default, low)."""
    from hub.worker import run_worker

    run_worker(_settings(), burst=burst, name=name)


@app.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision (default: every head).")] = "heads") -> None:
    """Apply database migrations up to REVISION."""
    from hub.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"migrated to {revision}")


@tenants.command("create")
def tenants_create(slug: str, name: Annotated[str | None, typer.Option(help="Display name.")] = None) -> None:
    """Create a tenant with SLUG."""

    async def go() -> uuid.UUID:
        db = Database(_settings())
        try:
            async with db.system_session() as session:
                tenant = m.Tenant(slug=slug, name=name or slug)
                session.add(tenant)
                await session.commit()
                return tenant.id
        finally:
            await db.dispose()

    try:
        tenant_id = _run(go())
    except Exception as exc:  # integrity errors: duplicate slug
        err.print(f"[red]could not create tenant {slug!r}:[/red] {type(exc).__name__}")
        raise typer.Exit(1) from None
    console.print(f"tenant {slug} created: {tenant_id}")


@tenants.command("list")
def tenants_list() -> None:
    """List tenants."""

    async def go() -> list[m.Tenant]:
        db = Database(_settings())
        try:
            async with db.system_session() as session:
                return list((await session.scalars(select(m.Tenant).order_by(m.Tenant.slug))).all())
        finally:
            await db.dispose()

    table = Table("slug", "id", "name", "status")
    for t in _run(go()):
        table.add_row(t.slug, str(t.id), t.name, t.status)
    console.print(table)


def _roles(value: str) -> list[str]:
    roles = [r.strip() for r in value.split(",") if r.strip()]
    unknown = sorted(set(roles) - set(ROLES))
    if not roles or unknown:
        raise typer.BadParameter(f"roles must be a comma-separated subset of {', '.join(ROLES)}")
    return roles


@users.command("create")
def users_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    email: Annotated[str, typer.Option(help="The user's email (unique per tenant).")],
    roles: Annotated[str, typer.Option(help=f"Comma-separated roles: {', '.join(ROLES)}.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
) -> None:
    """Create a user and print a bearer token for them."""
    role_list = _roles(roles)
    settings = _settings()

    async def go() -> str:
        from hub.services.auth import mint_token

        db = Database(settings)
        try:
            tenant_id = await _tenant_id(db, tenant)
            async with db.session(tenant_id) as session:
                principal = m.Principal(kind="user", name=name or email, email=email, roles=role_list)
                session.add(principal)
                await session.commit()
            return mint_token(settings, principal)
        finally:
            await db.dispose()

    console.print(_run(go()), soft_wrap=True)


@users.command("token")
def users_token(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    email: Annotated[str, typer.Option(help="The user's email.")],
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds (default HUB_JWT_TTL_SECONDS).")] = 0,
) -> None:
    """Mint a fresh bearer token for an existing user."""
    settings = _settings()

    async def go() -> str:
        from hub.services.auth import mint_token

        db = Database(settings)
        try:
            tenant_id = await _tenant_id(db, tenant)
            async with db.session(tenant_id) as session:
                principal = (await session.scalars(select(m.Principal).where(m.Principal.email == email))).first()
            if principal is None:
                err.print(f"[red]no user {email!r} in {tenant}[/red]")
                raise typer.Exit(1)
            return mint_token(settings, principal, ttl=timedelta(seconds=ttl) if ttl else None)
        finally:
            await db.dispose()

    console.print(_run(go()), soft_wrap=True)


@keys.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="What the key is for.")],
    roles: Annotated[str, typer.Option(help="Comma-separated roles.")] = "integrator",
    days: Annotated[int, typer.Option(help="Expire after this many days (0: never).")] = 365,
) -> None:
    """Create an integrator API key; the secret is printed once and never stored."""
    role_list = _roles(roles)

    async def go() -> str:
        from hub.services.auth import hash_secret, new_api_key

        db = Database(_settings())
        try:
            tenant_id = await _tenant_id(db, tenant)
            issued = new_api_key()
            async with db.session(tenant_id) as session:
                principal = m.Principal(kind="integrator", name=name, roles=role_list)
                session.add(principal)
                await session.flush()
                session.add(
                    m.ApiKey(
                        principal_id=principal.id,
                        prefix=issued.prefix,
                        name=name,
                        secret_hash=hash_secret(issued.secret),
                        expires_at=datetime.now(UTC) + timedelta(days=days) if days else None,
                    )
                )
                await session.commit()
            return issued.token
        finally:
            await db.dispose()

    console.print(_run(go()), soft_wrap=True)


@keys.command("revoke")
def keys_revoke(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after hubk_).")],
) -> None:
    """Revoke an API key by its prefix."""

    async def go() -> bool:
        db = Database(_settings())
        try:
            tenant_id = await _tenant_id(db, tenant)
            async with db.session(tenant_id) as session:
                key = (await session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == prefix))).first()
                if key is None:
                    return False
                key.revoked_at = datetime.now(UTC)
                await session.commit()
                return True
        finally:
            await db.dispose()

    if not _run(go()):
        err.print(f"[red]no key with prefix {prefix!r} in {tenant}[/red]")
        raise typer.Exit(1)
    console.print(f"key {prefix} revoked")


@schema_cli.command("export")
def schema_export(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")] = None,
) -> None:
    """Print (or write) the GraphQL SDL."""
    from schema.api import sdl

    text = sdl()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


if __name__ == "__main__":
    app()
