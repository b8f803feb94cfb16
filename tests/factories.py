"""Factories for tests: tenants, principals with tokens, and a GraphQL caller."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from hub.db import Database
from hub.db import models as m
from hub.services.auth import mint_token
from hub.services.crypto import PolicyVault
from hub.services.store import SqlStore
from hub.settings import Settings
from schema.context import Viewer


@dataclass
class Actor:
    tenant_id: uuid.UUID
    principal: m.Principal
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token}"}


async def make_tenant(db: Database, slug: str | None = None) -> uuid.UUID:
    async with db.system_session() as session:
        tenant = m.Tenant(slug=slug or f"t-{uuid.uuid4().hex[:10]}", name="Test tenant")
        session.add(tenant)
        await session.commit()
        return tenant.id


async def make_actor(
    db: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    *roles: str,
    candidate_id: uuid.UUID | None = None,
    kind: str = "user",
) -> Actor:
    async with db.session(tenant_id) as session:
        principal = m.Principal(
            kind=kind,
            name=f"{'-'.join(roles)} user",
            roles=list(roles),
            email=f"{uuid.uuid4().hex[:8]}@example.com",
            candidate_id=candidate_id,
        )
        session.add(principal)
        await session.commit()
    return Actor(tenant_id, principal, mint_token(settings, principal))


def gql_ok(response: Any) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    return body["data"]


@asynccontextmanager
async def open_store(db: Database, settings: Settings, tenant_id: uuid.UUID, *roles: str) -> AsyncIterator[SqlStore]:
    """The store as a staff member of ``tenant_id`` uses it, with the tenant's real vault."""
    vault = PolicyVault.from_settings(settings, db)
    await vault.prepare(tenant_id)
    viewer = Viewer(
        principal_id=uuid.uuid4(), tenant_id=tenant_id, kind="user", name="test", roles=frozenset(roles or ("hr",))
    )
    async with db.session(tenant_id) as session:
        yield SqlStore(session, viewer, vault)
