"""ONE contract suite, run against every registered connector: built-ins, the mock and manifest connectors.

A new connector joins by getting a harness in `tests.connectors.harness`; the first test fails until it
has one, so no registered kind escapes the contract.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from datetime import UTC, datetime

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import WRITE_OPERATIONS, Capability, Connector, Page, RawItem, WebhookEvent, WriteResult
from connectors.errors import (
    NormalizationError,
    ReplayDetected,
    SignatureInvalid,
    TimestampOutOfTolerance,
    UnsupportedOperation,
    UpstreamBadResponse,
    UpstreamUnavailable,
    WebhookError,
    WritePayloadInvalid,
)
from schema.records import RECORD_TYPES, CanonicalRecord
from tests.connectors.conftest import full_registry
from tests.connectors.harness import HARNESSES, NOW, Harness

REGISTRY = full_registry()
KINDS = REGISTRY.kinds()
_NORMALIZERS: dict[str, Connector] = {}  # normalize is pure: one connector per kind serves every example
pytestmark = pytest.mark.parametrize("kind", KINDS)


def _harness(kind: str) -> Harness:
    return HARNESSES[kind]()


def test_every_registered_kind_has_a_harness(kind: str) -> None:
    assert kind in HARNESSES, f"connector {kind!r} is registered but not covered by the contract suite"


def test_declares_its_contract(kind: str, registry) -> None:
    cls = registry.get(kind)
    assert issubclass(cls, Connector)
    assert cls.kind == kind
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", cls.version)
    assert cls.capabilities and set(cls.capabilities) <= set(RECORD_TYPES)
    for caps in cls.capabilities.values():
        assert caps and caps <= set(Capability)
    if cls.source != "manifest":
        assert cls.write_operations <= set(WRITE_OPERATIONS)
    info = registry.info(kind).to_dict()
    assert json.loads(json.dumps(info)) == info


async def test_reads_every_readable_model_page_by_page(kind: str, registry) -> None:
    harness = _harness(kind)
    async with harness.connector(registry) as connector:
        readable = {m for m, caps in connector.capabilities.items() if Capability.READ in caps}
        assert harness.expected_models <= readable
        for model in sorted(harness.expected_models):
            cursor, pages, records = None, 0, []
            while True:
                page = await connector.read_page(model, cursor=cursor, since=None)
                assert isinstance(page, Page)
                pages += 1
                for item in page.items:
                    assert isinstance(item, RawItem)
                    record = connector.normalize(model, item.payload)
                    assert isinstance(record, RECORD_TYPES[model])
                    assert record.remote_id == item.remote_id or not item.remote_id
                    records.append(record)
                if page.watermark is not None:
                    assert page.watermark.tzinfo is not None
                cursor = page.next_cursor
                if cursor is None:
                    break
                assert pages < 50, "pagination does not terminate"
            assert records, f"{kind} read no {model}"
            assert len({r.remote_id for r in records}) == len(records)


async def test_incremental_read_takes_since(kind: str, registry) -> None:
    harness = _harness(kind)
    model = sorted(harness.expected_models)[0]
    async with harness.connector(registry) as connector:
        page = await connector.read_page(model, cursor=None, since=datetime(2025, 3, 1, tzinfo=UTC))
    assert isinstance(page, Page)


async def test_unknown_model_is_unsupported(kind: str, registry) -> None:
    async with _harness(kind).connector(registry) as connector:
        with pytest.raises(UnsupportedOperation) as caught:
            await connector.read_page("no_such_model")
        assert caught.value.code == "CONNECTOR_UNSUPPORTED"
        with pytest.raises(UnsupportedOperation):
            connector.normalize("no_such_model", {})


async def test_normalize_rejects_non_objects_with_a_path(kind: str, registry) -> None:
    harness = _harness(kind)
    model = sorted(harness.expected_models)[0]
    async with harness.connector(registry) as connector:
        for payload in ([], "x", 3, None):
            with pytest.raises(NormalizationError) as caught:
                connector.normalize(model, payload)  # type: ignore[arg-type]
            assert caught.value.path.startswith("$")
            assert caught.value.to_dict()["code"] == "NORMALIZATION_FAILED"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_normalize_only_ever_raises_normalization_error(kind: str, data) -> None:
    harness = _harness(kind)
    connector = _NORMALIZERS.setdefault(kind, harness.connector(REGISTRY))
    model = data.draw(st.sampled_from(sorted(harness.expected_models)))
    payload = data.draw(st.dictionaries(st.text(max_size=12), JSON, max_size=6))
    try:
        record = connector.normalize(model, payload)
    except NormalizationError as exc:
        assert exc.path.startswith("$") and exc.reason
    else:
        assert isinstance(record, CanonicalRecord)


_SAMPLES: dict[str, list[tuple[str, dict]]] = {}


def _samples(kind: str) -> list[tuple[str, dict]]:
    """Real payloads of every readable model, read once through the harness."""
    if kind not in _SAMPLES:

        async def collect() -> list[tuple[str, dict]]:
            harness = _harness(kind)
            async with harness.connector(REGISTRY) as connector:
                found = []
                for model in sorted(harness.expected_models):
                    page = await connector.read_page(model)
                    found += [(model, item.payload) for item in page.items[:1]]
                return found

        _SAMPLES[kind] = asyncio.run(collect())
    return _SAMPLES[kind]


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_normalize_survives_mutated_real_payloads(kind: str, data) -> None:
    model, original = data.draw(st.sampled_from(_samples(kind)))
    payload = copy.deepcopy(original)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(payload) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        holder = payload
        for step in path[:-1]:
            holder = holder[step]
        if isinstance(holder, dict) and data.draw(st.booleans()):
            del holder[path[-1]]
        else:
            holder[path[-1]] = data.draw(JSON)
    connector = _NORMALIZERS.setdefault(kind, _harness(kind).connector(REGISTRY))
    try:
        record = connector.normalize(model, payload)
    except NormalizationError as exc:
        assert exc.path.startswith("$") and exc.reason
    else:
        assert isinstance(record, CanonicalRecord)


async def test_writes_every_operation(kind: str, registry) -> None:
    harness = _harness(kind)
    async with harness.connector(registry) as connector:
        for operation in sorted(connector.write_operations):
            payload = harness.writes.get(operation)
            if payload is None:
                continue
            result = await connector.write(operation, payload, idempotency_key=f"job-1:{operation}")
            assert isinstance(result, WriteResult)
            assert result.remote_id
            assert isinstance(result.raw, dict)
        with pytest.raises(UnsupportedOperation):
            await connector.write("no.such_operation", {}, idempotency_key="k")


async def test_write_with_missing_keys_sends_nothing(kind: str, registry) -> None:
    harness = _harness(kind)
    if kind == "mock":
        pytest.skip("the mock forwards any payload by design")
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return harness.handler(request)

    async with harness.connector(registry, handler) as connector:
        for operation in sorted(connector.write_operations):
            with pytest.raises(WritePayloadInvalid) as caught:
                await connector.write(operation, {}, idempotency_key="k")
            assert caught.value.code == "WRITE_PAYLOAD_INVALID"
    assert not [r for r in sent if r.method != "GET" and "token" not in r.url.path.lower()]


def _verify(connector: Connector, delivery, now: float, **kw) -> WebhookEvent:
    return connector.verify_webhook(
        delivery.headers, delivery.body, query=delivery.query, now=datetime.fromtimestamp(now, UTC), **kw
    )


async def test_webhook_good_delivery_verifies(kind: str, registry) -> None:
    harness = _harness(kind)
    async with harness.connector(registry) as connector:
        event = _verify(connector, harness.sign(NOW), NOW)
        assert isinstance(event, WebhookEvent)
        assert event.event_id and event.reply.status == 200
        assert event.model in connector.capabilities
        assert Capability.WEBHOOK in connector.capabilities[event.model]
        assert event.remote_id
        again = _verify(connector, harness.sign(NOW), NOW)
        assert again.event_id == event.event_id  # a repeated delivery has the same id: the hub dedupes on it


async def test_webhook_tampered_body_is_refused(kind: str, registry) -> None:
    harness = _harness(kind)
    delivery = harness.sign(NOW)
    if b"<Encrypt>" in delivery.body:
        delivery.body = delivery.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[A")
    elif delivery.body.startswith(b'{"encrypt":"'):  # only the ciphertext is signed: change it
        delivery.body = delivery.body.replace(b'{"encrypt":"', b'{"encrypt":"A', 1)
    else:
        delivery.body = delivery.body[:-1] + b" " + delivery.body[-1:]
    async with harness.connector(registry) as connector:
        with pytest.raises(SignatureInvalid) as caught:
            _verify(connector, delivery, NOW)
    assert caught.value.code == "WEBHOOK_SIGNATURE_INVALID"


async def test_webhook_stale_delivery_is_refused(kind: str, registry) -> None:
    harness = _harness(kind)
    stale = NOW - 3600
    if kind in ("moka_style",):
        pytest.skip("plain HMAC over the body signs no timestamp; dedupe by event id protects it")
    async with harness.connector(registry) as connector:
        with pytest.raises(TimestampOutOfTolerance) as caught:
            _verify(connector, harness.sign(stale), NOW)
    assert caught.value.code == "WEBHOOK_TIMESTAMP_OUT_OF_TOLERANCE"


async def test_webhook_replay_is_refused_through_seen(kind: str, registry) -> None:
    harness = _harness(kind)
    seen: set[str] = set()

    def seen_before(event_id: str) -> bool:
        if event_id in seen:
            return True
        seen.add(event_id)
        return False

    async with harness.connector(registry) as connector:
        _verify(connector, harness.sign(NOW), NOW, seen=seen_before)
        with pytest.raises(ReplayDetected) as caught:
            _verify(connector, harness.sign(NOW), NOW, seen=seen_before)
    assert caught.value.code == "WEBHOOK_REPLAYED" and caught.value.event_id in seen


async def test_webhook_garbage_is_a_webhook_error(kind: str, registry) -> None:
    async with _harness(kind).connector(registry) as connector:
        with pytest.raises(WebhookError):
            connector.verify_webhook({}, b"not json at all", query={}, now=datetime.fromtimestamp(NOW, UTC))


async def test_webhook_event_loads_and_normalizes(kind: str, registry) -> None:
    harness = _harness(kind)
    async with harness.connector(registry) as connector:
        event = _verify(connector, harness.sign(NOW), NOW)
        item = await connector.load_event(event)
        record = connector.normalize_event(event, item)
        assert isinstance(record, RECORD_TYPES[event.model])


async def test_upstream_5xx_becomes_unavailable_after_retries(kind: str, registry) -> None:
    harness = _harness(kind)
    calls = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="upstream down")

    async with harness.connector(registry, down) as connector:
        with pytest.raises(UpstreamUnavailable) as caught:
            await connector.read_page(sorted(harness.expected_models)[0])
    assert caught.value.retryable and caught.value.code == "UPSTREAM_UNAVAILABLE"
    assert len(calls) == 3  # the FAST policy: three attempts


async def test_non_json_answer_is_a_bad_response(kind: str, registry) -> None:
    harness = _harness(kind)

    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>maintenance</html>", headers={"content-type": "text/html"})

    async with harness.connector(registry, html) as connector:
        with pytest.raises(UpstreamBadResponse) as caught:
            await connector.read_page(sorted(harness.expected_models)[0])
    assert caught.value.code == "UPSTREAM_BAD_RESPONSE" and not caught.value.retryable


async def test_answers_of_the_wrong_shape_are_bad_responses(kind: str, registry) -> None:
    harness = _harness(kind)

    def wrong(request: httpx.Request) -> httpx.Response:
        answer = harness.handler(request)
        if "token" in request.url.path.lower():
            return answer
        return httpx.Response(200, json={"unexpected": "envelope"})

    async with harness.connector(registry, wrong) as connector:
        with pytest.raises(UpstreamBadResponse):
            await connector.read_page(sorted(harness.expected_models)[0])


async def test_webhook_events_survive_the_trip_to_a_job(kind: str, registry) -> None:
    harness = _harness(kind)
    async with harness.connector(registry) as connector:
        event = _verify(connector, harness.sign(NOW), NOW)
        stored = json.loads(json.dumps(event.to_dict()))
        again = WebhookEvent.from_dict(stored)
        assert (again.event_id, again.model, again.remote_id, again.type) == (
            event.event_id,
            event.model,
            event.remote_id,
            event.type,
        )
        assert dict(again.hints) == dict(event.hints) and again.occurred_at == event.occurred_at
        record = connector.normalize_event(again, await connector.load_event(again))
        assert record == connector.normalize_event(event, await connector.load_event(event))
