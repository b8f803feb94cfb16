"""Presents stored personal values to one viewer: opened and shown, masked, or hidden.

This is the :class:`schema.context.FieldPresenter` the GraphQL field extension calls. The
decision is the tenant's field policy's; this class only applies it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from hub.services.store import PERSONAL_FIELDS
from hub.services.vault import Vault
from policies.masking import mask
from schema.context import Viewer

__all__ = ["Decide", "Presenter", "default_decide"]

#: (roles, entity, field, is_self) -> ("clear" | "masked" | "hidden", mask format or None)
Decide = Callable[[frozenset[str], str, str, bool], tuple[str, str | None]]

_MASKS = {"emails": "email", "phones": "phone", "national_id": "last4", "first_name": "name", "last_name": "name"}


def default_decide(roles: frozenset[str], entity: str, field: str, is_self: bool) -> tuple[str, str | None]:
    """Built-in visibility used when a tenant has no policy file loaded."""
    if roles & {"admin", "hr"}:
        return "clear", None
    if is_self:
        return "clear", None
    if roles == frozenset({"candidate"}):
        return "hidden", None
    if field in ("national_id", "expected_salary", "text"):
        return "hidden", None
    return "masked", _MASKS.get(field, "redact")


class Presenter:
    def __init__(self, viewer: Viewer, vault: Vault, decide: Decide = default_decide) -> None:
        self.viewer = viewer
        self.vault = vault
        self.decide = decide

    def present(self, entity: str, field: str, row: Any, subject_id: uuid.UUID | None) -> Any:
        stored = getattr(row, field)
        if stored is None:
            return None
        is_self = subject_id is not None and subject_id == self.viewer.candidate_id
        visibility, mask_format = self.decide(self.viewer.roles, entity, field, is_self)
        if visibility == "hidden":
            return None
        kind = PERSONAL_FIELDS.get(entity, {}).get(field)
        value: Any = stored
        if kind is not None:
            value = self.vault.open(self.viewer.tenant_id, entity, field, row.id, stored)
            if kind == "list":
                value = json.loads(value)
        if visibility == "masked":
            fmt = mask_format or "redact"
            value = [mask(v, fmt) for v in value] if isinstance(value, list) else mask(value, fmt)
        return value
