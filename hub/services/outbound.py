"""Outbound webhooks: integrators subscribe URLs to hub events; each event goes out signed per Standard
Webhooks, retried with backoff, every attempt logged.

- `create_subscription` checks the URL against the SSRF guard (`hub.services.outbound_urls`: http(s) only,
  no credentials, no loopback, private, link-local or metadata addresses unless
  ``HUB_OUTBOUND_ALLOW_PRIVATE``; ``UNSAFE_URL`` otherwise) and stores it with event-type patterns
  (``candidate.created``, ``approval.*``, ``*``)
  with a fresh ``whsec_`` secret (sealed; shown once). The subscription starts at the tenant's current event
  sequence: it receives what happens from now on.
- `dispatch` (job ``hub.jobs.dispatch_webhooks``, enqueued when a tenant with subscriptions publishes
  events) walks each active subscription's events after its cursor (``last_event_seq``) and creates one
  ``WebhookDelivery`` per matching event (unique per subscription and event).
- `deliver` (job ``hub.jobs.deliver_webhook``) makes one attempt: ``POST`` the payload with headers
  ``webhook-id`` (``msg_<event id>``, the same on every retry so receivers dedupe), ``webhook-timestamp`` and
  ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``). A 2xx answer is
  DELIVERED; anything else is RETRYING (the job raises so RQ retries it after `RETRY_INTERVALS`) until
  `MAX_ATTEMPTS`, then FAILED. Each attempt resolves the host again, checks every address (DNS rebinding)
  and connects to the address it checked; a URL that has become unsafe FAILS at once (error ``UNSAFE_URL:
  ...``), without retries. Redirects are not followed.

Payloads carry ids and types only, as the events do::

    {"type": "candidate.created", "timestamp": "2025-03-09T10:12:44+00:00",
     "data": {"event_id": "...", "seq": 42, "entity": "candidate", "entity_id": "...", ...event ids}}
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from connectors.webhooks import sign_standard_webhook
from hub.db import Database
from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.services.outbound_urls import Resolver, check_url, pinned_request, resolve_target
from hub.services.sealing import open_sealed, seal_always
from hub.services.vault import Vault
from schema.errors import UnsafeUrl, ValidationFailed

__all__ = [
    "MAX_ATTEMPTS",
    "RETRY_INTERVALS",
    "create_subscription",
    "deliver",
    "dispatch",
    "matches",
    "subscribed_tenants_key",
]

MAX_ATTEMPTS = 6
#: Seconds between attempts (RQ ``Retry`` intervals): 10 s, 1 min, 5 min, 30 min, 2 h.
RETRY_INTERVALS = [10, 60, 300, 1800, 7200]
_PATTERN = re.compile(r"^(\*|[a-z][a-z_]*\.(\*|[a-z][a-z_]*))$")
_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def subscribed_tenants_key(prefix: str) -> str:
    """Redis set of tenants with active subscriptions (publishers enqueue a dispatch only for those)."""
    return f"{prefix}outbound:tenants"


def matches(patterns: Sequence[str], event_type: str) -> bool:
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


async def create_subscription(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    *,
    url: str,
    event_types: Sequence[str],
    allow_private: bool = False,
    resolver: Resolver | None = None,
) -> tuple[m.WebhookSubscription, str]:
    """Store a subscription; answers it and its secret (the only time the secret is shown).

    Raises:
        UnsafeUrl: the URL fails the SSRF guard (``UNSAFE_URL``).
        ValidationFailed: not a URL, a host that does not resolve, or bad event-type patterns.
    """
    url = (url or "").strip()
    types = sorted({t.strip() for t in event_types})
    if not types or len(types) > 50 or not all(_PATTERN.match(t) for t in types):
        raise ValidationFailed(
            "eventTypes: 1 to 50 of `entity.event`, `entity.*` or `*` (lower case)", field="event_types"
        )
    target = check_url(url, allow_private=allow_private)  # the cheap checks first, then DNS
    await resolve_target(target, allow_private=allow_private, resolver=resolver)
    await vault.prepare(tenant_id)
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    row_id = new_id()
    async with db.session(tenant_id) as session:
        start = (await session.execute(select(func.max(m.Event.seq)))).scalar() or 0
        row = m.WebhookSubscription(
            id=row_id,
            url=url,
            event_types=types,
            secret=seal_always(vault, tenant_id, "webhook_subscription", "secret", row_id, secret),
            active=True,
            last_event_seq=start,
        )
        session.add(row)
        await session.commit()
    return row, secret


async def dispatch(db: Database, tenant_id: uuid.UUID, *, batch: int = 500) -> list[uuid.UUID]:
    """Create deliveries for the events each active subscription has not seen; answers their ids."""
    created: list[uuid.UUID] = []
    async with db.session(tenant_id) as session:
        if db.url.startswith("postgresql"):  # one dispatcher per tenant at a time
            key = int.from_bytes(tenant_id.bytes[:8], "big", signed=True) ^ 0x57484B
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        subscriptions = (
            await session.scalars(select(m.WebhookSubscription).where(m.WebhookSubscription.active.is_(True)))
        ).all()
        if not subscriptions:
            return created
        low = min(s.last_event_seq for s in subscriptions)
        events = (
            await session.scalars(select(m.Event).where(m.Event.seq > low).order_by(m.Event.seq).limit(batch))
        ).all()
        for sub in subscriptions:
            for event in events:
                if (event.seq or 0) <= sub.last_event_seq or not matches(sub.event_types or [], event.type):
                    continue
                delivery = m.WebhookDelivery(
                    id=new_id(), subscription_id=sub.id, event_id=event.id, event_type=event.type, status="PENDING"
                )
                session.add(delivery)
                created.append(delivery.id)
            if events:
                sub.last_event_seq = max(sub.last_event_seq, events[-1].seq or 0)
        try:
            await session.commit()
        except IntegrityError:  # another dispatcher created them meanwhile (SQLite has no lock)
            await session.rollback()
            return []
    return created


def _payload(event: m.Event) -> bytes:
    data = {
        "event_id": str(event.id),
        "seq": event.seq,
        "entity": event.entity,
        "entity_id": str(event.entity_id) if event.entity_id else None,
        **(event.data or {}),
    }
    body = {"type": event.type, "timestamp": event.created_at.isoformat(), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str).encode()


async def deliver(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    delivery_id: uuid.UUID,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    now: datetime | None = None,
    allow_private: bool = False,
    resolver: Resolver | None = None,
) -> dict[str, Any]:
    """One delivery attempt; answers ``{status, attempt, response_status, retry}``."""
    await vault.prepare(tenant_id)
    async with db.session(tenant_id) as session:
        delivery = (await session.scalars(select(m.WebhookDelivery).where(m.WebhookDelivery.id == delivery_id))).first()
        if delivery is None:
            return {"status": "MISSING", "retry": False}
        if delivery.status in ("DELIVERED", "FAILED", "CANCELED"):
            return {"status": delivery.status, "attempt": delivery.attempt, "retry": False}
        sub = (
            await session.scalars(
                select(m.WebhookSubscription).where(m.WebhookSubscription.id == delivery.subscription_id)
            )
        ).one()
        event = (await session.scalars(select(m.Event).where(m.Event.id == delivery.event_id))).first()
        if not sub.active or event is None:
            delivery.status = "CANCELED"
            await session.commit()
            return {"status": "CANCELED", "attempt": delivery.attempt, "retry": False}
        secret = open_sealed(vault, tenant_id, "webhook_subscription", "secret", sub.id, sub.secret)
        body = _payload(event)
        stamp = int(now.timestamp()) if now else int(time.time())
        msg_id = f"msg_{event.id.hex}"
        headers = {
            "content-type": "application/json",
            "user-agent": "recruiting-hub-webhooks/1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign_standard_webhook(secret, msg_id, stamp, body),
        }
        status, error, unsafe = None, None, False
        try:
            target = check_url(sub.url, allow_private=allow_private)
            address = await resolve_target(target, allow_private=allow_private, resolver=resolver)
            url, host_header, extensions = pinned_request(target, address)
            async with httpx.AsyncClient(transport=transport, timeout=_TIMEOUT, follow_redirects=False) as client:
                response = await client.post(
                    url, content=body, headers={**headers, **host_header}, extensions=extensions
                )
            status = response.status_code
            if not 200 <= status < 300:
                error = f"receiver answered HTTP {status}"
        except UnsafeUrl as exc:  # the name resolves elsewhere now (DNS rebinding), or the setting changed
            error, unsafe = f"{exc.code}: {exc.message}"[:300], True
        except ValidationFailed as exc:  # the name does not resolve (now): like a refused connection
            error = f"{exc.code}: {exc.message}"[:300]
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        delivery.attempt += 1
        delivery.response_status = status
        delivery.error = error
        current = now or utcnow()
        if error is None:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = "DELIVERED", current, None
        elif unsafe or delivery.attempt >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = "FAILED", None
        else:
            wait = RETRY_INTERVALS[min(delivery.attempt - 1, len(RETRY_INTERVALS) - 1)]
            delivery.status, delivery.next_attempt_at = "RETRYING", current + timedelta(seconds=wait)
        await session.commit()
        return {
            "status": delivery.status,
            "attempt": delivery.attempt,
            "response_status": status,
            "retry": delivery.status == "RETRYING",
        }
