"""Credentials: bearer tokens and API keys; every failure is a 401 with a code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from hub.db import models as m
from hub.runtime import Runtime
from hub.services.auth import hash_secret, mint_token, new_api_key
from tests.factories import Actor

QUERY = {"query": "{ viewer { name roles } }"}


async def _status(client: httpx.AsyncClient, authorization: str | None) -> tuple[int, str | None]:
    headers = {"authorization": authorization} if authorization is not None else {}
    response = await client.post("/graphql", json=QUERY, headers=headers)
    body = response.json()
    code = body["errors"][0]["extensions"]["code"] if "errors" in body else None
    return response.status_code, code


async def test_valid_token(client: httpx.AsyncClient, hr: Actor) -> None:
    response = await client.post("/graphql", json=QUERY, headers=hr.headers)
    assert response.json() == {"data": {"viewer": {"name": "hr user", "roles": ["hr"]}}}


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "UNAUTHENTICATED"),
        ("", "UNAUTHENTICATED"),
        ("Basic dXNlcjpwYXNz", "TOKEN_INVALID"),
        ("Bearer", "TOKEN_INVALID"),
        ("Bearer not-a-jwt", "TOKEN_INVALID"),
        ("Bearer " + "a" * 5000, "TOKEN_INVALID"),
        ("Bearer hubk_unknown_secret", "TOKEN_INVALID"),
    ],
)
async def test_bad_credentials(client: httpx.AsyncClient, authorization: str | None, code: str) -> None:
    assert await _status(client, authorization) == (401, code)


async def test_expired_wrongly_signed_and_foreign_issuer(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor
) -> None:
    expired = mint_token(runtime.settings, hr.principal, ttl=timedelta(seconds=-60))
    assert await _status(client, f"Bearer {expired}") == (401, "TOKEN_EXPIRED")
    claims = jwt.decode(hr.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-" + "y" * 40, algorithm="HS256")
    assert await _status(client, f"Bearer {forged}") == (401, "TOKEN_INVALID")
    claims["iss"] = "someone-else"
    other_issuer = jwt.encode(claims, runtime.settings.jwt_secret, algorithm="HS256")
    assert await _status(client, f"Bearer {other_issuer}") == (401, "TOKEN_INVALID")
    none_alg = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    assert await _status(client, f"Bearer {none_alg}") == (401, "TOKEN_INVALID")


async def test_token_of_disabled_principal_is_refused(client: httpx.AsyncClient, runtime: Runtime, hr: Actor) -> None:
    async with runtime.db.session(hr.tenant_id) as session:
        row = (await session.scalars(select(m.Principal).where(m.Principal.id == hr.principal.id))).one()
        row.disabled = True
        await session.commit()
    runtime.auth._principals.clear()
    assert await _status(client, f"Bearer {hr.token}") == (401, "TOKEN_INVALID")


async def _api_key(runtime: Runtime, tenant: Any, **kw: Any) -> str:
    issued = new_api_key()
    async with runtime.db.session(tenant) as session:
        principal = m.Principal(kind="integrator", name="ats sync", roles=["integrator"])
        session.add(principal)
        await session.flush()
        session.add(
            m.ApiKey(
                principal_id=principal.id, prefix=issued.prefix, name="k", secret_hash=hash_secret(issued.secret), **kw
            )
        )
        await session.commit()
    return issued.token


async def test_api_keys(client: httpx.AsyncClient, runtime: Runtime, tenant: Any) -> None:
    good = await _api_key(runtime, tenant)
    response = await client.post("/graphql", json=QUERY, headers={"authorization": f"Bearer {good}"})
    assert response.json()["data"]["viewer"]["roles"] == ["integrator"]
    assert await _status(client, f"Bearer {good[:-2]}xx") == (401, "TOKEN_INVALID")
    expired = await _api_key(runtime, tenant, expires_at=datetime.now(UTC) - timedelta(days=1))
    assert await _status(client, f"Bearer {expired}") == (401, "TOKEN_EXPIRED")
    revoked = await _api_key(runtime, tenant, revoked_at=datetime.now(UTC))
    assert await _status(client, f"Bearer {revoked}") == (401, "TOKEN_INVALID")
