"""The GraphQL API through the ASGI app: reads, writes, errors, tenancy."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.factories import Actor, gql_ok

CREATE_JOB = """
mutation($input: CreateJobInput!) { createJob(input: $input) { job { id title status stages
  requirements { mustHave niceToHave { skill weight } minYears } } } }
"""
CREATE_CANDIDATE = """
mutation($input: CreateCandidateInput!) {
  createCandidate(input: $input) { candidate { id firstName lastName emails phones } } }
"""
CREATE_APPLICATION = """
mutation($input: CreateApplicationInput!) { createApplication(input: $input) { application { id stage
  candidate { id } job { id } history { fromStage toStage reason actorKind } } } }
"""
MOVE_STAGE = """
mutation($input: MoveApplicationStageInput!) { moveApplicationStage(input: $input) {
  application { id stage history { fromStage toStage reason } } } }
"""
NODE = "query($id: ID!) { node(id: $id) { id ... on Candidate { firstName } ... on Job { title } } }"


async def post(client: httpx.AsyncClient, actor: Actor, query: str, **variables: Any) -> httpx.Response:
    return await client.post("/graphql", json={"query": query, "variables": variables}, headers=actor.headers)


async def seed(client: httpx.AsyncClient, actor: Actor) -> dict[str, str]:
    job = gql_ok(
        await post(
            client,
            actor,
            CREATE_JOB,
            input={
                "title": "高级后端工程师",
                "stages": ["APPLIED", "SCREENING", "INTERVIEW"],
                "requirements": {"mustHave": ["Java"], "niceToHave": [{"skill": "Kafka", "weight": 10}], "minYears": 3},
            },
        )
    )["createJob"]["job"]
    cand = gql_ok(
        await post(
            client,
            actor,
            CREATE_CANDIDATE,
            input={
                "firstName": "伟",
                "lastName": "张",
                "emails": ["wei.zhang@example.com"],
                "phones": ["+86-138-0000-5678"],
            },
        )
    )["createCandidate"]["candidate"]
    app = gql_ok(await post(client, actor, CREATE_APPLICATION, input={"candidateId": cand["id"], "jobId": job["id"]}))
    return {"job": job["id"], "candidate": cand["id"], "application": app["createApplication"]["application"]["id"]}


async def test_create_and_read_back(client: httpx.AsyncClient, hr: Actor) -> None:
    ids = await seed(client, hr)
    data = gql_ok(
        await post(
            client,
            hr,
            """
      query { candidates(first: 10) { totalCount pageInfo { hasNextPage endCursor }
        edges { cursor node { id firstName lastName emails phones applications { stage job { title } } } } } }""",
        )
    )
    conn = data["candidates"]
    assert conn["totalCount"] == 1
    node = conn["edges"][0]["node"]
    assert node["id"] == ids["candidate"]
    assert node["emails"] == ["wei.zhang@example.com"]
    assert node["applications"] == [{"stage": "APPLIED", "job": {"title": "高级后端工程师"}}]


async def test_move_stage_records_history(client: httpx.AsyncClient, hr: Actor) -> None:
    ids = await seed(client, hr)
    data = gql_ok(
        await post(
            client,
            hr,
            MOVE_STAGE,
            input={"applicationId": ids["application"], "toStage": "SCREENING", "reason": "简历匹配"},
        )
    )
    app = data["moveApplicationStage"]["application"]
    assert app["stage"] == "SCREENING"
    assert app["history"][-1] == {"fromStage": "APPLIED", "toStage": "SCREENING", "reason": "简历匹配"}


async def test_move_to_unknown_stage_is_validation_error(client: httpx.AsyncClient, hr: Actor) -> None:
    ids = await seed(client, hr)
    response = await post(client, hr, MOVE_STAGE, input={"applicationId": ids["application"], "toStage": "NOPE"})
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"
    assert body["data"] is None
    again = gql_ok(await post(client, hr, NODE, id=ids["application"]))
    assert again["node"]["id"] == ids["application"]


async def test_other_tenant_ids_answer_like_missing(
    client: httpx.AsyncClient, hr: Actor, runtime: Any, actor_factory: Any
) -> None:
    from tests.factories import make_tenant

    ids = await seed(client, hr)
    other = await actor_factory(await make_tenant(runtime.db), "hr")
    assert gql_ok(await post(client, other, NODE, id=ids["candidate"])) == {"node": None}
    response = await post(
        client, other, MOVE_STAGE, input={"applicationId": ids["application"], "toStage": "SCREENING"}
    )
    from schema.relay import encode_global_id

    missing = await post(
        client,
        other,
        MOVE_STAGE,
        input={"applicationId": encode_global_id("Application", uuid.uuid4()), "toStage": "SCREENING"},
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert response.json()["errors"][0]["message"] == missing.json()["errors"][0]["message"]
    assert gql_ok(await post(client, other, "{ candidates { totalCount } }")) == {"candidates": {"totalCount": 0}}


async def test_interviewer_cannot_create_jobs(client: httpx.AsyncClient, tenant: Any, actor_factory: Any) -> None:
    interviewer = await actor_factory(tenant, "interviewer")
    response = await post(client, interviewer, CREATE_JOB, input={"title": "x"})
    assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
