"""The vault protocol: how the store seals personal values and the presenter opens them.

:class:`hub.services.crypto.PolicyVault` implements it with the tenant's keys and policy.
"""

from __future__ import annotations

import uuid
from typing import Any, Protocol

from policies import Secret

__all__ = ["Vault", "reveal"]


class Vault(Protocol):
    async def prepare(self, tenant_id: uuid.UUID) -> Any:
        """Load the tenant's keys and policy; call before sealing or opening."""
        ...

    def seal(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, value: str) -> str: ...

    def open(self, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> Any: ...

    def blind_indexes(self, tenant_id: uuid.UUID, entity: str, field: str, values: list[str]) -> list[str]: ...

    def lookup_digest(self, tenant_id: uuid.UUID, entity: str, field: str, value: str) -> str | None: ...

    def encrypts(self, tenant_id: uuid.UUID, entity: str, field: str) -> bool: ...

    def protection(self, tenant_id: uuid.UUID) -> Any: ...


def reveal(value: Any) -> Any:
    """A decrypted :class:`~policies.Secret` as its text (at the edge only)."""
    return value.reveal() if isinstance(value, Secret) else value
