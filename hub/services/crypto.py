"""The tenant's field protection at the store's edge: encryption, blind indexes, policy.

:class:`PolicyVault` is the :class:`~hub.services.vault.Vault` the hub runs with. Per
tenant it holds the key ring (data keys unwrapped by the key-encryption key), the
blind-index root secret, and the tenant's :class:`~policies.PolicySet`, loaded once by
:meth:`PolicyVault.prepare` and cached for ``cache_seconds`` (a rotated key reaches every
process within that time, which is why a new key starts decrypt-only).

A tenant's first data key and index key are created on first use. Deleting a tenant's
``data_keys`` rows and its index key makes every ciphertext and blind index of the tenant
useless (crypto-shredding).
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.errors import ConfigurationError
from hub.settings import Settings
from policies import BlindIndexer, DataKey, FieldCipher, KeyRing, KeyStatus, LocalKek, PolicySet
from policies.crypto import looks_encrypted

__all__ = ["PolicyVault", "TenantProtection", "kek_from_settings"]

_INDEX_CONTEXT = b"hub.blind-index-root.v1|"


def kek_from_settings(settings: Settings) -> LocalKek | None:
    if settings.kek_file:
        return LocalKek.from_file(settings.kek_file)
    if settings.kek:
        return LocalKek.from_string(settings.kek, origin="HUB_KEK")
    return None


@dataclass
class TenantProtection:
    tenant_id: uuid.UUID
    policy: PolicySet
    cipher: FieldCipher | None
    indexer: BlindIndexer | None
    expires: float


def _to_policy_key(row: m.DataKey) -> DataKey:
    return DataKey(
        key_id=row.key_id,
        tenant_id=str(row.tenant_id),
        status=KeyStatus(row.status),
        created_at=row.created_at,
        wrapped=row.wrapped,
        kek_id=row.kek_id,
    )


class PolicyVault:
    def __init__(self, db: Database, kek: LocalKek | None, *, cache_seconds: float = 30.0) -> None:
        self.db = db
        self.kek = kek
        self.cache_seconds = cache_seconds
        self._tenants: dict[uuid.UUID, TenantProtection] = {}
        self._locks: dict[uuid.UUID, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: Settings, db: Database) -> PolicyVault:
        kek = kek_from_settings(settings)
        if kek is None and not (settings.development or settings.embedded):
            raise ConfigurationError("HUB_KEK (or HUB_KEK_FILE) is required outside development")
        return cls(db, kek)

    # -- loading -------------------------------------------------------------------------

    async def prepare(self, tenant_id: uuid.UUID) -> TenantProtection:
        """Load (or refresh) what sealing and opening need for ``tenant_id``."""
        cached = self._tenants.get(tenant_id)
        if cached is not None and cached.expires > time.monotonic():
            return cached
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            cached = self._tenants.get(tenant_id)
            if cached is not None and cached.expires > time.monotonic():
                return cached
            protection = await self._load(tenant_id)
            self._tenants[tenant_id] = protection
            return protection

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        if tenant_id is None:
            self._tenants.clear()
        else:
            self._tenants.pop(tenant_id, None)

    async def _load(self, tenant_id: uuid.UUID) -> TenantProtection:
        async with self.db.session(tenant_id) as session:
            tenant = (await session.scalars(select(m.Tenant).where(m.Tenant.id == tenant_id))).one()
            policy = PolicySet.for_tenant(tenant.policy_yaml)
            if self.kek is None:
                return TenantProtection(tenant_id, policy, None, None, time.monotonic() + self.cache_seconds)
            rows = list((await session.scalars(select(m.DataKey))).all())
            if not rows:
                ring = KeyRing.create(str(tenant_id), self.kek)
                for key in ring.keys:
                    session.add(
                        m.DataKey(key_id=key.key_id, status=key.status.value, kek_id=key.kek_id, wrapped=key.wrapped)
                    )
            else:
                ring = KeyRing(str(tenant_id), [_to_policy_key(r) for r in rows], self.kek)
            if tenant.index_key is None:
                root = secrets.token_bytes(32)
                tenant.index_key = self.kek.wrap(root, context=_INDEX_CONTEXT + str(tenant_id).encode())
            else:
                root = self.kek.unwrap(tenant.index_key, context=_INDEX_CONTEXT + str(tenant_id).encode())
            await session.commit()
        return TenantProtection(
            tenant_id, policy, FieldCipher(ring), BlindIndexer(root), time.monotonic() + self.cache_seconds
        )

    def protection(self, tenant_id: uuid.UUID) -> TenantProtection:
        protection = self._tenants.get(tenant_id)
        if protection is None:
            raise ConfigurationError("tenant protection used before PolicyVault.prepare()")
        return protection

    # -- the Vault protocol --------------------------------------------------------------

    def seal(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, value: str) -> str:
        p = self.protection(tenant_id)
        if p.cipher is None or field not in p.policy.encrypted_fields(entity):
            return value
        return p.cipher.encrypt(value, tenant_id=str(tenant_id), entity=entity, field=field, record_id=str(record_id))

    def open(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> Any:
        """The stored value, decrypted when it is a ciphertext (as a :class:`~policies.Secret`)."""
        if not looks_encrypted(stored):
            return stored
        p = self.protection(tenant_id)
        if p.cipher is None:
            from policies import UnknownKeyError

            raise UnknownKeyError("no key-encryption key is configured to open this value")
        return p.cipher.decrypt(stored, tenant_id=str(tenant_id), entity=entity, field=field, record_id=str(record_id))

    def blind_indexes(self, tenant_id: uuid.UUID, entity: str, field: str, values: list[str]) -> list[str]:
        p = self.protection(tenant_id)
        kind = p.policy.blind_indexed_fields(entity).get(field)
        if kind is None or p.indexer is None:
            return []
        digests = {p.indexer.index(v, tenant_id=str(tenant_id), entity=entity, field=field, kind=kind) for v in values}
        return sorted(d for d in digests if d)

    def lookup_digest(self, tenant_id: uuid.UUID, entity: str, field: str, value: str) -> str | None:
        digests = self.blind_indexes(tenant_id, entity, field, [value])
        return digests[0] if digests else None

    def encrypts(self, tenant_id: uuid.UUID, entity: str, field: str) -> bool:
        p = self.protection(tenant_id)
        return p.cipher is not None and field in p.policy.encrypted_fields(entity)
