"""Who may do what: a pure decision table and a thin Strawberry adapter.

``ACCESS.decide(roles, action)`` answers a :class:`Decision` with a reason; the
``Allow`` permission class asks it for the field's action. Row-level rules (a candidate
sees only their own records) live in the store, which knows the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from schema.errors import Forbidden

__all__ = ["ACCESS", "AccessPolicy", "Allow", "Decision"]

_READ_ALL = {"read:jobs", "read:candidates", "read:applications", "read:interviews", "read:evaluations"}
_WRITE_RECRUITING = {"write:jobs", "write:candidates", "write:applications", "write:interviews"}

_TABLE: dict[str, set[str]] = {
    "admin": _READ_ALL | _WRITE_RECRUITING | {"admin:tenant", "read:audit"},
    "hr": _READ_ALL | _WRITE_RECRUITING,
    "integrator": _READ_ALL | _WRITE_RECRUITING,
    "interviewer": _READ_ALL,
    "approver": _READ_ALL,
    "candidate": {"read:own"},
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str


class AccessPolicy:
    def __init__(self, table: dict[str, set[str]]) -> None:
        self._table = table

    def decide(self, roles: frozenset[str], action: str) -> Decision:
        for role in sorted(roles):
            granted = self._table.get(role, set())
            if action in granted or (action.startswith("read:") and "read:own" in granted):
                return Decision(True, f"role {role} grants {action}")
        return Decision(False, f"none of the roles {sorted(roles)} grants {action}")


ACCESS = AccessPolicy(_TABLE)


class Allow(BasePermission):
    """``permission_classes=[Allow("write:jobs")]`` on a field."""

    error_class = Forbidden
    message = "You do not have permission for this operation."

    def __init__(self, action: str) -> None:
        self.action = action

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return ACCESS.decide(info.context.viewer.roles, self.action).allowed

    def on_unauthorized(self) -> None:
        raise Forbidden(self.message, action=self.action)
