"""Sealing canonical rows per the tenant's field policy, in batches: what ``SqlStore._seal`` does for one
row (the same ciphertexts, the same blind-index digests), with the policy looked up once per batch
instead of once per field, because a sync seals tens of thousands of values.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from hub.services.bulk import fast_id
from hub.services.store import PERSONAL_FIELDS
from hub.services.vault import Vault

__all__ = ["RowSealer"]


def _full_name(first: Any, last: Any) -> list[str]:
    if not first or not last:
        return []
    return [f"{last}{first}", f"{first} {last}", f"{last} {first}"]


class RowSealer:
    """Seals personal values of rows of one tenant and makes their blind-index rows."""

    def __init__(self, vault: Vault, tenant_id: uuid.UUID) -> None:
        self.vault = vault
        self.tenant_id = tenant_id
        self._policies: dict[str, tuple[Any, frozenset[str], dict[str, Any]]] = {}

    def _policy(self, entity: str) -> tuple[Any, frozenset[str], dict[str, Any]]:
        """The tenant's decisions for ``entity``, looked up once per batch: (protection, encrypted fields,
        blind-indexed fields with their kind)."""
        cached = self._policies.get(entity)
        if cached is None:
            protection = self.vault.protection(self.tenant_id)
            personal = PERSONAL_FIELDS.get(entity, {})
            encrypted = frozenset(f for f in personal if self.vault.encrypts(self.tenant_id, entity, f))
            policy, indexer = getattr(protection, "policy", None), getattr(protection, "indexer", None)
            indexed = dict(policy.blind_indexed_fields(entity)) if policy is not None and indexer else {}
            cached = self._policies[entity] = (protection, encrypted, indexed)
        return cached

    def _digests(self, entity: str, name: str, values: list[str]) -> list[str]:
        """As ``PolicyVault.blind_indexes``, with the policy looked up once per batch."""
        protection, _, indexed = self._policy(entity)
        kind = indexed.get(name)
        if kind is None:
            return []
        tenant = str(self.tenant_id)
        digests = {protection.indexer.index(v, tenant_id=tenant, entity=entity, field=name, kind=kind) for v in values}
        return sorted(d for d in digests if d)

    def seal(self, entity: str, row_id: uuid.UUID, values: dict[str, Any], now: datetime) -> tuple[dict, list]:
        """Personal values sealed per the tenant's policy and their blind-index rows: what
        ``SqlStore._seal`` does (same tokens, same digests), without a query per field."""
        protection, encrypted, _ = self._policy(entity)
        out, indexes = dict(values), []
        tenant, record = str(self.tenant_id), str(row_id)
        for name, kind in PERSONAL_FIELDS.get(entity, {}).items():
            if name not in out:
                continue
            value = out[name]
            items = [] if value is None else (list(value) if kind == "list" else [value])
            for digest in self._digests(entity, name, items):
                indexes.append(self._index(entity, name, digest, row_id, now))
            if not items:
                out[name] = None
                continue
            text = json.dumps(items, ensure_ascii=False) if kind == "list" else value
            if name in encrypted:
                out[name] = protection.cipher.encrypt(
                    text, tenant_id=tenant, entity=entity, field=name, record_id=record
                )
            else:
                out[name] = text
        if entity == "candidate" and ("first_name" in values or "last_name" in values):
            for digest in self._digests(
                entity, "first_name", _full_name(values.get("first_name"), values.get("last_name"))
            ):
                indexes.append(self._index(entity, "full_name", digest, row_id, now))
        return out, indexes

    def _index(self, entity: str, name: str, digest: str, row_id: uuid.UUID, now: datetime) -> dict[str, Any]:
        return {
            "id": fast_id(),
            "tenant_id": self.tenant_id,
            "entity": entity,
            "field": name,
            "digest": digest,
            "record_id": row_id,
            "created_at": now,
            "updated_at": now,
        }
