"""Connectors: upstream HR, OA and mobile systems in, canonical records out, write-backs and webhooks.

The public surface, importable from here (resolved lazily, so ``import connectors.errors`` stays light):

- contract (`connectors.base`): `Connector`, `ConnectionConfig`, `Capability`, `Page`, `RawItem`,
  `WriteResult`, `WebhookEvent`, `WebhookReply`, `ConnectorInfo`, `WRITE_OPERATIONS`;
- registry (`connectors.registry`): `Registry`, `default_registry`, `ENTRY_POINT_GROUP`;
- manifests (`connectors.manifest`): `load_manifest`, `load_manifest_file`, `validate_manifest`,
  `preview_mapping`, `manifest_schema`, `Manifest`; `Preview` from `connectors.mapping`;
- HTTP policy (`connectors.http`): `CircuitBreaker`, `BreakerState`, `RetryPolicy`;
- errors: everything in `connectors.errors`;
- tests: `MockConnector`, `MockUpstream` (`connectors.mock`).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "connectors.base": (
        "WRITE_OPERATIONS",
        "Capability",
        "ConnectionConfig",
        "Connector",
        "ConnectorInfo",
        "Page",
        "RawItem",
        "WebhookEvent",
        "WebhookReply",
        "WriteResult",
    ),
    "connectors.registry": ("ENTRY_POINT_GROUP", "Registry", "default_registry"),
    "connectors.manifest": (
        "Manifest",
        "load_manifest",
        "load_manifest_file",
        "manifest_schema",
        "preview_mapping",
        "validate_manifest",
    ),
    "connectors.mapping": ("Preview",),
    "connectors.http": ("BreakerState", "CircuitBreaker", "RetryPolicy"),
    "connectors.mock": ("MockConnector", "MockUpstream"),
    "connectors.errors": (
        "CircuitOpen",
        "ConnectorConfigError",
        "ConnectorError",
        "InvalidCursor",
        "ManifestError",
        "ManifestProblem",
        "MappingError",
        "NormalizationError",
        "RateLimited",
        "ReplayDetected",
        "ResponseTooLarge",
        "SignatureInvalid",
        "TimestampOutOfTolerance",
        "UnknownConnector",
        "UnsupportedOperation",
        "UpstreamAuthError",
        "UpstreamBadResponse",
        "UpstreamError",
        "UpstreamRejected",
        "UpstreamTimeout",
        "UpstreamUnavailable",
        "WebhookError",
        "WebhookPayloadInvalid",
        "WritePayloadInvalid",
    ),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'connectors' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
