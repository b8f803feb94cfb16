"""connectors/mock.py: a handler-driven connector for the hub's tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from connectors.errors import NormalizationError, RateLimited, UpstreamBadResponse
from connectors.http import RetryPolicy
from connectors.mock import MockConnector, MockUpstream


async def test_a_handler_is_all_it_takes() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"remote_id": "J1", "title": "Backend"}], "next": None})

    async with MockConnector(handler) as connector:
        page = await connector.read_page("job")
        assert connector.normalize("job", page.items[0].payload).title == "Backend"


async def test_mock_upstream_pages_filters_and_records_writes() -> None:
    upstream = MockUpstream(
        {
            "job": [
                {"remote_id": "J1", "title": "A", "remote_updated_at": "2025-03-01T00:00:00Z"},
                {"remote_id": "J2", "title": "B", "remote_updated_at": "2025-03-05T00:00:00Z"},
                {"remote_id": "J3", "title": "C", "remote_updated_at": "2025-03-09T00:00:00Z"},
            ]
        },
        page_size=1,
    )
    connector = MockConnector(upstream.handler)
    page = await connector.read_page("job", since=datetime(2025, 3, 4, tzinfo=UTC))
    assert [i.remote_id for i in page.items] == ["J2"] and page.next_cursor == "1"
    assert page.watermark == datetime(2025, 3, 5, tzinfo=UTC)
    result = await connector.write("application.change_stage", {"application_remote_id": "A"}, idempotency_key="k1")
    assert result.remote_id == "w1" and upstream.writes == [
        ("application.change_stage", {"application_remote_id": "A"}, "k1")
    ]
    assert (await connector.fetch("job", "J3")).payload["title"] == "C"


async def test_scripted_faults_go_through_the_real_http_machinery() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, text="<html>")])
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    connector = MockConnector(lambda r: next(answers), retry=RetryPolicy(max_attempts=2, base_delay=0), sleep=sleep)
    with pytest.raises(UpstreamBadResponse):
        await connector.read_page("job")
    assert slept == [1.0]
    with pytest.raises(RateLimited):
        await MockConnector(lambda r: httpx.Response(429), retry=RetryPolicy(max_attempts=1)).read_page("job")


def test_normalize_is_canonical_validation_with_paths() -> None:
    with pytest.raises(NormalizationError) as caught:
        MockConnector().normalize("candidate", {"remote_id": "C1", "emails": [{"value": ""}]})
    assert caught.value.path == "$.emails[0].value"
    assert json.dumps(caught.value.to_dict())
