"""Errors a client can see, each with a stable ``code`` (sent as ``extensions.code``).

Hierarchy::

    HubError                      INTERNAL (message masked in production)
    ├── BadRequestError           BAD_REQUEST
    │   ├── ValidationFailed      VALIDATION_FAILED   (carries field paths)
    │   │   └── UnsafeUrl         UNSAFE_URL          (a webhook URL the hub refuses to call: SSRF guard)
    │   ├── PayloadTooLarge       PAYLOAD_TOO_LARGE
    │   ├── UnsupportedMediaType  UNSUPPORTED_MEDIA_TYPE
    │   └── QueryTooComplex       QUERY_TOO_COMPLEX   (depth, aliases, tokens, batch)
    ├── AuthError                 UNAUTHENTICATED
    │   ├── TokenExpired          TOKEN_EXPIRED
    │   └── TokenInvalid          TOKEN_INVALID
    ├── Forbidden                 FORBIDDEN
    ├── NotFound                  NOT_FOUND           (also for another tenant's ids)
    ├── Conflict                  CONFLICT
    ├── ConsentRequired           CONSENT_REQUIRED
    ├── ResyncRequired            RESYNC_REQUIRED
    ├── DataUnavailable           DATA_UNAVAILABLE    (a stored value failed its integrity check)
    └── UpstreamFailed            UPSTREAM_ERROR

A client never sees a stack trace: an unexpected exception becomes ``INTERNAL`` with a
generic message (see :mod:`schema.extensions`).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AuthError",
    "BadRequestError",
    "Conflict",
    "ConsentRequired",
    "DataUnavailable",
    "Forbidden",
    "HubError",
    "NotFound",
    "PayloadTooLarge",
    "QueryTooComplex",
    "ResyncRequired",
    "TokenExpired",
    "TokenInvalid",
    "UnsafeUrl",
    "UnsupportedMediaType",
    "UpstreamFailed",
    "ValidationFailed",
]


class HubError(Exception):
    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500
    #: Errors whose message is safe to show in production.
    expose: ClassVar[bool] = True

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions

    def to_extensions(self) -> dict[str, Any]:
        return {"code": self.code, **self.extensions}


class BadRequestError(HubError):
    code = "BAD_REQUEST"
    http_status = 400


def _camel(path: str) -> str:
    """``to_stage`` -> ``toStage``: field paths are reported as the client spells them."""
    return ".".join(
        part.split("_")[0] + "".join(w[:1].upper() + w[1:] for w in part.split("_")[1:]) for part in path.split(".")
    )


class ValidationFailed(BadRequestError):
    code = "VALIDATION_FAILED"

    def __init__(self, message: str, *, field: str | None = None, **extensions: Any) -> None:
        if field is not None:
            extensions["field"] = _camel(field)
        super().__init__(message, **extensions)


class UnsafeUrl(ValidationFailed):
    """A URL the hub must not call on an integrator's behalf: not http(s), credentials in it, or a host
    that is (or resolves to) a loopback, private, link-local, metadata or otherwise internal address."""

    code = "UNSAFE_URL"

    def __init__(self, message: str, *, field: str | None = "url", **extensions: Any) -> None:
        super().__init__(message, field=field, **extensions)


class PayloadTooLarge(BadRequestError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class UnsupportedMediaType(BadRequestError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class QueryTooComplex(BadRequestError):
    code = "QUERY_TOO_COMPLEX"


class AuthError(HubError):
    code = "UNAUTHENTICATED"
    http_status = 401


class TokenExpired(AuthError):
    code = "TOKEN_EXPIRED"


class TokenInvalid(AuthError):
    code = "TOKEN_INVALID"


class Forbidden(HubError):
    code = "FORBIDDEN"
    http_status = 403


class NotFound(HubError):
    code = "NOT_FOUND"
    http_status = 404


class Conflict(HubError):
    code = "CONFLICT"
    http_status = 409


class ConsentRequired(HubError):
    code = "CONSENT_REQUIRED"
    http_status = 409


class ResyncRequired(HubError):
    code = "RESYNC_REQUIRED"
    http_status = 409


class DataUnavailable(HubError):
    """A protected value could not be opened (tampered, moved, or its key is gone). The
    message never says more: not whose value, not which key."""

    code = "DATA_UNAVAILABLE"
    http_status = 500


class UpstreamFailed(HubError):
    code = "UPSTREAM_ERROR"
    http_status = 502
