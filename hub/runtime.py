"""The hub runtime: settings, database, Redis, queues, auth and the schema, built once.

``Runtime.create(settings)`` wires the services; :func:`hub.app.create_app` serves them;
``hub worker`` runs jobs against the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import redis
import strawberry

from hub.db import Database
from hub.events import EventBus
from hub.queues import Queues
from hub.redis import async_redis, sync_redis
from hub.services.audit import AuditWriter
from hub.services.auth import Authenticator
from hub.services.crypto import PolicyVault
from hub.services.event_rows import EventRowCache
from hub.services.vault import Vault
from hub.settings import Settings
from schema.api import build_schema
from schema.extensions import schema_extensions
from schema.fanout import SharedExecutions, share_subscription_events

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis
    queues: Queues
    auth: Authenticator
    vault: Vault
    schema: strawberry.Schema
    events: EventBus
    extras: dict[str, Any] = field(default_factory=dict)
    audit: AuditWriter = field(init=False)

    @classmethod
    def create(cls, settings: Settings, *, db: Database | None = None, vault: Vault | None = None) -> Runtime:
        db = db or Database(settings)
        connection = sync_redis(settings.redis_url)
        schema = build_schema(
            extensions=schema_extensions(
                max_depth=settings.max_depth,
                max_aliases=settings.max_aliases,
                max_tokens=settings.max_tokens,
                introspection=settings.development,
                debug=settings.development,
            )
        )
        share_subscription_events(schema)  # subscribers with identical results share one execution per event
        return cls(
            settings=settings,
            db=db,
            redis=connection,
            queues=Queues(connection, prefix=settings.redis_prefix, default_timeout=settings.job_timeout_seconds),
            auth=Authenticator(settings, db),
            vault=vault or PolicyVault.from_settings(settings, db),
            schema=schema,
            events=EventBus(db, async_redis(settings.redis_url), settings.redis_prefix),
        )

    def __post_init__(self) -> None:
        self.audit = AuditWriter(self.db)  # group commit of the requests' audit entries
        from hub.jobs.workflows import enqueue_workflows
        from hub.services.audit import verify_tenant
        from hub.services.interviews import InterviewService
        from hub.services.screening import ScreeningService

        self.extras.setdefault("verify_audit", lambda tenant_id: verify_tenant(self.db, tenant_id))
        self.extras.setdefault("validate_automation", _validate_automation)
        self.extras.setdefault("event_rows", EventRowCache())
        self.extras.setdefault("fanout", SharedExecutions())
        self.extras.setdefault(
            "screening", ScreeningService(self.db, self.vault, self.queues, on_commit=self.events.nudge)
        )
        self.extras.setdefault(
            "interviews", InterviewService(self.db, self.vault, self.queues, on_commit=self.events.nudge)
        )
        if self.events.on_published is None:
            self.events.on_published = lambda published: enqueue_workflows(self.queues, published)
            from hub.services.integration import install

            install(self)  # outbound webhooks fan out from every process that publishes

    async def close(self) -> None:
        await self.audit.close()
        await self.events.stop()
        await self.events.redis.aclose()
        await self.db.dispose()
        self.redis.close()


def _validate_automation(rules: Any) -> list[dict[str, Any]]:
    from hub.workflows import DEFAULT_RULES, parse_rules

    parsed = parse_rules(DEFAULT_RULES if rules is None else rules)
    return [r.model_dump(by_alias=True, exclude_none=True) for r in parsed]
