"""Sealing what the integration layer keeps: connector credentials, webhook secrets, raw upstream payloads.

Unlike personal fields, whose encryption is the tenant policy's decision (``PolicyVault.seal``), these are
sealed whenever a key-encryption key is configured, whatever the policy says: a credential or an unfiltered
upstream payload is never stored in clear because a policy file forgot it. The ciphertext is the vault's
own format, bound to (tenant, entity, field, record id), so key rotation and crypto-shredding cover it
(the columns are listed in ``hub.services.store.PERSONAL_FIELDS``).

Without a key-encryption key (the embedded quick start without ``HUB_KEK``) values stay as they are.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from hub.services.vault import Vault, reveal

__all__ = ["open_json", "open_sealed", "seal_always", "seal_json"]


def seal_always(vault: Vault, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, text: str) -> str:
    """``text`` encrypted with the tenant's primary data key (the vault must be prepared)."""
    cipher = vault.protection(tenant_id).cipher
    if cipher is None:
        return text
    return str(cipher.encrypt(text, tenant_id=str(tenant_id), entity=entity, field=field, record_id=str(record_id)))


def open_sealed(vault: Vault, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> str:
    """The clear text of a value sealed by `seal_always` (or stored in clear)."""
    return str(reveal(vault.open(tenant_id, entity, field, record_id, stored)))


def seal_json(vault: Vault, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return seal_always(vault, tenant_id, entity, field, record_id, text)


def open_json(vault: Vault, tenant_id: uuid.UUID, entity: str, field: str, record_id: uuid.UUID, stored: str) -> Any:
    return json.loads(open_sealed(vault, tenant_id, entity, field, record_id, stored))
