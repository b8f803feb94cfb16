"""Presents stored personal values to one viewer: opened and shown, masked, or hidden.

This is the :class:`schema.context.FieldPresenter` the GraphQL field extension calls. The
decision is the tenant's field policy's (``PolicySet.decide_roles``); this class applies it,
opens ciphertexts through the vault, and records audited reads (allowed or denied).
A value that fails to decrypt (tampered, copied from another row, key destroyed) answers
``DATA_UNAVAILABLE``: never the value, never another person's data.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from hub.services.audit import AuditTrail
from hub.services.store import PERSONAL_FIELDS
from hub.services.vault import Vault, reveal
from policies import Decision, DecryptionError
from schema.context import Viewer
from schema.errors import DataUnavailable

__all__ = ["Presenter"]


class Presenter:
    def __init__(self, viewer: Viewer, vault: Vault, audit: AuditTrail | None = None) -> None:
        self.viewer = viewer
        self.vault = vault
        self.audit = audit
        self._decisions: dict[tuple[str, str, bool], Decision] = {}

    def decide(self, entity: str, field: str, is_self: bool) -> Decision:
        key = (entity, field, is_self)
        decision = self._decisions.get(key)
        if decision is None:
            policy = self.vault.protection(self.viewer.tenant_id).policy
            decision = self._decisions[key] = policy.decide_roles(self.viewer.roles, entity, field, is_self=is_self)
        return decision

    def present(self, entity: str, field: str, row: Any, subject_id: uuid.UUID | None) -> Any:
        stored = getattr(row, field)
        if stored is None:
            return None
        is_self = subject_id is not None and subject_id == self.viewer.candidate_id
        decision = self.decide(entity, field, is_self)
        if decision.audited and self.audit is not None:
            self.audit.record("read", entity, field, row.id, allowed=decision.allowed)
        if not decision.allowed:
            return None
        kind = PERSONAL_FIELDS.get(entity, {}).get(field)
        if kind is None:
            return decision.apply(stored) if isinstance(stored, str) else stored
        try:
            value = self.vault.open(self.viewer.tenant_id, entity, field, row.id, stored)
        except DecryptionError as error:
            raise DataUnavailable("This value is unavailable: it failed its integrity check.") from error
        if kind == "list":
            return [decision.apply(item) for item in orjson.loads(reveal(value))]
        return decision.apply(value)
