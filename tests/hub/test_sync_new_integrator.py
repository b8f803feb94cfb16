"""A new integrator, tried as one: a system the hub has never seen, described by a manifest alone.

``connectors/examples/greenhouse_style.yaml`` is registered through GraphQL and a small Starlette app on a
loopback port speaks that manifest's shape (bare JSON lists, page-number pagination, HTTP Basic, Standard
Webhooks). The integrator creates a connection, syncs it, finds a record its mapping cannot read in
quarantine, registers a fixed manifest version, replays the quarantine, and queries the data through
GraphQL; an upstream deletion is detected by a full sync, a webhook updates an application, and an
answer that is not JSON fails the sync with a coded error without touching what is stored.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from connectors.webhooks import sign_standard_webhook
from hub.db import models as m
from simulators.server import RunningServer, run_in_thread
from tests.factories import make_actor
from tests.hub.integration_support import Hub, drain, gql

pytestmark = pytest.mark.e2e

MANIFEST = (Path(__file__).resolve().parents[2] / "connectors" / "examples" / "greenhouse_style.yaml").read_text(
    encoding="utf-8"
)
API_KEY = "gh-test-key"
SECRET = "whsec_" + base64.b64encode(b"greenhouse-style-webhook-secret!").decode()
STAMP = "2025-03-09T10:00:00Z"


@dataclass
class Harvest:
    """The upstream ATS: bare JSON lists, ``page``/``per_page``, ``updated_after``, HTTP Basic."""

    candidates: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    applications: list[dict[str, Any]] = field(default_factory=list)
    broken: bool = False  # answer an HTML page with 200, as a misconfigured proxy does

    def app(self) -> Starlette:
        async def listing(request: Request) -> Response:
            expected = "Basic " + base64.b64encode(f"{API_KEY}:".encode()).decode()
            if request.headers.get("authorization") != expected:
                return JSONResponse({"message": "Invalid Basic Auth credentials"}, 401)
            if self.broken:
                return PlainTextResponse("<html><body>Welcome to nginx!</body></html>", media_type="text/html")
            rows = getattr(self, request.path_params["model"])
            since = request.query_params.get("updated_after") or request.query_params.get("last_activity_after")
            if since:
                rows = [r for r in rows if (r.get("updated_at") or r.get("last_activity_at")) >= since]
            page, size = int(request.query_params.get("page", 1)), int(request.query_params.get("per_page", 100))
            return JSONResponse(rows[(page - 1) * size : page * size])

        return Starlette(routes=[Route("/v1/{model}", listing)])


def harvest() -> Harvest:
    jobs = [
        {"id": 4000 + i, "name": name, "requisition_id": f"R-{i}", "status": status, "notes": "…",
         "departments": [{"name": "平台研发部"}], "updated_at": STAMP}
        for i, (name, status) in enumerate([("Backend Engineer", "open"), ("Data Analyst", "on_hold")])
    ]  # fmt: skip
    candidates = [
        {"id": 100 + i, "first_name": first, "last_name": last, "company": "Acme", "title": "Engineer",
         "phone_numbers": [{"value": f"+86 138 0000 00{i:02d}", "type": "mobile"}],
         "email_addresses": [{"value": f"{first.lower()}@example.com", "type": "personal"}],
         "addresses": [{"value": "上海"}], "tags": ["referral"], "created_at": STAMP, "updated_at": STAMP}
        for i, (first, last) in enumerate([("Wei", "Zhang"), ("Fang", "Li"), ("Emily", "Chen")])
    ]  # fmt: skip
    applications = [
        {"id": 9000 + i, "candidate_id": 100 + i, "jobs": [{"id": 4000 + (i % 2)}], "status": "active",
         "applied_at": STAMP, "last_activity_at": STAMP, "current_stage": {"name": "Phone Screen"},
         "source": {"public_name": "LinkedIn"}}
        for i in range(3)
    ]  # fmt: skip
    return Harvest(candidates=candidates, jobs=jobs, applications=applications)


@pytest.fixture
def upstream() -> Iterator[tuple[Harvest, RunningServer]]:
    ats = harvest()
    server = run_in_thread(ats.app())
    yield ats, server
    server.stop()


async def call(client: httpx.AsyncClient, actor: Any, query: str, **variables: Any) -> dict[str, Any]:
    return gql(await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers))


REGISTER = "mutation($m: String!) { registerConnector(input: {manifest: $m}) { connector { kind version } } }"
CREATE = "mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id webhookUrl } } }"
SYNC = """mutation($id: ID!, $full: Boolean!) { triggerSync(input: {connectionId: $id, full: $full}) {
  runs { model } } }"""
STATE = """query($id: ID!) { connection(id: $id) { syncStates { model status lastError }
  syncRuns(first: 1) { edges { node { model status errorCode } } }
  quarantine(first: 10, status: "OPEN") { totalCount edges { node { id model remoteId code reason path raw } } } } }"""
REPLAY = "mutation($ids: [ID!]!) { replayQuarantined(input: {ids: $ids}) { results { status reason } } }"


async def test_a_system_the_hub_has_never_seen(
    client: httpx.AsyncClient, hub: Hub, upstream: tuple[Harvest, RunningServer]
) -> None:
    ats, server = upstream
    assert (await call(client, hub.integrator, REGISTER, m=MANIFEST))["registerConnector"]["connector"] == {
        "kind": "greenhouse_style",
        "version": "1.0.0",
    }
    spec = {"name": "harvest", "kind": "greenhouse_style", "baseUrl": server.url + "/v1", "webhookSecret": SECRET,
            "credentials": {"api_key": API_KEY}, "settings": {"on_behalf_of": "7"}}  # fmt: skip
    connection = (await call(client, hub.integrator, CREATE, i=spec))["createConnection"]["connection"]
    gid = connection["id"]
    await call(client, hub.integrator, SYNC, id=gid, full=False)
    await drain(hub.settings)

    view = (await call(client, hub.integrator, STATE, id=gid))["connection"]
    states = {s["model"]: s["status"] for s in view["syncStates"]}
    assert states == {"job": "PARTIALLY_SYNCED", "candidate": "DONE", "application": "PARTIALLY_SYNCED"}
    waiting = {q["node"]["model"]: q["node"] for q in view["quarantine"]["edges"]}
    assert waiting["job"]["code"] == "NORMALIZATION_FAILED" and waiting["job"]["path"] == "$.status"
    assert "on_hold" in waiting["job"]["reason"] and waiting["job"]["raw"] is None  # raw: admins only
    assert waiting["application"]["code"] == "REFERENCE_UNRESOLVED"
    admin = await make_actor(hub.db, hub.settings, hub.tenant, "admin")
    raw = (await call(client, admin, STATE, id=gid))["connection"]["quarantine"]["edges"]
    assert {q["node"]["raw"]["id"] for q in raw} == {4001, 9001}  # the payload as received, for the admin

    # The integrator fixes the mapping (a new manifest version) and replays what waited for it.
    fixed = MANIFEST.replace('version: "1.0.0"', 'version: "1.0.1"').replace(
        "enum: {map: {open: OPEN, closed: CLOSED, draft: DRAFT}}",
        "enum: {map: {open: OPEN, closed: CLOSED, draft: DRAFT, on_hold: PENDING}}",
    )
    assert (await call(client, hub.integrator, REGISTER, m=fixed))["registerConnector"]["connector"][
        "version"
    ] == "1.0.1"
    ids = [q["node"]["id"] for q in view["quarantine"]["edges"]]
    results = (await call(client, hub.integrator, REPLAY, ids=ids))["replayQuarantined"]["results"]
    assert [r["status"] for r in results] == ["REPLAYED", "REPLAYED"]
    assert (await call(client, hub.integrator, STATE, id=gid))["connection"]["quarantine"]["totalCount"] == 0

    # What the integrator sees through GraphQL (personal fields per role: HR sees them in clear).
    listing = await call(
        client,
        hub.hr,
        """{ jobs { edges { node { title status } } }
      candidates { totalCount edges { node { id firstName lastName emails phones } } }
      applications { totalCount edges { node { stage job { title } candidate { lastName } } } } }""",
    )
    assert {j["node"]["title"]: j["node"]["status"] for j in listing["jobs"]["edges"]} == {
        "Backend Engineer": "OPEN",
        "Data Analyst": "PENDING",
    }
    people = {c["node"]["firstName"]: c["node"] for c in listing["candidates"]["edges"]}
    assert set(people) == {"Wei", "Fang", "Emily"} and people["Wei"]["emails"] == ["wei@example.com"]
    assert listing["applications"]["totalCount"] == 3
    assert {a["node"]["job"]["title"] for a in listing["applications"]["edges"]} == {"Backend Engineer", "Data Analyst"}
    integrator_view = await call(client, hub.integrator, "{ candidates { edges { node { firstName emails } } } }")
    assert all(c["node"]["emails"] is None for c in integrator_view["candidates"]["edges"])  # hidden from them
    provenance = await call(client, hub.integrator, "query($id: ID!) { provenance(id: $id) { kind remoteId } }",
                            id=people["Wei"]["id"])  # fmt: skip
    assert provenance["provenance"] == [{"kind": "greenhouse_style", "remoteId": "100"}]

    # A webhook in Standard Webhooks from the new system updates an application.
    connection_id = connection["webhookUrl"].rsplit("/", 1)[1]
    moved = {**ats.applications[0], "current_stage": {"name": "Onsite"}, "last_activity_at": "2025-03-10T09:00:00Z"}
    body = json.dumps({"action": "candidate_stage_change", "payload": {"application": moved}}).encode()
    stamp, msg_id = int(time.time()), f"msg_{uuid.uuid4().hex}"
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(stamp),
               "webhook-signature": sign_standard_webhook(SECRET, msg_id, stamp, body)}  # fmt: skip
    assert (await client.post(f"/webhooks/{connection_id}", content=body, headers=headers)).status_code == 200
    await drain(hub.settings)
    stages = {a.stage for a in await hub.rows(m.Application)}
    assert "Onsite" in stages and len(await hub.events("application.stage_changed")) == 1

    # Gone upstream: a full read notices.
    gone = ats.candidates.pop()
    await call(client, hub.integrator, SYNC, id=gid, full=True)
    await drain(hub.settings)
    (link,) = await hub.rows(
        m.RemoteLink, m.RemoteLink.entity == "candidate", m.RemoteLink.remote_id == str(gone["id"])
    )
    assert link.remote_deleted_at is not None
    assert [e.entity_id for e in await hub.events("candidate.remote_deleted")] == [link.entity_id]

    # An answer that is not JSON: FAILED with a code, nothing stored is touched.
    ats.broken = True
    before = await hub.count(m.Candidate)
    await call(client, hub.integrator, SYNC, id=gid, full=True)
    await drain(hub.settings)
    view = (await call(client, hub.integrator, STATE, id=gid))["connection"]
    assert {s["status"] for s in view["syncStates"]} == {"FAILED"}
    assert all(s["lastError"].startswith("UPSTREAM_BAD_RESPONSE") for s in view["syncStates"])
    assert await hub.count(m.Candidate) == before
    assert await hub.count(m.RemoteLink, m.RemoteLink.remote_deleted_at.is_not(None)) == 1
