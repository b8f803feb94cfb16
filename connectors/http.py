"""HTTP to upstream systems: timeouts, retries with backoff and jitter, size limits, JSON, breakers.

`UpstreamClient` is what every connector sends requests through. It

- retries 429 (honouring ``Retry-After``, seconds or HTTP date), 5xx and connection failures with
  exponential backoff and full jitter, but retries a non-idempotent request only when the upstream
  cannot have processed it (429, 503, connection refused);
- stops reading a body at ``max_response_bytes`` (`ResponseTooLarge`), checked on ``Content-Length``
  first and then while streaming, after decompression;
- maps what is left to the error tree: `RateLimited`, `UpstreamUnavailable`, `UpstreamTimeout`,
  `UpstreamAuthError`, `UpstreamRejected`; `UpstreamResponse.json()` maps non-JSON to
  `UpstreamBadResponse`;
- consults an optional per-connection `CircuitBreaker` and an optional client-side `RateLimiter`.

`CircuitBreaker` is pure (time is passed in) so the hub can keep one per connection, in memory or
serialized with ``to_dict``/``from_dict``.

Example:
    >>> breaker = CircuitBreaker(failure_threshold=3, reset_after=30.0)
    >>> for t in (0.0, 1.0, 2.0):
    ...     breaker.record_failure(now=t)
    >>> breaker.state(now=10.0), breaker.state(now=40.0)
    (<BreakerState.OPEN: 'OPEN'>, <BreakerState.HALF_OPEN: 'HALF_OPEN'>)
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol

import httpx

from connectors.errors import (
    CircuitOpen,
    RateLimited,
    ResponseTooLarge,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamError,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "BreakerState",
    "CircuitBreaker",
    "OutgoingRequest",
    "RateLimiter",
    "RequestAuth",
    "ResponseCheck",
    "RetryPolicy",
    "UpstreamClient",
    "UpstreamResponse",
    "decode_json",
    "join_url",
    "parse_retry_after",
]

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_UNPARSED: Any = object()

ResponseCheck = Callable[["UpstreamResponse"], "UpstreamError | None"]
"""Reads a vendor envelope (``errcode``, ``code``) and answers the error it means, or None when fine."""


# --- retries --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry.

    ``delay(attempt)`` is ``min(max_delay, base_delay * 2**attempt)`` scaled by full jitter in
    ``[1 - jitter, 1]``; a ``Retry-After`` wins when it is longer. A ``Retry-After`` beyond
    ``max_retry_after`` is not slept in-process: `RateLimited` is raised so the job can be rescheduled.
    """

    max_attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 20.0
    jitter: float = 1.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None, rand: Callable[[], float] = random.random) -> float:
        backoff = min(self.max_delay, self.base_delay * (2**attempt))
        backoff *= 1.0 - self.jitter * float(rand())
        if retry_after is not None:
            return float(max(backoff, retry_after))
        return float(backoff)


NO_RETRY = RetryPolicy(max_attempts=1)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


# --- circuit breaker ------------------------------------------------------------------------------


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@dataclass(slots=True)
class CircuitBreaker:
    """Per-connection circuit breaker: opens after ``failure_threshold`` consecutive failures, lets one
    trial request through after ``reset_after`` seconds (HALF_OPEN), closes on its success and re-opens
    on its failure. All methods take ``now`` (monotonic or epoch seconds, as long as it is consistent)."""

    failure_threshold: int = 5
    reset_after: float = 30.0
    failures: int = 0
    opened_at: float | None = None
    trial_in_flight: bool = False

    def state(self, *, now: float) -> BreakerState:
        if self.opened_at is None:
            return BreakerState.CLOSED
        if now - self.opened_at >= self.reset_after:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self, *, now: float) -> bool:
        """True when a request may be sent now (in HALF_OPEN, only the first caller gets the trial)."""
        state = self.state(now=now)
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self.trial_in_flight:
            self.trial_in_flight = True
            return True
        return False

    def retry_after(self, *, now: float) -> float:
        """Seconds until a trial request will be allowed (0 when closed)."""
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.reset_after - now)

    def record_success(self) -> None:
        self.failures = 0
        self.opened_at = None
        self.trial_in_flight = False

    def record_failure(self, *, now: float) -> None:
        self.failures += 1
        if self.trial_in_flight or self.failures >= self.failure_threshold:
            self.opened_at = now
        self.trial_in_flight = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "failure_threshold": self.failure_threshold,
            "reset_after": self.reset_after,
            "failures": self.failures,
            "opened_at": self.opened_at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CircuitBreaker:
        return cls(
            failure_threshold=int(data.get("failure_threshold", 5)),
            reset_after=float(data.get("reset_after", 30.0)),
            failures=int(data.get("failures", 0)),
            opened_at=data.get("opened_at"),
        )


# --- client-side rate limit -----------------------------------------------------------------------


class RateLimiter:
    """Token bucket: ``requests_per_minute`` sustained, ``burst`` at once. Callers that find the bucket
    empty reserve a slot and sleep until it is theirs, so concurrent callers queue fairly. This limits one
    process; the upstream's 429s remain the authority across processes."""

    def __init__(
        self,
        requests_per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive")
        self.rate = requests_per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, requests_per_minute / 10.0)
        self.tokens = self.capacity
        self.clock = clock
        self.sleep = sleep
        self._last = clock()

    async def acquire(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self._last) * self.rate)
        self._last = now
        self.tokens -= 1.0
        if self.tokens < 0:
            await self.sleep(-self.tokens / self.rate)


# --- requests and responses -----------------------------------------------------------------------


@dataclass(slots=True)
class OutgoingRequest:
    """A request before it is sent; `RequestAuth` implementations add headers or query parameters."""

    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""


class RequestAuth(Protocol):
    """Adds credentials to a request (see `connectors.auth`)."""

    async def apply(self, request: OutgoingRequest, client: UpstreamClient) -> None: ...

    def invalidate(self) -> None:
        """Forget a cached token after the upstream refused it (called once per request)."""


class UpstreamResponse:
    """A fully read response; ``json()`` parses once and maps non-JSON to `UpstreamBadResponse`."""

    __slots__ = ("_json", "content", "headers", "status", "url")

    def __init__(self, status: int, headers: httpx.Headers, content: bytes, url: str) -> None:
        self.status = status
        self.headers = headers
        self.content = content
        self.url = url
        self._json: Any = _UNPARSED

    def json(self) -> Any:
        if self._json is _UNPARSED:
            self._json = decode_json(self.content, url=self.url, status=self.status, headers=self.headers)
        return self._json

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def decode_json(
    content: bytes, *, url: str = "", status: int | None = None, headers: httpx.Headers | None = None
) -> Any:
    """Parse a JSON body or raise `UpstreamBadResponse` describing what came instead."""
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError):
        ctype = headers.get("content-type", "?") if headers is not None else "?"
        snippet = content[:60].decode("utf-8", errors="replace")
        raise UpstreamBadResponse(
            f"expected a JSON body, got {len(content)} bytes of {ctype} starting {snippet!r}",
            status=status,
            url=_redact(url),
        ) from None


def join_url(base_url: str, path: str) -> str:
    """``base_url`` + ``path``; absolute ``path`` (a next link) is used as is."""
    if path.startswith(("http://", "https://")):
        return path
    return base_url.rstrip("/") + "/" + path.lstrip("/")


def _redact(url: str) -> str:
    # Query strings may carry access tokens (WeCom ``access_token=``): never put them into errors.
    return url.split("?", 1)[0]


def _vendor_message(content: bytes) -> str:
    try:
        data = json.loads(content)
    except ValueError:
        return content[:120].decode("utf-8", errors="replace")
    if isinstance(data, dict):
        for key in ("message", "msg", "errmsg", "error", "detail"):
            value = data.get(key)
            if isinstance(value, str):
                return value[:200]
        errors = data.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("detail") or errors[0].get("title") or "")[:200]
    return ""


class UpstreamClient:
    """Sends requests to one upstream with retries, limits and error mapping (see module docstring)."""

    def __init__(
        self,
        base_url: str,
        *,
        client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        max_response_bytes: int | None = None,
        timeout: httpx.Timeout | None = None,
        requests_per_minute: float | None = None,
        auth: RequestAuth | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(transport=transport, timeout=timeout or DEFAULT_TIMEOUT)
        self.retry = retry or RetryPolicy()
        self.breaker = breaker
        self.sleep = sleep
        self.clock = clock
        self._rand = rand
        self.max_response_bytes = max_response_bytes or DEFAULT_MAX_RESPONSE_BYTES
        self.timeout = timeout or DEFAULT_TIMEOUT
        self.limiter = (
            RateLimiter(float(requests_per_minute), clock=clock, sleep=sleep) if requests_per_minute else None
        )
        self.auth = auth
        self.headers = {"accept": "application/json", "user-agent": "recruiting-hub-connectors/1"}
        self.headers.update({k.lower(): v for k, v in (headers or {}).items()})

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    # --- convenience ---------------------------------------------------------------------------------

    async def get_json(self, path: str, *, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return (await self.request("GET", path, params=params, **kw)).json()

    async def send_json(self, method: str, path: str, body: Any, **kw: Any) -> Any:
        return (await self.request(method, path, json_body=body, **kw)).json()

    # --- the one request path --------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        auth: RequestAuth | bool | None = True,
        expect_status: tuple[int, ...] = (),
        check: ResponseCheck | None = None,
    ) -> UpstreamResponse:
        """Send one request (with retries) and return its response, or raise an `UpstreamError`.

        ``json_body`` is serialized compactly as UTF-8; ``idempotent`` defaults by method (POST is not);
        ``auth=False`` skips the client's auth (token endpoints), an explicit object overrides it.
        Statuses in ``expect_status`` are returned instead of raised. ``check`` reads the vendor's envelope
        (even on HTTP 200) and may answer an error, which is retried or refreshed like a status error:
        `RateLimited` and `UpstreamUnavailable` retry, `UpstreamAuthError` refreshes the token once.
        """
        method = method.upper()
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        body = content if content is not None else b""
        req_headers = dict(self.headers)
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
            req_headers["content-type"] = "application/json; charset=utf-8"
        req_headers.update({k.lower(): v for k, v in (headers or {}).items()})
        use_auth = self.auth if auth is True else (auth or None)
        url = join_url(self.base_url, path)
        refreshed = False
        attempt = 0
        while True:
            outgoing = OutgoingRequest(method, url, dict(params or {}), dict(req_headers), body)
            if use_auth is not None:
                await use_auth.apply(outgoing, self)
            try:
                response = await self._send_once(outgoing)
            except CircuitOpen:
                raise  # the breaker decides when to try again, not this loop
            except UpstreamError as exc:
                not_sent = isinstance(exc, _NotSent)
                error, may_retry = exc, exc.retryable and (idempotent or not_sent)
                if not_sent:
                    error = UpstreamUnavailable(exc.message, url=_redact(url))
            else:
                status = response.status
                found = check(response) if check is not None else None
                if found is None:
                    if status < 400 or status in expect_status:
                        return response
                    found = self._error_for(response)
                error = found
                if isinstance(error, UpstreamAuthError) and use_auth is not None and not refreshed:
                    refreshed = True
                    use_auth.invalidate()
                    continue  # one free retry with fresh credentials
                may_retry = isinstance(error, RateLimited) or (
                    isinstance(error, UpstreamUnavailable) and (idempotent or status == 503)
                )
            attempt += 1
            retry_after = getattr(error, "retry_after", None)
            if not may_retry or attempt >= self.retry.max_attempts:
                raise error
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                raise error
            await self.sleep(self.retry.delay(attempt - 1, retry_after, self._rand))

    async def _send_once(self, outgoing: OutgoingRequest) -> UpstreamResponse:
        breaker = self.breaker
        if breaker is not None and not breaker.allow(now=self.clock()):
            raise CircuitOpen(
                "circuit breaker is open for this connection",
                retry_after=breaker.retry_after(now=self.clock()),
            )
        if self.limiter is not None:
            await self.limiter.acquire()
        url = httpx.URL(outgoing.url)
        params = {k: v for k, v in outgoing.params.items() if v is not None}
        if params:  # httpx would replace the URL's own query (next links, signed URLs): merge instead
            url = url.copy_merge_params(params)
        request = self._client.build_request(
            outgoing.method,
            url,
            headers=outgoing.headers,
            content=outgoing.content or None,
            timeout=self.timeout,
        )
        safe_url = _redact(outgoing.url)
        try:
            response = await self._client.send(request, stream=True)
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._failed(breaker)
            raise _NotSent(f"could not connect in time: {type(exc).__name__}", url=safe_url) from None
        except httpx.TimeoutException as exc:
            self._failed(breaker)
            raise UpstreamTimeout(f"upstream timed out: {type(exc).__name__}", url=safe_url) from None
        except httpx.ConnectError as exc:
            self._failed(breaker)
            raise _NotSent(f"could not connect: {exc}", url=safe_url) from None
        except httpx.TransportError as exc:
            self._failed(breaker)
            raise UpstreamUnavailable(f"transport error: {type(exc).__name__}", url=safe_url) from None
        try:
            content = await self._read_limited(response, safe_url)
        except httpx.TimeoutException:
            self._failed(breaker)
            raise UpstreamTimeout("upstream timed out while sending the body", url=safe_url) from None
        except httpx.TransportError as exc:
            self._failed(breaker)
            raise UpstreamUnavailable(f"transport error: {type(exc).__name__}", url=safe_url) from None
        finally:
            await response.aclose()
        if breaker is not None:
            if response.status_code >= 500:
                breaker.record_failure(now=self.clock())
            else:
                breaker.record_success()
        return UpstreamResponse(response.status_code, response.headers, content, str(response.url))

    def _failed(self, breaker: CircuitBreaker | None) -> None:
        if breaker is not None:
            breaker.record_failure(now=self.clock())

    async def _read_limited(self, response: httpx.Response, url: str) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(
                f"response of {declared} bytes exceeds the limit of {limit} bytes",
                limit=limit,
                status=response.status_code,
                url=url,
            )
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if total > limit:
                raise ResponseTooLarge(
                    f"response exceeds the limit of {limit} bytes; reading stopped",
                    limit=limit,
                    status=response.status_code,
                    url=url,
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _error_for(self, response: UpstreamResponse) -> UpstreamError:
        status, url = response.status, _redact(response.url)
        detail = _vendor_message(response.content)
        suffix = f": {detail}" if detail else ""
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RateLimited(f"rate limited (429){suffix}", retry_after=retry_after, status=status, url=url)
        if status >= 500:
            return UpstreamUnavailable(f"upstream answered {status}{suffix}", status=status, url=url)
        if status in (401, 403):
            return UpstreamAuthError(f"upstream refused the credentials ({status}){suffix}", status=status, url=url)
        return UpstreamRejected(f"upstream rejected the request ({status}){suffix}", status=status, url=url)


class _NotSent(UpstreamUnavailable):
    """Connection failed before the request left: safe to retry even when not idempotent."""
