"""Every error the connector layer raises, in one place, each with a stable ``code``.

The hub maps ``code`` straight onto GraphQL ``extensions.code``, sync-state reasons and quarantine
reasons, so codes never change once published. ``retryable`` tells a job whether trying again later can
help.

    ConnectorError                     CONNECTOR_ERROR
    ├── UpstreamError                  UPSTREAM_ERROR            (the upstream system misbehaved)
    │   ├── RateLimited                UPSTREAM_RATE_LIMITED     retryable, carries ``retry_after`` seconds
    │   ├── UpstreamUnavailable        UPSTREAM_UNAVAILABLE      retryable, 5xx or connection failure
    │   ├── UpstreamTimeout            UPSTREAM_TIMEOUT          retryable
    │   ├── CircuitOpen                UPSTREAM_CIRCUIT_OPEN     retryable, after ``retry_after`` seconds
    │   ├── UpstreamBadResponse        UPSTREAM_BAD_RESPONSE     non-JSON body, wrong envelope or shape
    │   │   └── ResponseTooLarge       UPSTREAM_RESPONSE_TOO_LARGE
    │   ├── UpstreamAuthError          UPSTREAM_AUTH_FAILED      401/403, bad token, token endpoint refused
    │   └── UpstreamRejected           UPSTREAM_REJECTED         other 4xx or a vendor error code
    ├── NormalizationError             NORMALIZATION_FAILED      one payload did not map: ``path``, ``reason``
    ├── ManifestError                  MANIFEST_INVALID          ``problems``: JSON path + YAML line/column
    ├── WebhookError                   WEBHOOK_INVALID
    │   ├── SignatureInvalid           WEBHOOK_SIGNATURE_INVALID
    │   ├── TimestampOutOfTolerance    WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE
    │   ├── ReplayDetected             WEBHOOK_REPLAYED
    │   └── WebhookPayloadInvalid      WEBHOOK_PAYLOAD_INVALID   authentic but undecryptable or unparsable
    ├── UnsupportedOperation           CONNECTOR_UNSUPPORTED     model not readable, unknown write operation
    ├── InvalidCursor                  CURSOR_INVALID            a cursor this connector did not make: restart
    ├── WritePayloadInvalid            WRITE_PAYLOAD_INVALID     a canonical write payload lacks a key
    ├── ConnectorConfigError           CONNECTOR_CONFIG_INVALID  missing credential or setting
    └── UnknownConnector               CONNECTOR_UNKNOWN         no connector registered under that kind

Example:
    >>> try:
    ...     raise RateLimited("too many requests", retry_after=12.0)
    ... except UpstreamError as exc:
    ...     (exc.code, exc.retryable, exc.retry_after)
    ('UPSTREAM_RATE_LIMITED', True, 12.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
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
]


class ConnectorError(Exception):
    """Base of every connector error; ``code`` is stable and safe to show to API clients."""

    code = "CONNECTOR_ERROR"
    retryable = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description (for GraphQL extensions, sync states and logs); no secrets inside."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


# --- upstream -------------------------------------------------------------------------------------


class UpstreamError(ConnectorError):
    """The upstream system answered badly or not at all."""

    code = "UPSTREAM_ERROR"

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status}


class RateLimited(UpstreamError):
    """429 or a vendor "too many calls" code; try again after ``retry_after`` seconds (None: unknown)."""

    code = "UPSTREAM_RATE_LIMITED"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "retry_after": self.retry_after}


class UpstreamUnavailable(UpstreamError):
    """5xx, connection refused or reset: the upstream is down or overloaded."""

    code = "UPSTREAM_UNAVAILABLE"
    retryable = True


class UpstreamTimeout(UpstreamError):
    """Connect, read or write timed out."""

    code = "UPSTREAM_TIMEOUT"
    retryable = True


class CircuitOpen(UpstreamError):
    """The connection's circuit breaker is open; no request was sent."""

    code = "UPSTREAM_CIRCUIT_OPEN"
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class UpstreamBadResponse(UpstreamError):
    """The body is not JSON, or not the envelope or shape the dialect promises."""

    code = "UPSTREAM_BAD_RESPONSE"


class ResponseTooLarge(UpstreamBadResponse):
    """The body exceeded the configured maximum; reading stopped at the limit."""

    code = "UPSTREAM_RESPONSE_TOO_LARGE"

    def __init__(self, message: str, *, limit: int, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.limit = limit


class UpstreamAuthError(UpstreamError):
    """401/403 or a vendor "invalid token" code that a token refresh did not cure."""

    code = "UPSTREAM_AUTH_FAILED"


class UpstreamRejected(UpstreamError):
    """The upstream refused the request (other 4xx, or a vendor error code); retrying will not help."""

    code = "UPSTREAM_REJECTED"

    def __init__(self, message: str, *, vendor_code: str | int | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.vendor_code = vendor_code

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "vendor_code": self.vendor_code}


# --- normalization and manifests ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MappingError:
    """One mapping problem: ``path`` in the upstream payload (``$.phone_numbers[1].value``), the canonical
    ``field`` it was meant for (may be empty), and a human ``reason``."""

    path: str
    reason: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "field": self.field, "reason": self.reason}


class NormalizationError(ConnectorError):
    """A payload could not become a canonical record. ``path``/``reason`` describe the first problem,
    ``errors`` lists them all. The hub quarantines the raw payload with ``to_dict()``."""

    code = "NORMALIZATION_FAILED"

    def __init__(
        self,
        reason: str,
        *,
        path: str = "$",
        model: str | None = None,
        errors: list[MappingError] | None = None,
    ) -> None:
        self.errors = errors or [MappingError(path=path, reason=reason)]
        self.path = self.errors[0].path
        self.reason = self.errors[0].reason
        self.model = model
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{model or 'record'} at {self.path}: {self.reason}{more}")

    @classmethod
    def from_errors(cls, errors: list[MappingError], *, model: str | None = None) -> NormalizationError:
        return cls(errors[0].reason, path=errors[0].path, model=model, errors=errors)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "model": self.model,
            "path": self.path,
            "reason": self.reason,
            "errors": [e.to_dict() for e in self.errors],
        }


@dataclass(frozen=True, slots=True)
class ManifestProblem:
    """One manifest problem: JSON ``path`` (``$.models.candidate.read.path``), message, and the YAML or JSON
    ``line``/``column`` (1-based) of the offending node when the text is known."""

    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}, column {self.column}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "line": self.line, "column": self.column}


class ManifestError(ConnectorError):
    """The manifest is not valid; ``problems`` lists every problem found, in document order."""

    code = "MANIFEST_INVALID"

    def __init__(self, problems: list[ManifestProblem], *, source: str = "<manifest>") -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  {source}: {p}" for p in problems)
        super().__init__(f"manifest has {len(problems)} problem(s):\n{lines}")

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems]}


# --- webhooks -------------------------------------------------------------------------------------


class WebhookError(ConnectorError):
    """An inbound webhook delivery was refused; answer 4xx and do not process it."""

    code = "WEBHOOK_INVALID"


class SignatureInvalid(WebhookError):
    """Missing, malformed or non-matching signature (wrong secret or tampered body)."""

    code = "WEBHOOK_SIGNATURE_INVALID"


class TimestampOutOfTolerance(WebhookError):
    """The signed timestamp is too old or too far in the future (default tolerance five minutes)."""

    code = "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE"


class ReplayDetected(WebhookError):
    """The ``seen`` callback reported this event id as already processed."""

    code = "WEBHOOK_REPLAYED"

    def __init__(self, message: str, *, event_id: str) -> None:
        super().__init__(message)
        self.event_id = event_id


class WebhookPayloadInvalid(WebhookError):
    """The signature was good but the body could not be decrypted or parsed."""

    code = "WEBHOOK_PAYLOAD_INVALID"


# --- registry and configuration -------------------------------------------------------------------


class UnsupportedOperation(ConnectorError):
    """The connector does not read this model, support this write operation or receive webhooks."""

    code = "CONNECTOR_UNSUPPORTED"


class InvalidCursor(ConnectorError):
    """The cursor was not produced by this connector (or its format changed): restart the read."""

    code = "CURSOR_INVALID"


class WritePayloadInvalid(ConnectorError):
    """A canonical write payload lacks a required key or has a wrong type; nothing was sent."""

    code = "WRITE_PAYLOAD_INVALID"


class ConnectorConfigError(ConnectorError):
    """The connection lacks a credential or setting the connector needs."""

    code = "CONNECTOR_CONFIG_INVALID"


class UnknownConnector(ConnectorError):
    """No connector is registered under this kind."""

    code = "CONNECTOR_UNKNOWN"

    def __init__(self, kind: str, *, known: list[str] | None = None) -> None:
        self.kind = kind
        hint = f"; known kinds: {', '.join(known)}" if known else ""
        super().__init__(f"no connector registered under kind {kind!r}{hint}")
