"""Which connector kinds a tenant can use: the built-ins (and installed plug-ins), plus its manifests.

The process keeps one `connectors.registry.Registry` for the built-ins and entry-point plug-ins. Manifests
are per tenant: `register_manifest` validates one and stores it as a ``ConnectorDefinition`` row (kind and
version unique per tenant); `connector_class` answers the class for a kind, building manifest connector
classes from the stored JSON once per distinct manifest (cached by digest), so every worker process sees
what any process registered without restarting.

The newest registration of a kind wins: registering version 1.1.0 of a manifest after fixing a mapping
makes every connection of that kind use it (and quarantined records can then be replayed).

Example:
    >>> row, manifest, created = await register_manifest(db, tenant_id, Path("acme.yaml").read_text())
    >>> cls = await connector_class(db, tenant_id, "acme")
"""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from connectors.base import Connector, ConnectorInfo
from connectors.errors import ManifestError, ManifestProblem, UnknownConnector
from connectors.manifest import Manifest, load_manifest
from connectors.manifest_connector import ManifestConnector
from connectors.registry import Registry
from hub.db import Database
from hub.db import models as m
from schema.errors import Conflict

__all__ = ["builtin_registry", "connector_class", "known_kinds", "latest_definitions", "register_manifest"]


@functools.cache
def builtin_registry() -> Registry:
    """Built-in connectors and installed plug-ins (entry points), loaded once per process."""
    return Registry()


def _digest(data: Mapping[str, Any]) -> str:
    # The same digest `connectors.manifest.Manifest` computes, from the stored JSON.
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_classes: dict[str, type[ManifestConnector]] = {}


def _class_for(data: Mapping[str, Any]) -> type[ManifestConnector]:
    digest = _digest(data)
    cls = _classes.get(digest)
    if cls is None:
        cls = _classes[digest] = ManifestConnector.from_manifest(load_manifest(dict(data)))
    return cls


async def register_manifest(
    db: Database, tenant_id: uuid.UUID, source: str | bytes | Mapping[str, Any], *, name: str = "<manifest>"
) -> tuple[m.ConnectorDefinition, Manifest, bool]:
    """Validate and store a manifest; answer (row, manifest, whether it was new).

    Registering the same kind and version again with the same content changes nothing; with other
    content it is a conflict (bump the version).

    Raises:
        ManifestError: the manifest is invalid, or its kind is a built-in's.
        Conflict: the kind and version exist with other content.
    """
    manifest = load_manifest(source, name=name)
    if manifest.kind in builtin_registry():
        raise ManifestError(
            [ManifestProblem("$.kind", f"kind {manifest.kind!r} belongs to a built-in connector; choose another")],
            source=name,
        )
    async with db.session(tenant_id) as session:
        existing = (
            await session.scalars(
                select(m.ConnectorDefinition).where(
                    m.ConnectorDefinition.kind == manifest.kind, m.ConnectorDefinition.version == manifest.version
                )
            )
        ).first()
        if existing is not None:
            if existing.manifest is not None and _digest(existing.manifest) == manifest.digest:
                return existing, manifest, False
            raise Conflict(
                f"{manifest.kind} version {manifest.version} is already registered with other content; "
                "bump the manifest's version",
                field="manifest",
            )
        row = m.ConnectorDefinition(
            kind=manifest.kind,
            version=manifest.version,
            source="manifest",
            manifest=manifest.data,
            capabilities={model: sorted(c.value for c in caps) for model, caps in manifest.capabilities.items()},
        )
        session.add(row)
        await session.commit()
    _classes.setdefault(manifest.digest, ManifestConnector.from_manifest(manifest))
    return row, manifest, True


async def latest_definitions(db: Database, tenant_id: uuid.UUID) -> dict[str, m.ConnectorDefinition]:
    """The newest registered manifest of each kind."""
    async with db.session(tenant_id) as session:
        rows = (
            await session.scalars(
                select(m.ConnectorDefinition)
                .where(m.ConnectorDefinition.source == "manifest")
                .order_by(m.ConnectorDefinition.created_at, m.ConnectorDefinition.id)
            )
        ).all()
    return {row.kind: row for row in rows}


async def connector_class(db: Database, tenant_id: uuid.UUID, kind: str) -> type[Connector]:
    """The connector class of ``kind`` for this tenant; `UnknownConnector` otherwise."""
    registry = builtin_registry()
    if kind in registry:
        return registry.get(kind)
    async with db.session(tenant_id) as session:
        row = (
            await session.scalars(
                select(m.ConnectorDefinition)
                .where(m.ConnectorDefinition.kind == kind, m.ConnectorDefinition.source == "manifest")
                .order_by(m.ConnectorDefinition.created_at.desc(), m.ConnectorDefinition.id.desc())
            )
        ).first()
    if row is None or row.manifest is None:
        raise UnknownConnector(kind, known=registry.kinds())
    return _class_for(row.manifest)


async def known_kinds(db: Database, tenant_id: uuid.UUID) -> list[ConnectorInfo]:
    """What the tenant can connect: built-ins and plug-ins, then its newest manifests."""
    infos = builtin_registry().infos()
    for _kind, row in sorted((await latest_definitions(db, tenant_id)).items()):
        if row.manifest is not None:
            infos.append(_class_for(row.manifest).info())
    return infos
