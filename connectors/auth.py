"""How requests to an upstream carry credentials.

Each class implements `connectors.http.RequestAuth`: ``apply`` adds headers or query parameters to an
`OutgoingRequest` just before it is sent (on every retry, so signatures and timestamps stay fresh), and
``invalidate`` forgets a cached token when the upstream answered 401/403.

- `BearerAuth`: ``Authorization: Bearer <token>``; `BasicAuth`: HTTP Basic.
- `HeaderAuth`: an API key in a named header (``X-Api-Key: <key>``), or `QueryAuth` in a query parameter.
- `HmacRequestAuth`: signs method, path, timestamp and body with HMAC-SHA256 into a header.
- `TokenAuth`: a short-lived access token fetched from a token endpoint, cached until shortly before it
  expires (DingTalk ``accessToken``, WeCom ``access_token``, Feishu ``tenant_access_token``, OAuth 2
  client credentials); concurrent requests share one fetch.

Example:
    >>> auth = HeaderAuth("X-Api-Key", "k-123")
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

if TYPE_CHECKING:
    from connectors.http import OutgoingRequest, UpstreamClient

__all__ = ["BasicAuth", "BearerAuth", "HeaderAuth", "HmacRequestAuth", "QueryAuth", "TokenAuth", "TokenFetcher"]


class _Static:
    def invalidate(self) -> None:
        """Static credentials cannot be refreshed."""


class BearerAuth(_Static):
    def __init__(self, token: str) -> None:
        self._value = f"Bearer {token}"

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        request.headers["authorization"] = self._value


class BasicAuth(_Static):
    """HTTP Basic; an API key as user name with an empty password is common (Greenhouse-style)."""

    def __init__(self, username: str, password: str = "") -> None:
        raw = f"{username}:{password}".encode()
        self._value = "Basic " + base64.b64encode(raw).decode()

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        request.headers["authorization"] = self._value


class HeaderAuth(_Static):
    def __init__(self, header: str, value: str) -> None:
        self._header = header.lower()
        self._value = value

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        request.headers[self._header] = self._value


class QueryAuth(_Static):
    def __init__(self, param: str, value: str) -> None:
        self._param = param
        self._value = value

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        request.params[self._param] = self._value


class HmacRequestAuth(_Static):
    """HMAC-SHA256 request signing.

    The signed message is ``message`` with ``{method}``, ``{path}`` (path and sorted query string),
    ``{timestamp}`` (epoch seconds), ``{body}`` (raw body as UTF-8) and ``{body_sha256}`` filled in; the
    signature goes into ``header`` as hex or base64 after ``prefix``; the timestamp into
    ``timestamp_header`` when given; ``key_id`` into ``key_id_header`` when given.
    """

    def __init__(
        self,
        secret: str,
        *,
        header: str = "X-Signature",
        message: str = "{method}\n{path}\n{timestamp}\n{body_sha256}",
        encoding: str = "hex",
        prefix: str = "",
        timestamp_header: str | None = "X-Timestamp",
        key_id: str | None = None,
        key_id_header: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret.encode()
        self._header = header.lower()
        self._message = message
        self._encoding = encoding
        self._prefix = prefix
        self._timestamp_header = timestamp_header.lower() if timestamp_header else None
        self._key_id = key_id
        self._key_id_header = key_id_header.lower() if key_id_header else None
        self._clock = clock

    def signature(self, method: str, path: str, timestamp: str, body: bytes) -> str:
        message = self._message.format(
            method=method,
            path=path,
            timestamp=timestamp,
            body=body.decode("utf-8", errors="replace"),
            body_sha256=hashlib.sha256(body).hexdigest(),
        )
        digest = hmac.new(self._secret, message.encode(), hashlib.sha256).digest()
        encoded = base64.b64encode(digest).decode() if self._encoding == "base64" else digest.hex()
        return self._prefix + encoded

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        timestamp = str(int(self._clock()))
        parts = urlsplit(request.url)
        query = urlencode(sorted((k, str(v)) for k, v in request.params.items() if v is not None))
        path = parts.path + (f"?{query}" if query else "")
        request.headers[self._header] = self.signature(request.method, path, timestamp, request.content)
        if self._timestamp_header:
            request.headers[self._timestamp_header] = timestamp
        if self._key_id and self._key_id_header:
            request.headers[self._key_id_header] = self._key_id


TokenFetcher = Callable[["UpstreamClient"], Awaitable[tuple[str, float]]]
"""Fetches a fresh token: returns ``(token, lifetime_seconds)``; raise `UpstreamAuthError` on refusal."""


class TokenAuth:
    """A cached access token from a token endpoint, put into a header (with ``prefix``) or a query param.

    The token is refreshed ``refresh_margin`` seconds before it expires, and after ``invalidate``.
    """

    def __init__(
        self,
        fetch: TokenFetcher,
        *,
        header: str | None = "authorization",
        prefix: str = "Bearer ",
        query_param: str | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._header = header.lower() if header else None
        self._prefix = prefix
        self._query_param = query_param
        self._margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self, client: UpstreamClient) -> str:
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        async with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                token, lifetime = await self._fetch(client)
                self._token = token
                self._expires_at = self._clock() + max(0.0, lifetime - self._margin)
            return self._token

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None:
        token = await self.token(client)
        if self._query_param:
            request.params[self._query_param] = token
        if self._header:
            request.headers[self._header] = self._prefix + token

    def invalidate(self) -> None:
        self._token = None
        self._expires_at = 0.0
