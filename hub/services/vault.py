"""Sealing personal values for storage, and opening them again.

The store seals every personal field through a :class:`Vault` before it reaches a
column; the presenter opens it for a viewer allowed to see it. :class:`PlainVault` keeps
values as they are (no key configured); :class:`PolicyVault` (``hub.services.crypto``)
encrypts per the tenant's policy.
"""

from __future__ import annotations

import uuid
from typing import Protocol

__all__ = ["PlainVault", "Vault"]


class Vault(Protocol):
    def seal(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, value: str) -> str: ...

    def open(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> str: ...


class PlainVault:
    def seal(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, value: str) -> str:
        return value

    def open(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> str:
        return stored
