"""``hub connectors`` and ``hub connections``: what integrators run from a terminal.

    hub connectors validate FILE             check a manifest; every problem with its line and path
    hub connectors register FILE --tenant    register it for a tenant (then create connections of its kind)
    hub connectors list [--tenant]           the kinds a tenant can connect
    hub connections create --tenant ...      configure a connection (credentials sealed at rest)
    hub connections list --tenant            connections with their sync status per model
    hub connections sync NAME --tenant       queue sync runs (``--inline`` runs them here, no worker needed)

Registered with one ``app.add_typer(...)`` in `hub.cli`; settings come from ``HUB_*`` variables.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import select

from connectors.errors import ManifestError
from connectors.manifest import load_manifest_file
from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from schema.errors import HubError

__all__ = ["app"]

app = typer.Typer(add_completion=False)
connectors_cli = typer.Typer(help="Connector kinds: validate and register manifests.", no_args_is_help=True)
connections_cli = typer.Typer(help="A tenant's connections: create, list, sync.", no_args_is_help=True)
app.add_typer(connectors_cli, name="connectors")
app.add_typer(connections_cli, name="connections")

console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from None


async def _tenant(db: Database, slug: str) -> uuid.UUID:
    async with db.system_session() as session:
        tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.slug == slug))).first()
    if tenant is None:
        err.print(f"[red]no tenant with slug {slug!r}[/red]")
        raise typer.Exit(1)
    return tenant.id


def _with_db(work: Any) -> Any:
    """Run ``work(db, vault)`` with the hub's database; hub errors print their code and exit 1."""
    from hub.services.crypto import PolicyVault

    settings = _settings()

    async def go() -> Any:
        db = Database(settings)
        try:
            return await work(db, PolicyVault.from_settings(settings, db), settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except HubError as exc:
        err.print(f"[red]{exc.code}:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from None


def _json_option(value: str | None, name: str) -> dict[str, Any]:
    """A JSON object given inline or as ``@file``."""
    if not value:
        return {}
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        data = json.loads(text)
    except ValueError as exc:
        err.print(f"[red]--{name} is not JSON:[/red] {exc}")
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        err.print(f"[red]--{name} must be a JSON object[/red]")
        raise typer.Exit(2)
    return data


def _problems(exc: ManifestError) -> None:
    # file:line:column: as compilers print, one problem per line, so editors and grep can jump to it
    for problem in exc.problems:
        where = f"{problem.line}:{problem.column}" if problem.line else "-"
        message = f"{escape(problem.path)}: {escape(problem.message)}"
        err.print(f"[red]{escape(exc.source)}:{where}[/red]: {message}", soft_wrap=True)
    err.print(f"{len(exc.problems)} problem(s)")


# --- connectors -----------------------------------------------------------------------------------------


@connectors_cli.command("validate")
def connectors_validate(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Validate a manifest (YAML or JSON); exit 1 listing every problem with its line and path."""
    try:
        manifest = load_manifest_file(file)
    except ManifestError as exc:
        _problems(exc)
        raise typer.Exit(1) from None
    console.print(f"[green]valid[/green]: {manifest.kind} {manifest.version} ({manifest.name})")
    for model, caps in sorted(manifest.capabilities.items()):
        console.print(f"  {model}: {', '.join(sorted(c.value for c in caps))}")
    if manifest.writes:
        console.print(f"  writes: {', '.join(sorted(manifest.writes))}")


@connectors_cli.command("register")
def connectors_register(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
) -> None:
    """Validate and register a manifest for a tenant."""
    from hub.services.connector_kinds import register_manifest

    async def work(db: Database, vault: Any, settings: Settings) -> Any:
        return await register_manifest(db, await _tenant(db, tenant), file.read_text(encoding="utf-8"), name=str(file))

    try:
        _row, manifest, created = _with_db(work)
    except ManifestError as exc:
        _problems(exc)
        raise typer.Exit(1) from None
    state = "registered" if created else "already registered"
    console.print(f"{state}: {manifest.kind} {manifest.version} for tenant {tenant}")


@connectors_cli.command("list")
def connectors_list(
    tenant: Annotated[str | None, typer.Option(help="Tenant slug (adds its manifests).")] = None,
) -> None:
    """The connector kinds (built-ins, plug-ins, and a tenant's manifests)."""
    from hub.services.connector_kinds import builtin_registry, known_kinds

    async def work(db: Database, vault: Any, settings: Settings) -> Any:
        return await known_kinds(db, await _tenant(db, tenant)) if tenant else builtin_registry().infos()

    table = Table("kind", "version", "source", "models", "writes")
    for info in _with_db(work):
        table.add_row(
            info.kind, info.version, info.source, ", ".join(info.capabilities), ", ".join(info.write_operations)
        )
    console.print(table)
    for problem in builtin_registry().problems:
        err.print(f"[yellow]skipped plug-in[/yellow] {problem.entry_point}: {problem.reason}")


# --- connections ----------------------------------------------------------------------------------------


@connections_cli.command("create")
def connections_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    name: Annotated[str, typer.Option(help="A name unique in the tenant.")],
    kind: Annotated[str, typer.Option(help="Connector kind (hr, dingtalk, wecom, feishu, mobile, a manifest's).")],
    base_url: Annotated[str, typer.Option(help="The upstream's API base URL.")],
    credentials: Annotated[str | None, typer.Option(help="JSON object of secrets, or @file.")] = None,
    settings: Annotated[str | None, typer.Option(help="JSON object of settings, or @file.")] = None,
    webhook_secret: Annotated[str | None, typer.Option(help="Secret the upstream signs webhooks with.")] = None,
) -> None:
    """Configure a connection; prints its id and webhook path."""
    from hub.services.connections import create_connection

    creds, options = _json_option(credentials, "credentials"), _json_option(settings, "settings")

    async def work(db: Database, vault: Any, config: Settings) -> Any:
        return await create_connection(
            db, vault, await _tenant(db, tenant), name=name, kind=kind, base_url=base_url,
            credentials=creds, settings=options, webhook_secret=webhook_secret,
        )  # fmt: skip

    row = _with_db(work)
    console.print(f"created {row.name} ({row.connector_kind}) {row.id}")
    console.print(f"webhooks: /webhooks/{row.id}")


@connections_cli.command("list")
def connections_list(tenant: Annotated[str, typer.Option(help="Tenant slug.")]) -> None:
    """Connections and the sync status of each model."""

    async def work(db: Database, vault: Any, settings: Settings) -> Any:
        tenant_id = await _tenant(db, tenant)
        async with db.session(tenant_id) as session:
            rows = (await session.scalars(select(m.Connection).order_by(m.Connection.created_at))).all()
            states = (await session.scalars(select(m.SyncState).order_by(m.SyncState.model))).all()
        return rows, states

    rows, states = _with_db(work)
    table = Table("name", "kind", "status", "id", "models")
    for row in rows:
        models = [f"{s.model}: {s.status}" for s in states if s.connection_id == row.id]
        table.add_row(row.name, row.connector_kind, row.status, str(row.id), "\n".join(models) or "-")
    console.print(table)


@connections_cli.command("sync")
def connections_sync(
    name: Annotated[str, typer.Argument(help="The connection's name.")],
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    model: Annotated[list[str] | None, typer.Option(help="A model to sync (repeatable; default: all).")] = None,
    full: Annotated[bool, typer.Option(help="Read everything and detect deletions.")] = False,
    inline: Annotated[bool, typer.Option(help="Run here and now instead of queueing jobs for a worker.")] = False,
) -> None:
    """Queue sync runs for a connection (or run them inline)."""
    from hub.services.sync import run_sync, start_sync

    async def work(db: Database, vault: Any, settings: Settings) -> Any:
        tenant_id = await _tenant(db, tenant)
        async with db.session(tenant_id) as session:
            row = (await session.scalars(select(m.Connection).where(m.Connection.name == name))).first()
        if row is None:
            err.print(f"[red]no connection named {name!r}[/red]")
            raise typer.Exit(1)
        runs = await start_sync(db, tenant_id, row.id, model or None, full=full)
        if not inline:
            from hub.jobs.sync import enqueue_sync
            from hub.queues import Queues
            from hub.redis import sync_redis

            enqueue_sync(Queues(sync_redis(settings.redis_url), prefix=settings.redis_prefix), tenant_id, runs)
            return [{"model": r.model, "status": "QUEUED", "run_id": str(r.id)} for r in runs]
        return [await run_sync(db, vault, tenant_id, row.id, r.model, run_id=r.id, full=full) for r in runs]

    for outcome in _with_db(work):
        counts = ", ".join(
            f"{k} {outcome[k]}" for k in ("read", "created", "updated", "deleted", "quarantined") if k in outcome
        )
        console.print(f"{outcome['model']}: {outcome['status']}" + (f" ({counts})" if counts else ""))
