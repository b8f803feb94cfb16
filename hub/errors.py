"""Errors raised inside the hub runtime.

Client-visible errors live in :mod:`schema.errors` (one tree, stable codes); the hub adds
the ones that signal a bug or a misconfiguration rather than bad input::

    HubError (schema.errors)
    └── HubRuntimeError        INTERNAL
        ├── TenantScopeError   a query or write without (or across) a tenant context
        └── ConfigurationError settings or services missing
"""

from __future__ import annotations

from schema.errors import HubError

__all__ = ["ConfigurationError", "HubRuntimeError", "TenantScopeError"]


class HubRuntimeError(HubError):
    code = "INTERNAL"
    expose = False


class TenantScopeError(HubRuntimeError):
    pass


class ConfigurationError(HubRuntimeError):
    pass
