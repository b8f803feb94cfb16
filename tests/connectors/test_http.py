"""connectors/http.py: retries, Retry-After, size limits, JSON, timeouts, breaker, rate limiter, auth refresh."""

from __future__ import annotations

import gzip
import json

import httpx
import pytest

from connectors.auth import TokenAuth
from connectors.errors import (
    CircuitOpen,
    RateLimited,
    ResponseTooLarge,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from connectors.http import (
    BreakerState,
    CircuitBreaker,
    RateLimiter,
    RetryPolicy,
    UpstreamClient,
    decode_json,
    join_url,
    parse_retry_after,
)


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def client(handler, *, sleeps: Sleeps | None = None, **kw) -> UpstreamClient:
    kw.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.5, max_delay=8, jitter=0.0))
    return UpstreamClient(
        "https://up.example/api", transport=httpx.MockTransport(handler), sleep=sleeps or Sleeps(), **kw
    )


def script(*answers):
    """A handler answering ``answers`` in turn (responses or exceptions to raise)."""
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        answer = answers[min(len(calls), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer

    handle.calls = calls  # type: ignore[attr-defined]
    return handle


async def test_5xx_then_success_retries_with_exponential_backoff() -> None:
    handler = script(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": True}))
    sleeps = Sleeps()
    answer = await client(handler, sleeps=sleeps).get_json("/things")
    assert answer == {"ok": True}
    assert len(handler.calls) == 3
    assert sleeps.calls == [0.5, 1.0]  # base * 2**attempt, no jitter


async def test_jitter_stays_within_the_configured_band() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=100, jitter=0.5)
    delays = [policy.delay(3, rand=lambda v=v: v) for v in (0.0, 0.5, 0.999)]
    assert delays[0] == 8.0 and 4.0 < delays[2] < delays[1] < 8.0
    assert RetryPolicy(max_delay=5).delay(10, rand=lambda: 0.0) == 5.0


async def test_429_honours_retry_after_seconds() -> None:
    handler = script(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=[]))
    sleeps = Sleeps()
    await client(handler, sleeps=sleeps).get_json("/x")
    assert sleeps.calls == [7.0]


async def test_429_with_http_date_retry_after() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("garbage") is None and parse_retry_after(None) is None
    assert parse_retry_after("-3") == 0.0


async def test_429_beyond_patience_is_raised_for_the_job_to_reschedule() -> None:
    handler = script(httpx.Response(429, headers={"Retry-After": "600"}, json={"detail": "Request was throttled."}))
    with pytest.raises(RateLimited) as caught:
        await client(handler).get_json("/x")
    assert caught.value.retry_after == 600.0
    assert caught.value.code == "UPSTREAM_RATE_LIMITED"
    assert "throttled" in caught.value.message
    assert len(handler.calls) == 1


async def test_429_on_every_attempt_ends_in_rate_limited() -> None:
    handler = script(httpx.Response(429, headers={"Retry-After": "1"}))
    with pytest.raises(RateLimited):
        await client(handler).get_json("/x")
    assert len(handler.calls) == 4


async def test_post_is_not_retried_after_a_5xx_but_is_after_429_and_503() -> None:
    handler = script(httpx.Response(500))
    with pytest.raises(UpstreamUnavailable):
        await client(handler).send_json("POST", "/create", {"a": 1})
    assert len(handler.calls) == 1  # may have been processed: do not duplicate
    handler = script(httpx.Response(503), httpx.Response(429), httpx.Response(201, json={"id": 1}))
    assert await client(handler).send_json("POST", "/create", {"a": 1}) == {"id": 1}
    handler = script(httpx.Response(500), httpx.Response(200, json={}))
    assert await client(handler).send_json("POST", "/create", {"a": 1}, idempotent=True) == {}


async def test_read_timeout_is_retried_for_reads_and_reported() -> None:
    handler = script(httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout) as caught:
        await client(handler).get_json("/slow")
    assert caught.value.code == "UPSTREAM_TIMEOUT" and caught.value.retryable
    assert len(handler.calls) == 4
    handler = script(httpx.ReadTimeout("slow"))
    with pytest.raises(UpstreamTimeout):
        await client(handler).send_json("POST", "/create", {})
    assert len(handler.calls) == 1


async def test_connection_refused_is_retried_even_for_posts() -> None:
    handler = script(httpx.ConnectError("refused"), httpx.Response(200, json={"id": 2}))
    assert await client(handler).send_json("POST", "/create", {}) == {"id": 2}


async def test_transport_errors_map_to_unavailable() -> None:
    handler = script(httpx.RemoteProtocolError("peer closed"))
    with pytest.raises(UpstreamUnavailable):
        await client(handler).get_json("/x")


async def test_non_json_body_is_a_bad_response_with_a_snippet() -> None:
    handler = script(httpx.Response(200, text="<html>502 Bad Gateway</html>", headers={"content-type": "text/html"}))
    with pytest.raises(UpstreamBadResponse) as caught:
        await client(handler).get_json("/x")
    assert "text/html" in caught.value.message and "<html>502" in caught.value.message
    with pytest.raises(UpstreamBadResponse):
        decode_json(b"\xff\xfe not utf8")


async def test_huge_declared_body_is_refused_before_reading() -> None:
    handler = script(httpx.Response(200, content=b"[]", headers={"content-length": str(10**9)}))
    with pytest.raises(ResponseTooLarge) as caught:
        await client(handler, max_response_bytes=1024).get_json("/x")
    assert caught.value.code == "UPSTREAM_RESPONSE_TOO_LARGE" and caught.value.limit == 1024
    assert len(handler.calls) == 1  # not retried


async def test_huge_streamed_page_stops_at_the_limit() -> None:
    page = json.dumps({"results": [{"id": n, "pad": "x" * 100} for n in range(1000)]}).encode()

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(page))  # no content-length header

    with pytest.raises(ResponseTooLarge):
        await client(handle, max_response_bytes=4096).get_json("/x")


async def test_gzip_bomb_is_measured_after_decompression() -> None:
    bomb = gzip.compress(b"[" + b"0," * 500_000 + b"0]")

    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bomb, headers={"content-encoding": "gzip"})

    assert len(bomb) < 10_000
    with pytest.raises(ResponseTooLarge):
        await client(handle, max_response_bytes=100_000).get_json("/x")


async def test_4xx_maps_to_rejected_and_auth_errors() -> None:
    handler = script(httpx.Response(400, json={"errors": [{"detail": "stage not of this job"}]}))
    with pytest.raises(UpstreamRejected) as caught:
        await client(handler).get_json("/x")
    assert "stage not of this job" in caught.value.message and caught.value.status == 400
    handler = script(httpx.Response(401, json={"detail": "Invalid API key."}))
    with pytest.raises(UpstreamAuthError) as auth:
        await client(handler).get_json("/x")
    assert auth.value.code == "UPSTREAM_AUTH_FAILED"


async def test_errors_never_carry_tokens_from_the_query_string() -> None:
    handler = script(httpx.Response(500))
    with pytest.raises(UpstreamUnavailable) as caught:
        await client(handler, retry=RetryPolicy(max_attempts=1)).get_json("/x", params={"access_token": "SECRET"})
    assert "SECRET" not in str(caught.value.to_dict()) and "SECRET" not in str(caught.value.url)


async def test_token_auth_fetches_once_and_refreshes_after_401() -> None:
    issued: list[str] = []

    async def fetch(up: UpstreamClient) -> tuple[str, float]:
        issued.append(f"t{len(issued) + 1}")
        return issued[-1], 7200

    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] == "Bearer t1" and len(seen) > 2:
            return httpx.Response(401)  # t1 expired upstream
        return httpx.Response(200, json={})

    up = client(handle, auth=TokenAuth(fetch))
    await up.get_json("/a")
    await up.get_json("/b")
    await up.get_json("/c")
    assert issued == ["t1", "t2"]
    assert seen == ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2"]


async def test_token_refresh_happens_once_then_auth_error() -> None:
    async def fetch(up: UpstreamClient) -> tuple[str, float]:
        return "bad", 7200

    handler = script(httpx.Response(401))
    with pytest.raises(UpstreamAuthError):
        await client(handler, auth=TokenAuth(fetch)).get_json("/x")
    assert len(handler.calls) == 2


def test_join_url() -> None:
    assert join_url("https://a/api/", "/x") == "https://a/api/x"
    assert join_url("https://a/api", "x?y=1") == "https://a/api/x?y=1"
    assert join_url("https://a/api", "https://b/next?c=2") == "https://b/next?c=2"


# --- circuit breaker -----------------------------------------------------------------------------------


def test_breaker_opens_after_threshold_and_half_opens_after_reset() -> None:
    breaker = CircuitBreaker(failure_threshold=3, reset_after=30)
    for t in (0, 1):
        breaker.record_failure(now=t)
    assert breaker.state(now=2) is BreakerState.CLOSED and breaker.allow(now=2)
    breaker.record_failure(now=2)
    assert breaker.state(now=3) is BreakerState.OPEN and not breaker.allow(now=3)
    assert breaker.retry_after(now=12) == 20
    assert breaker.state(now=32) is BreakerState.HALF_OPEN
    assert breaker.allow(now=32) and not breaker.allow(now=32)  # one trial only
    breaker.record_failure(now=33)
    assert breaker.state(now=34) is BreakerState.OPEN
    assert breaker.allow(now=64)
    breaker.record_success()
    assert breaker.state(now=64) is BreakerState.CLOSED and breaker.failures == 0


def test_breaker_round_trips_through_a_dict() -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_after=5)
    breaker.record_failure(now=1)
    breaker.record_failure(now=2)
    copy = CircuitBreaker.from_dict(json.loads(json.dumps(breaker.to_dict())))
    assert copy.state(now=3) is BreakerState.OPEN and copy.failures == 2


async def test_client_consults_the_breaker_and_fails_fast() -> None:
    now = [0.0]
    breaker = CircuitBreaker(failure_threshold=2, reset_after=10)
    handler = script(httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"ok": 1}))
    up = client(handler, breaker=breaker, clock=lambda: now[0], retry=RetryPolicy(max_attempts=2, base_delay=0))
    with pytest.raises(UpstreamUnavailable):
        await up.get_json("/x")
    with pytest.raises(CircuitOpen) as caught:
        await up.get_json("/x")
    assert caught.value.code == "UPSTREAM_CIRCUIT_OPEN" and caught.value.retry_after == 10
    assert len(handler.calls) == 2  # nothing was sent while open
    now[0] = 11.0
    assert await up.get_json("/x") == {"ok": 1}
    assert breaker.state(now=11) is BreakerState.CLOSED


async def test_4xx_and_429_do_not_trip_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_after=10)
    handler = script(httpx.Response(404, json={}), httpx.Response(429), httpx.Response(200, json={}))
    up = client(handler, breaker=breaker, retry=RetryPolicy(max_attempts=1))
    with pytest.raises(UpstreamRejected):
        await up.get_json("/x")
    with pytest.raises(RateLimited):
        await up.get_json("/x")
    assert breaker.state(now=0) is BreakerState.CLOSED


# --- client-side rate limit ------------------------------------------------------------------------------


async def test_rate_limiter_allows_a_burst_then_spaces_requests() -> None:
    clock = [0.0]
    sleeps = Sleeps()
    limiter = RateLimiter(60, burst=2, clock=lambda: clock[0], sleep=sleeps)
    for _ in range(4):
        await limiter.acquire()
    assert sleeps.calls == [1.0, 2.0]  # 1 request/second once the burst of 2 is used


async def test_vendor_envelope_check_drives_retries() -> None:
    handler = script(
        httpx.Response(200, json={"errcode": 45009, "errmsg": "api freq out of limit"}, headers={"Retry-After": "3"}),
        httpx.Response(200, json={"errcode": 0}),
    )
    sleeps = Sleeps()

    def check(response):
        if response.json().get("errcode") == 45009:
            return RateLimited("slow down", retry_after=float(response.headers["retry-after"]))
        return None

    up = client(handler, sleeps=sleeps)
    response = await up.request("POST", "/cgi", json_body={}, check=check)
    assert response.json() == {"errcode": 0} and sleeps.calls == [3.0]
