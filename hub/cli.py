"""The ``hub`` command line.

    hub serve                 run the HTTP/WebSocket server (``--embedded`` for the quick start)
    hub worker                run an RQ worker on the hub's queues
    hub migrate               apply database migrations
    hub tenants create|list   manage tenants
    hub users create|token    manage users and mint their bearer tokens
    hub keys create|revoke    manage integrator API keys
    hub schema export         print or write the GraphQL SDL
    hub connectors ...        validate, register and list connector kinds (hub.cli_connectors)
    hub connections ...       create, list and sync a tenant's connections

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

from hub.cli_connectors import app as connectors_and_connections
from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from schema.context import ROLES

app = typer.Typer(help="The recruiting integration hub.", no_args_is_help=True, add_completion=False)
tenants = typer.Typer(help="Create and list tenants.", no_args_is_help=True)
users = typer.Typer(help="Create users and mint their bearer tokens.", no_args_is_help=True)
keys = typer.Typer(
    help="Integrator API keys (create, revoke) and tenant data keys (rotate, rewrap, usage, shred).",
    no_args_is_help=True,
)
schema_cli = typer.Typer(help="The GraphQL schema.", no_args_is_help=True)
app.add_typer(tenants, name="tenants")
app.add_typer(users, name="users")
app.add_typer(keys, name="keys")
app.add_typer(schema_cli, name="schema")

console = Console()
err = Console(stderr=True)

#: Seconds a stopping server (SIGTERM) waits for in-flight requests and open streams before cutting them
#: (within Docker's default 10 s stop timeout).
GRACEFUL_SHUTDOWN_SECONDS = 5


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
        typer.echo(banner)  # plain: a wrapped token could not be copied
        from hub.app import create_app
        from hub.worker import EmbeddedWorker

        worker = EmbeddedWorker(settings)
        worker.start()
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="warning",
            ws_per_message_deflate=False,
        )
        return
    settings = _settings()
    uvicorn.run(
        "hub.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level=settings.log_level,
        # Events are a few hundred bytes; per-message deflate would cost every subscriber a
        # compressor (about 40 KiB) and each push a compression. See bench/events_fanout.py.
        ws_per_message_deflate=False,
        proxy_headers=True,
        # SSE subscriptions never end by themselves: without a bound, SIGTERM would wait for every
        # client to hang up. After this, open streams are cut; their clients resume with their cursor.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty.")] = False,
    name: Annotated[str | None, typer.Option(help="Worker name shown in RQ's registry.")] = None,
    heartbeat: Annotated[
        int | None, typer.Option(min=1, help="Seconds between renewals of the running job's lease [default: 10].")
    ] = None,
    lease_grace: Annotated[
        int | None,
        typer.Option(min=1, help="Seconds after its last renewal that a dead worker's job is retried [default: 30]."),
    ] = None,
    maintenance: Annotated[
        int | None, typer.Option(min=1, help="Seconds between looks for abandoned jobs [default: 30].")
    ] = None,
) -> None:
    """Run an RQ worker on the hub's queues (high, default, low)."""
    from hub.worker import run_worker

    intervals = {"heartbeat": heartbeat, "lease_grace": lease_grace, "maintenance": maintenance}
    run_worker(_settings(), burst=burst, name=name, **{k: v for k, v in intervals.items() if v is not None})


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


def _kek() -> Any:
    from hub.services.crypto import kek_from_settings

    kek = kek_from_settings(_settings())
    if kek is None:
        err.print("[red]no key-encryption key: set HUB_KEK or HUB_KEK_FILE[/red]")
        raise typer.Exit(2)
    return kek


@keys.command("rotate")
def keys_rotate(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    settle: Annotated[float, typer.Option(help="Seconds to wait for every process to load the new key.")] = 35.0,
) -> None:
    """Rotate a tenant's data key: add it decrypt-only, wait, promote it, then enqueue re-encryption."""
    from hub.queues import Queues
    from hub.redis import sync_redis
    from hub.services.keys import add_data_key, promote_data_key

    settings = _settings()
    kek = _kek()

    async def go() -> tuple[uuid.UUID, str]:
        db = Database(settings)
        try:
            tenant_id = await _tenant_id(db, tenant)
            key_id = await add_data_key(db, kek, tenant_id)
            console.print(f"added data key {key_id} (decrypt-only); waiting {settle:.0f} s for every process")
            await asyncio.sleep(settle)
            await promote_data_key(db, kek, tenant_id, key_id)
            return tenant_id, key_id
        finally:
            await db.dispose()

    tenant_id, key_id = _run(go())
    queues = Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix)
    job = queues.enqueue(
        "hub.jobs.reencrypt_tenant",
        str(tenant_id),
        idempotency_key=f"reencrypt:{key_id}",
        queue="low",
        timeout=6 * 3600,
    )
    console.print(f"data key {key_id} is primary; re-encryption job {job.id} enqueued")


@keys.command("rewrap")
def keys_rewrap(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """Re-wrap a tenant's data keys with the first key in HUB_KEK (KEK rotation: list the new
    key first and keep the old one after it until every tenant is re-wrapped)."""
    from hub.services.keys import rewrap_tenant

    kek = _kek()

    async def go() -> int:
        db = Database(_settings())
        try:
            return await rewrap_tenant(db, kek, kek, await _tenant_id(db, tenant))
        finally:
            await db.dispose()

    console.print(f"re-wrapped {_run(go())} data keys under KEK {kek.key_id}")


@keys.command("usage")
def keys_usage(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """How many stored values each of a tenant's data keys protects."""
    from hub.services.keys import key_usage

    async def go() -> tuple[dict[str, int], dict[str, str]]:
        db = Database(_settings())
        try:
            tenant_id = await _tenant_id(db, tenant)
            async with db.session(tenant_id) as session:
                status = {r.key_id: r.status for r in (await session.scalars(select(m.DataKey))).all()}
            return await key_usage(db, tenant_id), status
        finally:
            await db.dispose()

    usage, status = _run(go())
    table = Table("key", "status", "values")
    for key_id, count in usage.items():
        table.add_row(key_id, status[key_id], str(count))
    console.print(table)


@keys.command("shred")
def keys_shred(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the tenant's data becomes unreadable for good.")] = False,
) -> None:
    """Crypto-shred a tenant: delete its data keys and blind-index key."""
    from hub.services.keys import shred_tenant

    if not yes:
        err.print("[red]refusing without --yes: every encrypted value of the tenant becomes unreadable[/red]")
        raise typer.Exit(2)

    async def go() -> int:
        db = Database(_settings())
        try:
            return await shred_tenant(db, await _tenant_id(db, tenant))
        finally:
            await db.dispose()

    console.print(f"deleted {_run(go())} data keys of {tenant}; its encrypted data is now unreadable")


audit = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit, name="audit")
app.add_typer(connectors_and_connections)  # hub connectors ..., hub connections ...


@audit.command("verify")
def audit_verify(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """Check every link of a tenant's hash-chained audit log; exit 1 if a row was changed or removed."""
    from hub.services.audit import verify_tenant

    async def go() -> Any:
        db = Database(_settings())
        try:
            return await verify_tenant(db, await _tenant_id(db, tenant))
        finally:
            await db.dispose()

    verdict = _run(go())
    if verdict.ok:
        console.print(f"audit chain intact: {verdict.checked} entries")
        return
    err.print(f"[red]audit chain broken at seq {verdict.first_bad_seq}: {verdict.kind}: {verdict.problem}[/red]")
    raise typer.Exit(1)


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
