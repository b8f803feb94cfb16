"""connectors/manifest_connector.py: a connector from a manifest alone: auth, paging, envelopes, writes, hooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import yaml

from connectors.base import ConnectionConfig
from connectors.errors import (
    ConnectorConfigError,
    RateLimited,
    SignatureInvalid,
    TimestampOutOfTolerance,
    UpstreamBadResponse,
    UpstreamRejected,
    WebhookPayloadInvalid,
)
from connectors.manifest import load_manifest
from connectors.manifest_connector import ManifestConnector
from connectors.webhooks import sign_stripe
from tests.connectors.harness import FAST, no_sleep

BASE: dict[str, Any] = {
    "manifest_version": 1,
    "kind": "test_ats",
    "name": "Test ATS",
    "version": "1.0.0",
    "base_url": "https://ats.example/api",
    "auth": {"type": "bearer", "token": "${credentials.token}"},
    "models": {
        "job": {
            "read": {"path": "/jobs", "items": "data", "page_size": 2},
            "fetch": {"path": "/jobs/${remote_id}", "item": "data"},
            "identity": {"remote_id": "id", "updated_at": {"path": "updated", "time": "epoch_s"}},
            "fields": {"title": "name"},
        }
    },
}
JOBS = [{"id": n, "name": f"Job {n}", "updated": 1741486200 + n} for n in range(5)]


def build(manifest: dict[str, Any], handler, **config: Any) -> ManifestConnector:
    cls = ManifestConnector.from_manifest(load_manifest(manifest))
    cfg = ConnectionConfig(
        config.pop("base_url", ""),
        config.pop("credentials", {"token": "t"}),
        config.pop("settings", {}),
        config.pop("webhook_secret", None),
    )
    return cls(cfg, transport=httpx.MockTransport(handler), retry=FAST, sleep=no_sleep)


def with_read(**read: Any) -> dict[str, Any]:
    manifest = json.loads(json.dumps(BASE))
    manifest["models"]["job"]["read"].update(read)
    return manifest


async def read_all(connector: ManifestConnector, since: datetime | None = None) -> list[str]:
    cursor, ids = None, []
    while True:
        page = await connector.read_page("job", cursor=cursor, since=since)
        ids += [item.remote_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return ids


# --- pagination styles ---------------------------------------------------------------------------------


async def test_cursor_style_with_opaque_cursors() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("after") or 0)
        nxt = str(start + 2) if start + 2 < len(JOBS) else None
        assert request.url.params["limit"] == "2"
        return httpx.Response(200, json={"data": JOBS[start : start + 2], "meta": {"next": nxt}})

    connector = build(
        with_read(pagination={"style": "cursor", "param": "after", "size_param": "limit", "next_path": "meta.next"}),
        handle,
    )
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]


async def test_cursor_style_following_next_links() -> None:
    seen: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        start = int(request.url.params.get("offset") or 0)
        nxt = f"https://ats.example/api/jobs?offset={start + 2}&sig=abc" if start + 2 < len(JOBS) else None
        return httpx.Response(200, json={"data": JOBS[start : start + 2], "links": {"next": nxt}})

    connector = build(with_read(pagination={"style": "cursor", "next_path": "links.next"}), handle)
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]
    assert seen[1] == "https://ats.example/api/jobs?offset=2&sig=abc"


async def test_page_token_style_stops_on_has_more_false() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("page_token") or 0)
        more = start + 2 < len(JOBS)
        return httpx.Response(200, json={"data": JOBS[start : start + 2], "token": str(start + 2), "more": more})

    connector = build(
        with_read(pagination={"style": "page_token", "next_path": "token", "has_more_path": "more"}), handle
    )
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]


async def test_offset_style_with_total() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(200, json={"data": JOBS[offset : offset + limit], "total": 4})

    connector = build(with_read(pagination={"style": "offset", "total_path": "total"}), handle)
    assert await read_all(connector) == ["0", "1", "2", "3"]


async def test_page_style_stops_on_a_short_page() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        page, size = int(request.url.params["p"]), int(request.url.params["size"])
        return httpx.Response(200, json={"data": JOBS[(page - 1) * size : page * size]})

    connector = build(with_read(pagination={"style": "page", "param": "p", "size_param": "size"}), handle)
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]


def link_pages(seen: list[httpx.Request], *, origin: str = "https://ats.example", relative: bool = True):
    """An upstream that pages ``JOBS`` with RFC 8288 Link headers (GitHub style), relative or absolute."""

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page, per = int(request.url.params.get("page", 1)), int(request.url.params.get("per_page", 2))
        links = [f'</api/jobs?page=1&per_page={per}>; rel="first"']
        if page * per < len(JOBS):
            target = f"/api/jobs?page={page + 1}&per_page={per}"
            links.append(f'<{target if relative else origin + target}>; rel="next last"')
        data = {"data": JOBS[(page - 1) * per : page * per]}
        return httpx.Response(200, json=data, headers={"link": ", ".join(links)})

    return handle


async def test_link_header_style_follows_rel_next() -> None:
    seen: list[httpx.Request] = []
    since = datetime(2025, 3, 9, tzinfo=UTC)
    manifest = with_read(
        pagination={"style": "link", "size_param": "per_page"}, incremental={"param": "since", "format": "epoch_s"}
    )
    connector = build(manifest, link_pages(seen))
    assert await read_all(connector, since=since) == ["0", "1", "2", "3", "4"]
    first, second, third = (r.url for r in seen)
    assert first.params["per_page"] == "2" and first.params["since"] == str(int(since.timestamp()))
    assert str(second) == "https://ats.example/api/jobs?page=2&per_page=2"  # the link as is, resolved
    assert str(third) == "https://ats.example/api/jobs?page=3&per_page=2"
    assert all(r.headers["authorization"] == "Bearer t" for r in seen)


async def test_link_header_style_with_absolute_links_and_another_relation() -> None:
    seen: list[httpx.Request] = []
    connector = build(with_read(pagination={"style": "link", "rel": "last", "size_param": "per_page"}),
                      link_pages(seen, relative=False))  # fmt: skip
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]
    assert len(seen) == 3


async def test_link_header_style_resumes_from_a_stored_cursor() -> None:
    seen: list[httpx.Request] = []
    connector = build(with_read(pagination={"style": "link", "size_param": "per_page"}), link_pages(seen))
    first = await connector.read_page("job")
    rest = await read_all_from(connector, first.next_cursor)
    assert [i.remote_id for i in first.items] + rest == ["0", "1", "2", "3", "4"]


async def read_all_from(connector: ManifestConnector, cursor: str | None) -> list[str]:
    ids: list[str] = []
    while cursor is not None:
        page = await connector.read_page("job", cursor=cursor)
        ids += [item.remote_id for item in page.items]
        cursor = page.next_cursor
    return ids


async def test_a_malformed_link_header_is_a_bad_response_not_the_last_page() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        broken = '<https://ats.example/api/jobs?page=2; rel="next"'  # no closing '>'
        return httpx.Response(200, json={"data": JOBS[:2]}, headers={"link": broken})

    connector = build(with_read(pagination={"style": "link"}), handle)
    with pytest.raises(UpstreamBadResponse, match="malformed Link header") as caught:
        await connector.read_page("job")
    assert caught.value.code == "UPSTREAM_BAD_RESPONSE"


@pytest.mark.parametrize("style", ["link", "cursor"])
async def test_next_links_to_another_origin_are_not_followed(style: str) -> None:
    """A next link is followed with the connection's credentials: only to the upstream's own origin."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        evil = "https://collector.evil.example/steal?page=2"
        return httpx.Response(200, json={"data": JOBS[:2], "next": evil}, headers={"link": f'<{evil}>; rel="next"'})

    pagination = {"style": "link"} if style == "link" else {"style": "cursor", "next_path": "next"}
    connector = build(with_read(pagination=pagination), handle)
    page = await connector.read_page("job")
    with pytest.raises(UpstreamBadResponse, match="leaves the upstream's origin"):
        await connector.read_page("job", cursor=page.next_cursor)
    assert [r.url.host for r in seen] == ["ats.example"]


async def test_post_reads_put_paging_into_the_body() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        assert body["filter"] == {"open": True}
        start = body.get("cursor") or 0
        return httpx.Response(200, json={"data": JOBS[start : start + 2], "next": start + 2 if start + 2 < 5 else None})

    connector = build(
        with_read(
            method="POST",
            body={"filter": {"open": True}},
            pagination={"style": "cursor", "next_path": "next", "in": "body"},
        ),
        handle,
    )
    assert await read_all(connector) == ["0", "1", "2", "3", "4"]


async def test_incremental_parameter_and_watermark() -> None:
    since = datetime(2025, 3, 9, tzinfo=UTC)

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.params["changed_since"] == str(int(since.timestamp() * 1000))
        return httpx.Response(200, json={"data": JOBS[:2]})

    connector = build(with_read(incremental={"param": "changed_since", "format": "epoch_ms"}), handle)
    page = await connector.read_page("job", since=since)
    assert page.watermark == datetime.fromtimestamp(1741486201, UTC)
    assert page.next_cursor is None


async def test_items_that_are_not_a_list_are_a_bad_response() -> None:
    connector = build(BASE, lambda r: httpx.Response(200, json={"error": "maintenance"}))
    with pytest.raises(UpstreamBadResponse, match="expected a list at 'data'"):
        await connector.read_page("job")


async def test_fetch_one() -> None:
    connector = build(BASE, lambda r: httpx.Response(200, json={"data": JOBS[3]}))
    item = await connector.fetch("job", "3")
    assert item.remote_id == "3" and connector.normalize("job", item.payload).title == "Job 3"


# --- envelopes -----------------------------------------------------------------------------------------

ENVELOPED = {
    **BASE,
    "response": {"success_path": "code", "success_values": [0], "message_path": "msg", "rate_limited_values": [429001]},
}


@pytest.mark.parametrize(
    ("answer", "error", "fragment"),
    [
        ({"code": 429001, "msg": "too fast"}, RateLimited, "too fast"),
        ({"code": 40003, "msg": "no permission"}, UpstreamRejected, "no permission"),
        ({"unexpected": True}, UpstreamBadResponse, "not the envelope"),
    ],
)
async def test_envelope_errors_sent_with_http_200(answer, error, fragment) -> None:
    connector = build(ENVELOPED, lambda r: httpx.Response(200, json=answer))
    with pytest.raises(error, match=fragment):
        await connector.read_page("job")


# --- auth ----------------------------------------------------------------------------------------------


async def test_api_key_in_header_or_query_and_static_headers() -> None:
    manifest = {
        **BASE,
        "auth": {"type": "api_key", "header": "X-Api-Key", "value": "${credentials.token}"},
        "headers": {"X-Tenant": "${settings.tenant}", "X-Empty": "${settings.absent}"},
    }

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-api-key"] == "t" and request.headers["x-tenant"] == "acme"
        assert "x-empty" not in request.headers
        return httpx.Response(200, json={"data": []})

    await build(manifest, handle, settings={"tenant": "acme"}).read_page("job")
    manifest = {**BASE, "auth": {"type": "api_key", "query_param": "key", "value": "${credentials.token}"}}
    await build(
        manifest, lambda r: httpx.Response(200 if r.url.params["key"] == "t" else 401, json={"data": []})
    ).read_page("job")


async def test_hmac_request_signing_can_be_verified_by_the_upstream() -> None:
    manifest = {
        **BASE,
        "auth": {
            "type": "hmac",
            "secret": "${credentials.token}",
            "header": "X-Sig",
            "timestamp_header": "X-Ts",
            "message": "{method}|{path}|{timestamp}|{body_sha256}",
        },
    }

    def handle(request: httpx.Request) -> httpx.Response:
        query = "&".join(sorted(request.url.query.decode().split("&"))) if request.url.query else ""
        path = request.url.path + (f"?{query}" if query else "")
        message = f"{request.method}|{path}|{request.headers['x-ts']}|{hashlib.sha256(request.content).hexdigest()}"
        expected = hmac.new(b"t", message.encode(), hashlib.sha256).hexdigest()
        return httpx.Response(200 if request.headers["x-sig"] == expected else 401, json={"data": []})

    await build(manifest, handle).read_page("job")


async def test_oauth2_client_credentials_fetches_and_refreshes_tokens() -> None:
    manifest = {
        **BASE,
        "auth": {
            "type": "oauth2_client_credentials",
            "token_url": "https://auth.example/token",
            "client_id": "${credentials.id}",
            "client_secret": "${credentials.secret}",
        },
    }
    tokens: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.host == "auth.example":
            form = parse_qs(request.content.decode())
            assert form["grant_type"] == ["client_credentials"] and form["client_secret"] == ["s"]
            tokens.append(f"tok{len(tokens)}")
            return httpx.Response(200, json={"access_token": tokens[-1], "expires_in": 3600})
        if request.headers["authorization"] == "Bearer tok0" and len(tokens) == 1 and request.url.params.get("x"):
            return httpx.Response(401)
        return httpx.Response(200, json={"data": []})

    connector = build(manifest, handle, credentials={"id": "i", "secret": "s"})
    await connector.read_page("job")
    assert tokens == ["tok0"]
    connector.manifest.models["job"]["read"]["params"] = {"x": "1"}
    await connector.read_page("job")
    assert tokens == ["tok0", "tok1"]


def test_missing_credentials_and_base_url_are_config_errors() -> None:
    with pytest.raises(ConnectorConfigError, match="token"):
        build(BASE, lambda r: httpx.Response(200), credentials={})
    manifest = {k: v for k, v in BASE.items() if k != "base_url"}
    with pytest.raises(ConnectorConfigError, match="base_url"):
        build(manifest, lambda r: httpx.Response(200))


def test_rate_limit_from_the_manifest() -> None:
    connector = build({**BASE, "rate_limit": {"requests_per_minute": 120, "burst": 3}}, lambda r: httpx.Response(200))
    assert connector.http.limiter is not None and connector.http.limiter.capacity == 3


# --- writes --------------------------------------------------------------------------------------------

WRITES = {
    **BASE,
    "writes": {
        "application.screening_results": {
            "method": "POST",
            "path": "/applications/${payload.application_remote_id}/results",
            "required": ["application_remote_id", "score"],
            "body": {
                "score": "${payload.score}",
                "passed": "${payload.passed}",
                "note": "run ${payload.run_id}",
                "reasons": "${payload.reasons}",
            },
            "idempotency_header": "Idempotency-Key",
            "remote_id": "result.id",
        }
    },
}


async def test_write_renders_typed_bodies_and_encodes_path_values() -> None:
    sent: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={"result": {"id": 77}})

    connector = build(WRITES, handle)
    result = await connector.write(
        "application.screening_results",
        {"application_remote_id": "a/1?x", "score": 86.5, "passed": True, "run_id": "r9", "reasons": ["Go"]},
        idempotency_key="job-42",
    )
    assert result.remote_id == "77"
    request = sent[0]
    assert request.url.raw_path == b"/api/applications/a%2F1%3Fx/results"
    assert json.loads(request.content) == {"score": 86.5, "passed": True, "note": "run r9", "reasons": ["Go"]}
    assert request.headers["idempotency-key"] == "job-42"


async def test_write_is_retried_when_it_carries_an_idempotency_key() -> None:
    answers = iter([httpx.Response(500), httpx.Response(201, json={"result": {"id": 1}})])
    connector = build(WRITES, lambda r: next(answers))
    result = await connector.write(
        "application.screening_results", {"application_remote_id": "a", "score": 1}, idempotency_key="k"
    )
    assert result.remote_id == "1"


# --- webhooks ------------------------------------------------------------------------------------------

HOOKS = {
    **BASE,
    "webhook": {
        "scheme": "stripe",
        "header": "X-Sig",
        "event_id": "id",
        "event_type": "type",
        "remote_id": "object.id",
        "item": "object",
        "models": {"job.updated": "job"},
    },
}
NOW = datetime(2025, 3, 9, 6, 46, 40, tzinfo=UTC)


async def test_stripe_style_webhook() -> None:
    body = json.dumps({"id": "evt_1", "type": "job.updated", "object": JOBS[1]}).encode()
    connector = build(HOOKS, lambda r: httpx.Response(200), webhook_secret="sk new-sk")
    header = sign_stripe("new-sk", int(NOW.timestamp()), body)
    event = connector.verify_webhook({"X-Sig": header}, body, now=NOW)
    assert (event.event_id, event.model, event.remote_id) == ("evt_1", "job", "1")
    assert connector.normalize_event(event, await connector.load_event(event)).title == "Job 1"
    with pytest.raises(TimestampOutOfTolerance):
        connector.verify_webhook({"X-Sig": sign_stripe("sk", 1, body)}, body, now=NOW)
    with pytest.raises(SignatureInvalid):
        connector.verify_webhook({"X-Sig": sign_stripe("other", int(NOW.timestamp()), body)}, body, now=NOW)


async def test_hmac_webhook_with_timestamp_header_and_unknown_types() -> None:
    manifest = yaml.safe_load(yaml.safe_dump(HOOKS))
    manifest["webhook"] = {
        "scheme": "hmac_sha256",
        "header": "X-Hub",
        "encoding": "base64",
        "prefix": "",
        "timestamp_header": "X-Hub-Time",
        "event_id": "id",
        "event_type": "type",
        "models": {"job.updated": "job"},
    }
    connector = build(manifest, lambda r: httpx.Response(200), webhook_secret="hook")
    body = json.dumps({"id": "e2", "type": "invoice.paid"}).encode()
    signature = base64.b64encode(hmac.new(b"hook", body, hashlib.sha256).digest()).decode()
    event = connector.verify_webhook({"X-Hub": signature, "X-Hub-Time": str(int(NOW.timestamp()))}, body, now=NOW)
    assert event.model is None and not event.actionable  # authenticated, but nothing to process
    with pytest.raises(TimestampOutOfTolerance):
        connector.verify_webhook({"X-Hub": signature, "X-Hub-Time": "1000"}, body, now=NOW)
    with pytest.raises(WebhookPayloadInvalid):
        connector.verify_webhook({"X-Hub": signature}, body, now=NOW)
