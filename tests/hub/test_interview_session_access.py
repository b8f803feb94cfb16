"""A candidate sees their own AI interview sessions, with their own answers, and never another candidate's.

Sessions recorded by HR carry the candidate; a session the mobile app created before the HR copy of the
candidate was known carries only the application, and is the candidate's when the application is theirs.
"""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from hub.db import models as m
from hub.runtime import Runtime
from schema.relay import decode_global_id
from tests.factories import Actor, gql_ok, make_actor, open_store
from tests.hub.test_scoring import ANSWERS, record
from tests.hub.test_screening import gid, post

NODE = """query($id: ID!) { node(id: $id) { ... on InterviewSession { id status answers { transcript }
  application { id } } } }"""
OWN = """query($id: ID!) { node(id: $id) { ... on Application { id interviewSessions { id status } } } }"""


async def _two_candidates(runtime: Runtime, tenant: uuid.UUID) -> list[dict[str, uuid.UUID]]:
    async with open_store(runtime.db, runtime.settings, tenant) as store:
        job = await store.create("job", {"title": "后端工程师", "stages": ["APPLIED", "SCREENING"]})
        made = []
        for first in ("伟", "娜"):
            candidate = await store.create("candidate", {"first_name": first, "last_name": "张"})
            app = await store.create("application", {"candidate_id": candidate.id, "job_id": job.id})
            made.append({"candidate": candidate.id, "application": app.id})
    return made


async def test_a_candidate_sees_their_own_sessions_only(
    client: httpx.AsyncClient, runtime: Runtime, hr: Actor, tenant: uuid.UUID
) -> None:
    mine, theirs = await _two_candidates(runtime, tenant)
    my_session = await record(client, hr, mine["application"], consent=True)
    their_session = await record(client, hr, theirs["application"], consent=True)
    # A session the mobile app reported before the HR copy of the candidate was linked: application only.
    async with runtime.db.session(tenant) as session:
        unlinked = m.InterviewSession(application_id=mine["application"], status="INVITED", channel="mobile")
        session.add(unlinked)
        await session.commit()
    me = await make_actor(runtime.db, runtime.settings, tenant, "candidate", candidate_id=mine["candidate"])

    own = gql_ok(await post(client, me, NODE, id=my_session["id"]))["node"]
    assert own["id"] == my_session["id"] and own["application"]["id"] == gid("Application", mine["application"])
    assert [a["transcript"] for a in own["answers"]] == [a["transcript"] for a in ANSWERS]  # their own words

    listed = gql_ok(await post(client, me, OWN, id=gid("Application", mine["application"])))["node"]
    assert {s["id"] for s in listed["interviewSessions"]} == {my_session["id"], gid("InterviewSession", unlinked.id)}

    # Another candidate's session answers exactly like a missing one, by id or through their application.
    for query, target in ((NODE, their_session["id"]), (OWN, gid("Application", theirs["application"]))):
        assert (await post(client, me, query, id=target)).json() == {"data": {"node": None}}

    # HR still sees every session; the other candidate sees only theirs.
    assert gql_ok(await post(client, hr, NODE, id=their_session["id"]))["node"]["id"] == their_session["id"]
    other = await make_actor(runtime.db, runtime.settings, tenant, "candidate", candidate_id=theirs["candidate"])
    assert gql_ok(await post(client, other, NODE, id=their_session["id"]))["node"]["id"] == their_session["id"]
    assert (await post(client, other, NODE, id=my_session["id"])).json()["data"]["node"] is None

    # A candidate principal not linked to any candidate sees no session at all.
    nobody = await make_actor(runtime.db, runtime.settings, tenant, "candidate")
    assert (await post(client, nobody, NODE, id=my_session["id"])).json()["data"]["node"] is None
    async with runtime.db.session(tenant) as session:
        stored = (await session.scalars(select(m.InterviewSession.id))).all()
    assert {str(decode_global_id(my_session["id"])[1]), str(unlinked.id)} <= {str(i) for i in stored}
