"""connectors/errors.py: one tree, stable codes, JSON-safe descriptions."""

from __future__ import annotations

import json
import re

import connectors.errors as errors
from connectors.errors import (
    ConnectorError,
    ManifestError,
    ManifestProblem,
    MappingError,
    NormalizationError,
    RateLimited,
    UpstreamError,
    WebhookError,
)

CODES = {
    "ConnectorError": "CONNECTOR_ERROR",
    "UpstreamError": "UPSTREAM_ERROR",
    "RateLimited": "UPSTREAM_RATE_LIMITED",
    "UpstreamUnavailable": "UPSTREAM_UNAVAILABLE",
    "UpstreamTimeout": "UPSTREAM_TIMEOUT",
    "CircuitOpen": "UPSTREAM_CIRCUIT_OPEN",
    "UpstreamBadResponse": "UPSTREAM_BAD_RESPONSE",
    "ResponseTooLarge": "UPSTREAM_RESPONSE_TOO_LARGE",
    "UpstreamAuthError": "UPSTREAM_AUTH_FAILED",
    "UpstreamRejected": "UPSTREAM_REJECTED",
    "NormalizationError": "NORMALIZATION_FAILED",
    "ManifestError": "MANIFEST_INVALID",
    "WebhookError": "WEBHOOK_INVALID",
    "SignatureInvalid": "WEBHOOK_SIGNATURE_INVALID",
    "TimestampOutOfTolerance": "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE",
    "ReplayDetected": "WEBHOOK_REPLAYED",
    "WebhookPayloadInvalid": "WEBHOOK_PAYLOAD_INVALID",
    "UnsupportedOperation": "CONNECTOR_UNSUPPORTED",
    "InvalidCursor": "CURSOR_INVALID",
    "WritePayloadInvalid": "WRITE_PAYLOAD_INVALID",
    "ConnectorConfigError": "CONNECTOR_CONFIG_INVALID",
    "UnknownConnector": "CONNECTOR_UNKNOWN",
}


def test_codes_are_stable_and_the_docstring_draws_the_whole_tree() -> None:
    classes = {
        name: getattr(errors, name)
        for name in errors.__all__
        if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), ConnectorError)
    }
    assert {name: cls.code for name, cls in classes.items()} == CODES
    for name, code in CODES.items():
        assert re.search(rf"{name}\s+{code}", errors.__doc__ or ""), name


def test_retryable_errors() -> None:
    assert {
        n for n, c in vars(errors).items() if isinstance(c, type) and issubclass(c, ConnectorError) and c.retryable
    } == {"RateLimited", "UpstreamUnavailable", "UpstreamTimeout", "CircuitOpen"}


def test_descriptions_are_json_safe() -> None:
    samples: list[ConnectorError] = [
        RateLimited("slow", retry_after=3, status=429),
        NormalizationError.from_errors([MappingError("$.a", "bad", "a"), MappingError("$.b", "worse")], model="job"),
        ManifestError([ManifestProblem("$.kind", "bad kind", 2, 1)]),
        WebhookError("nope"),
    ]
    for error in samples:
        described = json.loads(json.dumps(error.to_dict()))
        assert described["code"] == error.code
    assert isinstance(samples[0], UpstreamError)
    assert samples[1].path == "$.a" and len(samples[1].to_dict()["errors"]) == 2
