"""The embedded quick start: everything in one process, no configuration.

State lives in ``./.hub/`` (SQLite database, a generated JWT secret and key-encryption
key). Redis is the in-process stand-in. For trying the hub, never for production.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.db.migrate import upgrade
from hub.demo import seed_demo
from hub.demo_upstreams import connect_demo, start_upstreams
from hub.services.auth import mint_token
from hub.services.crypto import PolicyVault
from hub.settings import Settings

__all__ = ["prepare_embedded"]


def _secret(path: Path, make: str) -> str:
    if path.exists():
        return path.read_text().strip()
    path.write_text(make)
    path.chmod(0o600)
    return make


def prepare_embedded(
    *, host: str | None = None, port: int | None = None, home: Path | None = None
) -> tuple[Settings, str]:
    home = home or Path(os.environ.get("HUB_HOME", ".hub"))
    home.mkdir(parents=True, exist_ok=True)
    jwt_secret = _secret(home / "jwt-secret", secrets.token_urlsafe(48))
    kek = _secret(home / "kek", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
    settings = Settings.from_env(
        {},
        env="development",
        embedded=True,
        database_url=f"sqlite+aiosqlite:///{home / 'hub.db'}",
        redis_url="memory://embedded",
        jwt_secret=jwt_secret,
        kek=kek,
        host=host or "127.0.0.1",
        port=port or 8000,
    )
    upgrade(settings.database_url)
    suite = start_upstreams()
    token = asyncio.run(_seed(settings, suite))
    url = f"http://{settings.host}:{settings.port}/graphql"
    banner = (
        f"\n  Recruiting hub (embedded mode: SQLite in {home}/, in-process Redis; not for production)\n"
        f"  GraphQL:   {url}   (GraphiQL-free; POST JSON, or WebSocket graphql-transport-ws)\n"
        f"  Token:     {token}\n"
        f"  Try:       curl -s {url} -H 'content-type: application/json' -H 'authorization: Bearer <token>' "
        '-d \'{"query":"{ jobs { totalCount edges { node { title } } } }"}\'\n'
        f"  Upstreams: simulated HR {suite.urls['hr']}, DingTalk {suite.urls['dingtalk']}, "
        f"mobile {suite.urls['mobile']}\n"
        "             (connections hr-sim, dingtalk-sim, mobile-sim: syncing in the background; "
        "query `connections { edges { node { name syncStates { model status } } } }`)\n"
    )
    return settings, banner


async def _seed(settings: Settings, suite: Any) -> str:
    db = Database(settings)
    try:
        vault = PolicyVault.from_settings(settings, db)
        tenant_id, _ = await seed_demo(db, vault)
        await connect_demo(db, vault, settings, tenant_id, suite)
        async with db.session(tenant_id) as session:
            hr = (await session.scalars(select(m.Principal).where(m.Principal.email == "hr@demo.example"))).first()
            if hr is None:
                hr = m.Principal(kind="user", name="Demo HR", email="hr@demo.example", roles=["hr", "admin"])
                session.add(hr)
                await session.commit()
        return mint_token(settings, hr, ttl=timedelta(days=7))
    finally:
        await db.dispose()
