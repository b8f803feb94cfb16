"""`ManifestConnector`: the connector contract implemented from a declarative manifest.

``ManifestConnector.from_manifest(manifest)`` makes a connector *class* for one manifest (kind, version and
capabilities come from it), so the registry hands out manifest connectors and Python connectors alike:
``cls(config, transport=...)``.

Reads follow ``models.<model>.read``: the request is rendered from templates, the incremental parameter
is added when ``since`` is given, the items are found at ``items`` (an answer without a list there is
refused as UPSTREAM_BAD_RESPONSE, so a changed envelope never looks like an empty table), and the next
page is described by the pagination style:

- ``cursor``: ``next_path`` holds an opaque cursor sent back in ``param`` (default ``cursor``), or a
  full next URL that is followed as is;
- ``page_token``: ``next_path`` holds a token sent back in ``param`` (default ``page_token``); stops when
  ``has_more_path`` is false or the token is empty;
- ``offset``: ``param`` (default ``offset``) and ``size_param`` (default ``limit``); stops on a short
  page or when ``total_path`` is reached;
- ``page``: ``param`` (default ``page``) from ``start`` (default 1) and ``size_param`` (default
  ``page_size``); stops likewise;
- ``link``: the next page's URL is in the ``Link`` response header (RFC 8288) with relation ``rel``
  (default ``next``), resolved against the response URL and followed as is; the first request carries
  ``size_param`` and the incremental parameter, later ones whatever the link carries; stops when no link
  has that relation. A malformed ``Link`` header is UPSTREAM_BAD_RESPONSE, never "last page";
- ``none``: one page.

A next URL (``link``, or a full URL in ``cursor``) is only followed when it has the scheme, host and port
of the connection's base URL: the connection's credentials never go to another origin.

Example:
    >>> from connectors.manifest import load_manifest_file
    >>> Greenhouse = ManifestConnector.from_manifest(load_manifest_file("connectors/examples/greenhouse_style.yaml"))
    >>> Greenhouse.kind, sorted(Greenhouse.capabilities)[:2]
    ('greenhouse_style', ['application', 'candidate'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx

from connectors.auth import BasicAuth, BearerAuth, HeaderAuth, HmacRequestAuth, QueryAuth, TokenAuth
from connectors.base import (
    ConnectionConfig,
    Connector,
    Page,
    RawItem,
    SeenCallback,
    WebhookEvent,
    WriteResult,
    decode_cursor,
    encode_cursor,
    epoch_now,
    headers_lower,
    require_keys,
)
from connectors.errors import (
    ConnectorConfigError,
    RateLimited,
    ReplayDetected,
    UnsupportedOperation,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRejected,
    WebhookPayloadInvalid,
)
from connectors.http import RateLimiter, RequestAuth, UpstreamClient
from connectors.links import LinkHeaderError, find_link, same_origin
from connectors.manifest import Manifest
from connectors.paths import search
from connectors.templates import render_path, render_string, render_value
from connectors.times import TimeParseError, format_time, parse_time
from connectors.webhooks import (
    check_timestamp,
    parse_json_body,
    verify_hmac_signature,
    verify_standard_webhook,
    verify_stripe_signature,
)
from schema.records import CanonicalRecord

__all__ = ["ManifestConnector"]


class ManifestConnector(Connector):
    """Implements the contract from ``manifest``; subclass per manifest with `from_manifest`."""

    manifest: ClassVar[Manifest]
    source: ClassVar[str] = "manifest"

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> type[ManifestConnector]:
        attrs = {
            "manifest": manifest,
            "kind": manifest.kind,
            "version": manifest.version,
            "display_name": manifest.name,
            "capabilities": manifest.capabilities,
            "write_operations": frozenset(manifest.writes),
            "webhook_scheme": manifest.webhook["scheme"] if manifest.webhook else None,
            "__doc__": manifest.data.get("description") or f"Manifest connector {manifest.kind}.",
        }
        return type(f"ManifestConnector[{manifest.kind}]", (cls,), attrs)

    def __init__(self, config: ConnectionConfig, **kwargs: Any) -> None:
        data = self.manifest.data
        base_url = config.base_url or data.get("base_url")
        if not base_url:
            raise ConnectorConfigError(f"{self.kind}: no base_url in the connection or the manifest")
        if data.get("max_response_bytes") and "max_response_bytes" not in kwargs:
            kwargs["max_response_bytes"] = data["max_response_bytes"]
        super().__init__(dataclasses.replace(config, base_url=base_url), **kwargs)
        missing = sorted(n for n in self.manifest.required_credentials if not config.credentials.get(n))
        if missing:
            raise ConnectorConfigError(f"{self.kind}: missing credential(s) {', '.join(missing)}")
        self._context: dict[str, Any] = {
            "credentials": dict(config.credentials),
            "settings": dict(config.settings),
        }
        self.http.auth = self._auth(data["auth"])
        for name, template in (data.get("headers") or {}).items():
            value = render_string(template, self._context)
            if value:  # a header whose setting is absent is left out, not sent empty
                self.http.headers[name.lower()] = value
        if data.get("timeout_seconds"):
            self.http.timeout = httpx.Timeout(float(data["timeout_seconds"]), connect=5.0)
        limit = data.get("rate_limit")
        if limit and self.http.limiter is None:
            self.http.limiter = RateLimiter(
                limit["requests_per_minute"],
                burst=limit.get("burst"),
                clock=self.http.clock,
                sleep=self.http.sleep,
            )

    # --- auth ------------------------------------------------------------------------------------

    def _auth(self, spec: Mapping[str, Any]) -> RequestAuth | None:
        def text(key: str, default: str = "") -> str:
            return render_string(spec.get(key, default), self._context)

        kind = spec["type"]
        if kind == "bearer":
            return BearerAuth(text("token"))
        if kind == "api_key":
            if spec.get("header"):
                return HeaderAuth(spec["header"], text("value"))
            return QueryAuth(spec["query_param"], text("value"))
        if kind == "basic":
            return BasicAuth(text("username"), text("password"))
        if kind == "hmac":
            return HmacRequestAuth(
                text("secret"),
                header=spec["header"],
                message=spec.get("message", "{method}\n{path}\n{timestamp}\n{body_sha256}"),
                encoding=spec.get("encoding", "hex"),
                prefix=spec.get("prefix", ""),
                timestamp_header=spec.get("timestamp_header", "X-Timestamp"),
                key_id=text("key_id") or None,
                key_id_header=spec.get("key_id_header"),
            )
        if kind == "oauth2_client_credentials":
            return TokenAuth(self._token_fetcher(spec, text("client_id"), text("client_secret")))
        return None

    @staticmethod
    def _token_fetcher(spec: Mapping[str, Any], client_id: str, client_secret: str) -> Any:
        async def fetch(client: UpstreamClient) -> tuple[str, float]:
            fields = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
            if spec.get("scope"):
                fields["scope"] = spec["scope"]
            if spec.get("body_format") == "json":
                response = await client.request("POST", spec["token_url"], json_body=fields, auth=False)
            else:
                response = await client.request(
                    "POST",
                    spec["token_url"],
                    content=urlencode(fields).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                    auth=False,
                )
            data = response.json()
            token = search(spec.get("token_path", "access_token"), data)
            if not isinstance(token, str) or not token:
                raise UpstreamAuthError("token endpoint answered without an access token")
            lifetime = search(spec.get("expires_in_path", "expires_in"), data)
            return token, float(lifetime) if isinstance(lifetime, int | float) else 3600.0

        return fetch

    # --- envelope ----------------------------------------------------------------------------------

    def _check_envelope(self, data: Any) -> None:
        envelope = self.manifest.data.get("response")
        if not envelope or "success_path" not in envelope:
            return
        value = search(envelope["success_path"], data)
        if value in envelope["success_values"]:
            return
        message = search(envelope["message_path"], data) if envelope.get("message_path") else None
        if value is None:
            raise UpstreamBadResponse(
                f"answer lacks {envelope['success_path']!r}; not the envelope this manifest describes"
            )
        if value in envelope.get("rate_limited_values", []):
            raise RateLimited(f"upstream says slow down: {message or value}", retry_after=None)
        raise UpstreamRejected(f"upstream refused: {message or value}", vendor_code=value)

    # --- read ---------------------------------------------------------------------------------------

    async def read_page(self, model: str, *, cursor: str | None = None, since: datetime | None = None) -> Page:
        spec = self.manifest.models.get(model, {}).get("read")
        if spec is None:
            raise UnsupportedOperation(f"{self.kind} does not read model {model!r}")
        mapping = self.manifest.mapping(model)
        paging = spec.get("pagination") or {"style": "none"}
        style = paging["style"]
        size = min(int(self.config.settings.get("page_size", spec.get("page_size", 100))), spec.get("page_size", 1000))
        method = spec.get("method", "GET")
        params: dict[str, Any] = render_value(spec.get("params") or {}, self._context)
        body: dict[str, Any] | None = render_value(spec["body"], self._context) if "body" in spec else None
        if method == "POST" and body is None:
            body = {}

        def put(where: str | None, key: str, value: Any) -> None:
            if where == "body" and body is not None:
                body[key] = value
            else:
                params[key] = value

        incremental = spec.get("incremental")
        if since is not None and incremental:
            put(incremental.get("in"), incremental["param"], format_time(since, incremental.get("format", "iso8601")))
        state = decode_cursor(cursor) if cursor else {}
        path = render_path(spec["path"], self._context)
        where = paging.get("in")
        if style in ("cursor", "page_token", "link"):
            token = state.get("c")
            if paging.get("size_param"):
                put(where, paging["size_param"], size)
            if isinstance(token, str) and token.startswith(("http://", "https://")):
                if not same_origin(token, self.http.base_url):
                    raise UpstreamBadResponse(
                        "the next-page link leaves the upstream's origin; not following it", url=token.split("?")[0]
                    )
                path, params = token, {}  # a next link carries every parameter itself
            elif token is not None and style != "link":
                put(where, paging.get("param", "cursor" if style == "cursor" else "page_token"), token)
        elif style == "offset":
            offset = int(state.get("o", 0))
            put(where, paging.get("param", "offset"), offset)
            put(where, paging.get("size_param", "limit"), size)
        elif style == "page":
            page_number = int(state.get("p", paging.get("start", 1)))
            put(where, paging.get("param", "page"), page_number)
            put(where, paging.get("size_param", "page_size"), size)
        response = await self.http.request(method, path, params=params, json_body=body, idempotent=True)
        data = response.json()
        self._check_envelope(data)
        raw_items = search(spec["items"], data)
        if not isinstance(raw_items, list):
            raise UpstreamBadResponse(
                f"expected a list at {spec['items']!r}, got {type(raw_items).__name__}", url=path.split("?")[0]
            )
        items = [RawItem(mapping.remote_id(p) or "", p) for p in raw_items]
        if style == "link":
            try:
                link = find_link(response.headers.get("link"), paging.get("rel", "next"), response.url)
            except LinkHeaderError as exc:
                raise UpstreamBadResponse(f"malformed Link header: {exc}", url=path.split("?")[0]) from None
            next_cursor = encode_cursor({"c": link}) if link else None
        else:
            next_cursor = self._next(style, paging, data, state, len(raw_items), size)
        stamps = [t for t in (mapping.updated_at(p) for p in raw_items) if t is not None]
        return Page(items=items, next_cursor=next_cursor, watermark=max(stamps) if stamps else None)

    @staticmethod
    def _next(
        style: str, paging: Mapping[str, Any], data: Any, state: dict[str, Any], count: int, size: int
    ) -> str | None:
        if style in ("cursor", "page_token"):
            token = search(paging["next_path"], data)
            if paging.get("has_more_path") and not search(paging["has_more_path"], data):
                return None
            return encode_cursor({"c": token}) if token not in (None, "") else None  # keeps its JSON type
        if style in ("offset", "page"):
            total = search(paging["total_path"], data) if paging.get("total_path") else None
            if style == "offset":
                seen = int(state.get("o", 0)) + count
                nxt: dict[str, Any] = {"o": seen}
            else:
                page_number = int(state.get("p", paging.get("start", 1)))
                seen = (page_number - paging.get("start", 1) + 1) * size
                nxt = {"p": page_number + 1}
            if count == 0 or (isinstance(total, int) and seen >= total) or (total is None and count < size):
                return None
            return encode_cursor(nxt)
        return None

    async def fetch(self, model: str, remote_id: str) -> RawItem:
        spec = self.manifest.models.get(model, {}).get("fetch")
        if spec is None:
            raise UnsupportedOperation(f"{self.kind} cannot fetch single {model!r} records")
        context = {**self._context, "remote_id": remote_id}
        path = render_path(spec["path"], context)
        params = render_value(spec.get("params") or {}, context)
        body = render_value(spec["body"], context) if "body" in spec else None
        response = await self.http.request(
            spec.get("method", "GET"), path, params=params, json_body=body, idempotent=True
        )
        data = response.json()
        self._check_envelope(data)
        item = search(spec["item"], data) if spec.get("item") else data
        if not isinstance(item, dict):
            raise UpstreamBadResponse(f"expected an object at {spec.get('item', '@')!r}")
        return RawItem(self.manifest.mapping(model).remote_id(item) or remote_id, item)

    def normalize(self, model: str, payload: Mapping[str, Any]) -> CanonicalRecord:
        return self.manifest.mapping(model).normalize(payload)

    # --- write --------------------------------------------------------------------------------------

    async def write(self, operation: str, payload: Mapping[str, Any], *, idempotency_key: str) -> WriteResult:
        spec = self.manifest.writes.get(operation)
        if spec is None:
            raise self._unsupported_write(operation)
        require_keys(operation, payload, *spec.get("required", []))
        context = {**self._context, "payload": dict(payload), "idempotency_key": idempotency_key}
        method = spec.get("method", "POST")
        path = render_path(spec["path"], context)
        params = render_value(spec.get("params") or {}, context)
        headers = {k: render_string(v, context) for k, v in (spec.get("headers") or {}).items()}
        if spec.get("idempotency_header"):
            headers[spec["idempotency_header"]] = idempotency_key
        body = render_value(spec["body"], context) if "body" in spec else dict(payload)
        response = await self.http.request(
            method,
            path,
            params=params,
            json_body=None if method == "DELETE" else body,
            headers=headers,
            idempotent=bool(spec.get("idempotency_header")) or method in ("PUT", "DELETE"),
        )
        data = response.json() if response.content.strip() else {}
        self._check_envelope(data)
        remote_id = search(spec["remote_id"], data) if spec.get("remote_id") else None
        return WriteResult(
            remote_id=None if remote_id is None else str(remote_id),
            raw=data if isinstance(data, dict) else {"value": data},
        )

    # --- webhooks -----------------------------------------------------------------------------------

    def verify_webhook(
        self,
        headers: Mapping[str, str],
        raw_body: bytes,
        *,
        query: Mapping[str, str] | None = None,
        now: datetime | None = None,
        seen: SeenCallback | None = None,
    ) -> WebhookEvent:
        spec = self.manifest.webhook
        if spec is None:
            raise UnsupportedOperation(f"{self.kind} does not receive webhooks")
        lower = headers_lower(headers)
        secrets = self.config.webhook_secrets()
        tolerance = spec.get("tolerance_seconds", 300)
        current = epoch_now(now)
        msg_id: str | None = None
        scheme = spec["scheme"]
        if scheme == "standard_webhooks":
            msg_id = verify_standard_webhook(lower, raw_body, secrets, now=current, tolerance=tolerance)
        elif scheme == "stripe":
            header = spec.get("header", "Stripe-Signature").lower()
            verify_stripe_signature(lower.get(header), raw_body, secrets, now=current, tolerance=tolerance)
        else:
            verify_hmac_signature(
                lower.get(spec.get("header", "X-Signature").lower()),
                raw_body,
                secrets,
                prefix=spec.get("prefix", ""),
                encoding=spec.get("encoding", "hex"),
            )
            if spec.get("timestamp_header"):
                raw_ts = lower.get(spec["timestamp_header"].lower(), "")
                try:
                    stamp = parse_time(raw_ts, "auto")
                except TimeParseError:
                    stamp = None
                if stamp is None:
                    raise WebhookPayloadInvalid(f"missing or malformed {spec['timestamp_header']}")
                check_timestamp(stamp.timestamp(), now=current, tolerance=tolerance)
        body = parse_json_body(raw_body)
        event_id = search(spec["event_id"], body) if spec.get("event_id") else msg_id
        if event_id in (None, ""):
            raise WebhookPayloadInvalid("the event carries no id to dedupe on")
        event_id = str(event_id)
        if seen is not None and seen(event_id):
            raise ReplayDetected(f"event {event_id} was already received", event_id=event_id)
        event_type = str(search(spec["event_type"], body)) if spec.get("event_type") else "event"
        model = spec["models"].get(event_type, spec["models"].get("*"))
        remote = search(spec["remote_id"], body) if spec.get("remote_id") else None
        item = None
        if model in self.manifest.models and spec.get("item"):
            candidate = search(spec["item"], body)
            if isinstance(candidate, dict):
                item_id = self.manifest.mapping(model).remote_id(candidate)
                item = RawItem(item_id or str(remote or ""), candidate)
                remote = remote if remote is not None else item_id
        occurred = None
        if spec.get("occurred_at"):
            try:
                occurred = parse_time(search(spec["occurred_at"], body))
            except TimeParseError:
                occurred = None
        return WebhookEvent(
            event_id=event_id,
            model=model,
            remote_id=None if remote is None else str(remote),
            type=event_type,
            payload=body,
            item=item,
            occurred_at=occurred,
        )
