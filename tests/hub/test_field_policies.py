"""Field policies end to end: encryption at rest, the role matrix on every path, swaps and
tampering, blind-index lookups, the audit chain, and a canary scan for leaks."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

import httpx
import pytest
import redis as redis_lib
from sqlalchemy import text
from typer.testing import CliRunner

from hub.runtime import Runtime
from hub.settings import Settings
from policies import PolicySet
from schema.relay import encode_global_id
from tests.factories import Actor, gql_ok, make_actor, make_tenant, open_store


@pytest.fixture(params=["postgresql", "sqlite"])
async def runtime(request: pytest.FixtureRequest, settings: Settings, sqlite_settings: Settings) -> Any:
    """Every test here runs on PostgreSQL (production) and SQLite (embedded)."""
    rt = Runtime.create(settings if request.param == "postgresql" else sqlite_settings)
    yield rt
    await rt.close()


def _p(runtime: Runtime, **params: Any) -> dict[str, Any]:
    """Bind parameters for raw SQL: SQLite stores UUIDs as 32 hex characters."""
    if runtime.db.url.startswith("sqlite"):
        return {k: v.hex if isinstance(v, uuid.UUID) else v for k, v in params.items()}
    return params


ROLES = ["admin", "hr", "interviewer", "approver", "candidate", "integrator"]
FIELDS = {  # GraphQL name -> (entity, policy field, is a list)
    "firstName": ("candidate", "first_name", False),
    "lastName": ("candidate", "last_name", False),
    "emails": ("candidate", "emails", True),
    "phones": ("candidate", "phones", True),
    "nationalId": ("candidate", "national_id", False),
    "expectedSalary": ("candidate", "expected_salary", False),
    "locations": ("candidate", "locations", True),
}
VALUES = {
    "first_name": "伟",
    "last_name": "张",
    "emails": ["wei.zhang@example.com"],
    "phones": ["+86-138-0000-5678"],
    "national_id": "110105194912310021",
    "expected_salary": "35k x 15",
    "locations": ["上海"],
}
SELECTION = " ".join(FIELDS) + " resumes { text }"
RESUME = "张伟 高级后端工程师 熟悉 Java"


async def _world(runtime: Runtime) -> dict[str, Any]:
    tenant = await make_tenant(runtime.db)
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create("job", {"title": "后端", "stages": ["A", "B"]})
        cand = await store.create("candidate", dict(VALUES))
        await store.create("resume", {"candidate_id": cand.id, "text": RESUME})
        app = await store.create("application", {"candidate_id": cand.id, "job_id": job.id})
    actors = {
        role: await make_actor(
            runtime.db, runtime.settings, tenant, role, candidate_id=cand.id if role == "candidate" else None
        )
        for role in ROLES
    }
    return {"tenant": tenant, "candidate": cand.id, "application": app.id, "actors": actors}


def _expected(role: str) -> dict[str, Any]:
    policy = PolicySet.default()
    out: dict[str, Any] = {}
    for gql, (entity, field, is_list) in FIELDS.items():
        decision = policy.decide_roles([role], entity, field, is_self=role == "candidate")
        value = VALUES[field]
        out[gql] = (
            [decision.apply(v) for v in value]
            if is_list and decision.allowed
            else (None if is_list else decision.apply(value))
        )
    resume = policy.decide_roles([role], "resume", "text", is_self=role == "candidate")
    out["resumes"] = [{"text": resume.apply(RESUME)}]
    return out


async def _post(client: httpx.AsyncClient, actor: Actor, query: str, **variables: Any) -> dict[str, Any]:
    return gql_ok(await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers))


async def _subscription_event(runtime: Runtime, actor: Actor, candidate_id: uuid.UUID) -> dict[str, Any]:
    """The candidate as a subscription event shows it, through the same per-event path."""
    from hub.http.graphql import GraphQLEndpoint

    endpoint = GraphQLEndpoint(runtime)
    viewer = await runtime.auth.authenticate(f"Bearer {actor.token}")
    async with runtime.db.session(viewer.tenant_id) as session:
        count = (
            await session.execute(
                text("SELECT max(seq) FROM events WHERE tenant_id = :t AND seq IS NOT NULL"),
                _p(runtime, t=viewer.tenant_id),
            )
        ).scalar()
    response = await endpoint._stream(
        viewer,
        {
            "query": f'subscription($after: String) {{ events(after: $after, types: ["candidate.updated"]) '
            f"{{ node {{ ... on Candidate {{ {SELECTION} }} }} }} }}",
            "variables": {"after": str((count or 1) - 1)},
        },
    )
    async for chunk in response.body_iterator:
        chunk = chunk if isinstance(chunk, str) else chunk.decode()
        if chunk.startswith("event: next"):
            body = json.loads(chunk.split("data: ", 1)[1])
            await response.body_iterator.aclose()
            assert "errors" not in body, body
            return body["data"]["events"]["node"]
    raise AssertionError("no event")


async def test_personal_values_are_encrypted_at_rest(runtime: Runtime) -> None:
    world = await _world(runtime)
    async with runtime.db.session(world["tenant"]) as session:
        row = (
            await session.execute(
                text(
                    "SELECT first_name, last_name, emails, phones, national_id, expected_salary, locations"
                    " FROM candidates WHERE id = :id"
                ),
                _p(runtime, id=world["candidate"]),
            )
        ).one()
        resume = (
            await session.execute(
                text("SELECT text FROM resumes WHERE candidate_id = :id"), _p(runtime, id=world["candidate"])
            )
        ).scalar_one()
    for value in (*row, resume):
        assert value.startswith("enc:v1:A256GCM:"), value
    dump = " ".join(map(str, row))
    assert "138" not in dump and "wei.zhang" not in dump and "张" not in dump


async def test_role_matrix_on_every_path(runtime: Runtime, client: httpx.AsyncClient) -> None:
    world = await _world(runtime)
    gid = encode_global_id("Candidate", world["candidate"])
    async with open_store(runtime.db, runtime.settings, world["tenant"]) as store:
        await store.update("candidate", world["candidate"], {"tags": ["matrix"]})  # an event for the feed
    await runtime.events.publish()
    for role, actor in world["actors"].items():
        expected = _expected(role)
        listed = await _post(client, actor, f"{{ candidates {{ edges {{ node {{ {SELECTION} }} }} }} }}")
        assert listed["candidates"]["edges"][0]["node"] == expected, ("list", role)
        nested = await _post(
            client, actor, f"{{ applications {{ edges {{ node {{ candidate {{ {SELECTION} }} }} }} }} }}"
        )
        assert nested["applications"]["edges"][0]["node"]["candidate"] == expected, ("nested", role)
        node = await _post(
            client, actor, f"query($id: ID!) {{ node(id: $id) {{ ... on Candidate {{ {SELECTION} }} }} }}", id=gid
        )
        assert node["node"] == expected, ("node", role)
        if role in ("admin", "hr", "integrator"):
            payload = await _post(
                client,
                actor,
                f"mutation($i: UpdateCandidateInput!) {{ updateCandidate(input: $i) "
                f"{{ candidate {{ {SELECTION} }} }} }}",
                i={"id": gid, "tags": [role]},
            )
            assert payload["updateCandidate"]["candidate"] == expected, ("mutation payload", role)
        event = await _subscription_event(runtime, actor, world["candidate"])
        assert event == expected, ("subscription event", role)


async def test_values_swapped_or_tampered_in_the_database_are_refused(
    runtime: Runtime, client: httpx.AsyncClient
) -> None:
    world = await _world(runtime)
    other = await make_tenant(runtime.db)
    async with open_store(runtime.db, runtime.settings, world["tenant"]) as store:
        victim = await store.create("candidate", {"first_name": "李", "phones": ["+86-139-1111-2222"]})
    async with open_store(runtime.db, runtime.settings, other) as store:
        foreign = await store.create("candidate", {"first_name": "外", "phones": ["+86-137-3333-4444"]})
    hr = world["actors"]["hr"]
    query = "query($id: ID!) { node(id: $id) { ... on Candidate { phones } } }"
    gid = encode_global_id("Candidate", victim.id)
    async with runtime.db.session(world["tenant"]) as session:
        # copy the first candidate's phone token onto the victim's row (same tenant, other record)
        await session.execute(
            text("UPDATE candidates SET phones = (SELECT phones FROM candidates WHERE id = :src) WHERE id = :dst"),
            _p(runtime, src=world["candidate"], dst=victim.id),
        )
        await session.commit()
    response = await client.post("/graphql", json={"query": query, "variables": {"id": gid}}, headers=hr.headers)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "DATA_UNAVAILABLE"
    assert "138" not in response.text and "0000" not in response.text
    async with runtime.db.session(world["tenant"]) as session:  # another tenant's token, by raw SQL
        await session.execute(
            text("UPDATE candidates SET phones = :token WHERE id = :dst"),
            _p(runtime, token=foreign.phones, dst=victim.id),
        )
        await session.commit()
    response = await client.post("/graphql", json={"query": query, "variables": {"id": gid}}, headers=hr.headers)
    assert response.json()["errors"][0]["extensions"]["code"] == "DATA_UNAVAILABLE"
    assert "137" not in response.text
    token = victim.phones
    for position in (20, len(token) // 2, len(token) - 3):  # one flipped character anywhere
        flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        async with runtime.db.session(world["tenant"]) as session:
            await session.execute(
                text("UPDATE candidates SET phones = :t WHERE id = :id"), _p(runtime, t=flipped, id=victim.id)
            )
            await session.commit()
        response = await client.post("/graphql", json={"query": query, "variables": {"id": gid}}, headers=hr.headers)
        assert response.json()["errors"][0]["extensions"]["code"] == "DATA_UNAVAILABLE", position
        assert "139" not in response.text


@pytest.mark.parametrize(
    ("field", "spelling"),
    [
        ("email", " Wei.Zhang@EXAMPLE.com "),
        ("phone", "138 0000 5678"),
        ("phone", "0086 138-0000-5678"),
        ("nationalId", "110105-19491231-0021"),
    ],
)
async def test_blind_index_lookups(runtime: Runtime, client: httpx.AsyncClient, field: str, spelling: str) -> None:
    world = await _world(runtime)
    hr = world["actors"]["hr"]
    found = await _post(
        client, hr, f"query($v: String!) {{ candidates(filter: {{{field}: $v}}) {{ totalCount }} }}", v=spelling
    )
    assert found["candidates"]["totalCount"] == 1
    missing = await _post(
        client,
        hr,
        f"query($v: String!) {{ candidates(filter: {{{field}: $v}}) {{ totalCount }} }}",
        v="nobody@example.com" if field == "email" else "13999999999",
    )
    assert missing["candidates"]["totalCount"] == 0


async def test_name_search_through_blind_index(runtime: Runtime, client: httpx.AsyncClient) -> None:
    world = await _world(runtime)
    hr = world["actors"]["hr"]
    for term, count in (("张伟", 1), ("张", 1), ("伟", 1), ("张三", 0)):
        found = await _post(
            client, hr, "query($s: String!) { candidates(filter: {search: $s}) { totalCount } }", s=term
        )
        assert found["candidates"]["totalCount"] == count, term


async def test_audit_chain_records_reads_and_detects_tampering(runtime: Runtime, client: httpx.AsyncClient) -> None:
    world = await _world(runtime)
    admin, interviewer = world["actors"]["admin"], world["actors"]["interviewer"]
    await _post(client, interviewer, "{ candidates { edges { node { phones nationalId } } } }")
    log = await _post(
        client,
        admin,
        "{ auditLog(first: 50) { edges { node { seq actor action entity field outcome "
        "detail } } } auditChain { ok checked } }",
    )
    entries = [e["node"] for e in log["auditLog"]["edges"]]
    reads = {(e["field"], e["outcome"]) for e in entries if e["actor"] == f"user:{interviewer.principal.id}"}
    assert ("phones", "allowed") in reads and ("national_id", "denied") in reads
    assert all(str(world["candidate"]) in e["detail"] for e in entries if e["action"] == "read")
    assert log["auditChain"]["ok"] is True
    assert not any("138" in (e["detail"] or "") for e in entries)
    async with runtime.db.session(world["tenant"]) as session:
        await session.execute(text("UPDATE audit_log SET outcome = 'allowed' WHERE field = 'national_id'"))
        await session.commit()
    broken = await _post(client, admin, "{ auditChain { ok firstBadSeq kind } }")
    assert broken["auditChain"]["ok"] is False and broken["auditChain"]["kind"] == "modified"
    interviewer_only = await client.post(
        "/graphql", json={"query": "{ auditChain { ok } }"}, headers=interviewer.headers
    )
    assert interviewer_only.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_audit_verify_cli_detects_a_deleted_row(runtime: Runtime) -> None:
    """The CLI against the same database (both backends)."""
    import asyncio

    from hub.cli import app

    async def prepare() -> str:
        world = await _world(runtime)
        slug = f"audit-{uuid.uuid4().hex[:6]}"
        async with runtime.db.system_session() as session:
            await session.execute(
                text("UPDATE tenants SET slug = :s WHERE id = :t"), _p(runtime, s=slug, t=world["tenant"])
            )
            await session.commit()
        from hub.services.audit import append_entries

        await append_entries(
            runtime.db,
            world["tenant"],
            [
                {"actor": "user:x", "action": "read", "entity": "candidate", "field": f, "outcome": "allowed"}
                for f in ("phones", "emails", "national_id")
            ],
        )
        return slug

    slug = asyncio.run(prepare())
    env = {
        "HUB_DATABASE_URL": runtime.settings.database_url,
        "HUB_JWT_SECRET": runtime.settings.jwt_secret,
        "HUB_KEK": runtime.settings.kek,
    }
    assert CliRunner().invoke(app, ["audit", "verify", "--tenant", slug], env=env).exit_code == 0

    async def delete_middle() -> None:
        async with runtime.db.system_session() as session:
            await session.execute(
                text("DELETE FROM audit_log WHERE seq = 2 AND tenant_id = (SELECT id FROM tenants WHERE slug = :s)"),
                {"s": slug},
            )
            await session.commit()

    asyncio.run(delete_middle())
    result = CliRunner().invoke(app, ["audit", "verify", "--tenant", slug], env=env)
    assert result.exit_code == 1 and "seq" in result.output


async def test_canary_values_never_leave_the_encrypted_columns(
    runtime: Runtime, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = f"CANARY{uuid.uuid4().hex[:10]}"
    tenant = await make_tenant(runtime.db)
    hr = await make_actor(runtime.db, runtime.settings, tenant, "hr")
    created = await _post(
        client,
        hr,
        """mutation($i: CreateCandidateInput!) { createCandidate(input: $i) {
        candidate { id firstName emails } } }""",
        i={
            "firstName": f"{marker}名",
            "lastName": f"{marker}姓",
            "emails": [f"{marker.lower()}@example.com"],
            "phones": ["+86-138-9911-0055"],
            "nationalId": f"{marker}X",
            "expectedSalary": f"{marker} 40k",
            "locations": [f"{marker}城"],
        },
    )
    gid = created["createCandidate"]["candidate"]["id"]
    assert created["createCandidate"]["candidate"]["firstName"] == f"{marker}名"
    job = await _post(client, hr, 'mutation { createJob(input: {title: "canary job"}) { job { id } } }')
    await _post(
        client,
        hr,
        "mutation($i: CreateApplicationInput!) { createApplication(input: $i) { application { id } } }",
        i={"candidateId": gid, "jobId": job["createJob"]["job"]["id"]},
    )
    await _post(
        client,
        hr,
        "query($e: String!) { candidates(filter: {email: $e}) { edges { node { emails phones } } } }",
        e=f"{marker.lower()}@example.com",
    )
    bad = await client.post(
        "/graphql",
        headers=hr.headers,
        json={
            "query": "mutation($i: UpdateCandidateInput!) { updateCandidate(input: $i) { candidate { id } } }",
            "variables": {"i": {"id": gid, "emails": [f"{marker}-not-an-email"]}},
        },
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert marker not in bad.text
    await runtime.events.publish()
    hits: list[str] = []
    if marker in caplog.text or marker.lower() in caplog.text:
        hits.append("logs")
    async with runtime.db.session(tenant) as session:
        from hub.db.base import Base

        for table in sorted(Base.metadata.tables):  # every table the hub has, raw
            rows = (await session.execute(text(f'SELECT * FROM "{table}"'))).all()
            dump = " ".join(str(v) for row in rows for v in row)
            if marker in dump or marker.lower() in dump or "13899110055" in dump or "138-9911-0055" in dump:
                hits.append(f"table {table}")
    client_redis = redis_lib.Redis.from_url(runtime.settings.redis_url)
    for key in client_redis.scan_iter(match=f"{runtime.settings.redis_prefix}*"):
        kind = client_redis.type(key).decode()
        blob = str(client_redis.xrange(key) if kind == "stream" else client_redis.dump(key))
        if marker in blob or marker.lower() in blob:
            hits.append(f"redis {key!r}")
    client_redis.close()
    assert hits == [], hits
