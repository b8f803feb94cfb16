"""Who is calling: user bearer tokens (JWT, HS256) and integrator API keys.

The tenant comes from the verified credential only, never from a header or an argument.
A verified principal is re-read from the database (disabled principals, revoked keys and
bumped token versions stop working) and cached for a few seconds, so the check costs one
query per principal per ``cache_seconds`` rather than one per request.

Token claims: ``sub`` principal id, ``tid`` tenant id, ``roles``, ``ver`` token version,
``iss``, ``iat``, ``exp``. API keys look like ``hubk_<prefix>_<secret>``; only a SHA-256 of
the secret is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select

from hub.db import Database
from hub.db import models as m
from hub.settings import Settings
from schema.context import ROLES, Viewer
from schema.errors import AuthError, TokenExpired, TokenInvalid

__all__ = ["Authenticator", "IssuedKey", "hash_secret", "mint_token", "new_api_key"]

KEY_PREFIX = "hubk_"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    prefix: str
    secret: str

    @property
    def token(self) -> str:
        return f"{KEY_PREFIX}{self.prefix}_{self.secret}"


def new_api_key() -> IssuedKey:
    return IssuedKey(prefix=secrets.token_hex(6), secret=secrets.token_urlsafe(32))


def mint_token(settings: Settings, principal: m.Principal, *, ttl: timedelta | None = None) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": str(principal.id),
        "tid": str(principal.tenant_id),
        "roles": list(principal.roles),
        "ver": principal.token_version,
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + (ttl or timedelta(seconds=settings.jwt_ttl_seconds)),
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


class Authenticator:
    def __init__(self, settings: Settings, db: Database, *, cache_seconds: float = 10.0) -> None:
        self.settings = settings
        self.db = db
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Viewer]] = {}
        self._principals: dict[str, tuple[float, Viewer, int]] = {}

    async def authenticate(self, authorization: str | None) -> Viewer:
        """Verify an ``Authorization`` header value; raise a coded :class:`AuthError`."""
        if not authorization:
            raise AuthError("authentication required: send Authorization: Bearer <token>")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise TokenInvalid("the Authorization header must be 'Bearer <token>'")
        if len(credential) > 4096:
            raise TokenInvalid("token too long")
        if credential.startswith(KEY_PREFIX):
            return await self._api_key(credential)
        return await self._jwt(credential)

    async def _jwt(self, token: str) -> Viewer:
        try:
            claims = jwt.decode(
                token,
                self.settings.jwt_secret,
                algorithms=["HS256"],
                issuer=self.settings.jwt_issuer,
                options={"require": ["sub", "tid", "exp", "iat", "iss"]},
                leeway=5,
            )
            principal_id = uuid.UUID(claims["sub"])
            tenant_id = uuid.UUID(claims["tid"])
        except jwt.ExpiredSignatureError:
            raise TokenExpired("the token has expired") from None
        except (jwt.InvalidTokenError, ValueError, TypeError):
            raise TokenInvalid("the token is malformed or wrongly signed") from None
        viewer, version = await self._principal(principal_id, tenant_id)
        if claims.get("ver") != version:
            raise TokenInvalid("the token was revoked")
        return viewer

    async def _api_key(self, credential: str) -> Viewer:
        prefix, _, secret = credential[len(KEY_PREFIX) :].partition("_")
        cached = self._cache.get(credential)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        async with self.db.system_session() as session:
            key = (await session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == prefix))).first()
            now = datetime.now(UTC)
            if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
                raise TokenInvalid("unknown API key")
            if key.revoked_at is not None:
                raise TokenInvalid("the API key was revoked")
            if key.expires_at is not None and key.expires_at <= now:
                raise TokenExpired("the API key has expired")
            tenant_id, principal_id = key.tenant_id, key.principal_id
        viewer, _ = await self._principal(principal_id, tenant_id)
        self._cache[credential] = (time.monotonic() + self.cache_seconds, viewer)
        return viewer

    async def refresh(self, viewer: Viewer) -> Viewer:
        """The principal as it is now (roles changed, disabled?), bypassing the cache."""
        self._principals.pop(f"p:{viewer.principal_id}:{viewer.tenant_id}", None)
        for key in [k for k, v in self._cache.items() if v[1].principal_id == viewer.principal_id]:
            self._cache.pop(key, None)
        fresh, _ = await self._principal(viewer.principal_id, viewer.tenant_id)
        return fresh

    async def _principal(self, principal_id: uuid.UUID, tenant_id: uuid.UUID) -> tuple[Viewer, int]:
        key = f"p:{principal_id}:{tenant_id}"
        cached = self._principals.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1], cached[2]
        async with self.db.session(tenant_id) as session:
            row = (await session.scalars(select(m.Principal).where(m.Principal.id == principal_id))).first()
        if row is None or row.disabled:
            raise TokenInvalid("the principal does not exist or is disabled")
        viewer = _viewer(row)
        self._principals[key] = (time.monotonic() + self.cache_seconds, viewer, row.token_version)
        return viewer, row.token_version


def _viewer(row: Any) -> Viewer:
    return Viewer(
        principal_id=row.id,
        tenant_id=row.tenant_id,
        kind=row.kind,
        name=row.name,
        roles=frozenset(r for r in row.roles if r in ROLES),
        candidate_id=row.candidate_id,
    )
