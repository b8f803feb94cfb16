"""GraphQL over HTTP: bad requests get clear coded errors and change nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.factories import Actor, gql_ok

COUNT = "{ jobs { totalCount } }"


async def _jobs(client: httpx.AsyncClient, hr: Actor) -> int:
    return gql_ok(await client.post("/graphql", json={"query": COUNT}, headers=hr.headers))["jobs"]["totalCount"]


def _code(response: httpx.Response) -> str:
    return response.json()["errors"][0]["extensions"]["code"]


async def test_malformed_json(client: httpx.AsyncClient, hr: Actor) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "mutation {', headers={**hr.headers, "content-type": "application/json"}
    )
    assert response.status_code == 400 and _code(response) == "BAD_REQUEST"
    assert response.headers["content-type"].startswith("application/graphql-response+json")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""],
)
async def test_csrf_prone_and_unknown_content_types(client: httpx.AsyncClient, hr: Actor, content_type: str) -> None:
    body = json.dumps({"query": 'mutation { createJob(input: {title: "x"}) { job { id } } }'})
    response = await client.post("/graphql", content=body, headers={**hr.headers, "content-type": content_type})
    assert response.status_code == 415 and _code(response) == "UNSUPPORTED_MEDIA_TYPE"
    assert await _jobs(client, hr) == 0


async def test_oversized_body(client: httpx.AsyncClient, hr: Actor) -> None:
    big = json.dumps({"query": COUNT, "variables": {"x": "a" * 1_200_000}})
    response = await client.post("/graphql", content=big, headers={**hr.headers, "content-type": "application/json"})
    assert response.status_code == 413 and _code(response) == "PAYLOAD_TOO_LARGE"


async def test_oversized_body_without_length_header(client: httpx.AsyncClient, hr: Actor) -> None:
    async def chunks() -> Any:
        for _ in range(30):
            yield b"x" * 50_000

    response = await client.post(
        "/graphql", content=chunks(), headers={**hr.headers, "content-type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ([], "QUERY_TOO_COMPLEX"),
        ([{"query": COUNT}] * 11, "QUERY_TOO_COMPLEX"),
        ("just a string", "BAD_REQUEST"),
        ({"variables": {}}, "BAD_REQUEST"),
        ({"query": 42}, "BAD_REQUEST"),
        ({"query": COUNT, "variables": [1, 2]}, "BAD_REQUEST"),
        ({"query": COUNT, "operationName": 7}, "BAD_REQUEST"),
    ],
)
async def test_malformed_operations(client: httpx.AsyncClient, hr: Actor, payload: Any, code: str) -> None:
    response = await client.post("/graphql", json=payload, headers=hr.headers)
    assert response.status_code == 400 and _code(response) == code


async def test_syntax_validation_and_variable_errors(client: httpx.AsyncClient, hr: Actor) -> None:
    syntax = await client.post("/graphql", json={"query": "{ jobs { "}, headers=hr.headers)
    assert syntax.status_code == 400 and _code(syntax) == "GRAPHQL_PARSE_FAILED"
    unknown = await client.post("/graphql", json={"query": "{ nope }"}, headers=hr.headers)
    assert unknown.status_code == 400 and _code(unknown) == "GRAPHQL_VALIDATION_FAILED"
    variables = await client.post(
        "/graphql",
        headers=hr.headers,
        json={"query": "query($n: Int!) { jobs(first: $n) { totalCount } }", "variables": {"n": "ten"}},
    )
    assert variables.status_code == 400 and _code(variables) == "BAD_USER_INPUT"
    legacy = await client.post(
        "/graphql", json={"query": "{ nope }"}, headers={**hr.headers, "accept": "application/json"}
    )
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")


async def test_wrong_types_and_bounds_in_inputs(client: httpx.AsyncClient, hr: Actor) -> None:
    create = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }"
    for bad, field in [
        ({"title": "  "}, "title"),
        ({"title": "x" * 301}, "title"),
        ({"title": "ok", "stages": []}, "stages"),
        (
            {"title": "ok", "requirements": {"niceToHave": [{"skill": "Go", "weight": -1}]}},
            "requirements.niceToHave.weight",
        ),
        ({"title": "ok", "requirements": {"minEducation": "kindergarten"}}, "requirements.minEducation"),
    ]:
        response = await client.post("/graphql", json={"query": create, "variables": {"i": bad}}, headers=hr.headers)
        error = response.json()["errors"][0]
        assert error["extensions"] == {"code": "VALIDATION_FAILED", "field": field}, error
    assert await _jobs(client, hr) == 0
    page = await client.post("/graphql", json={"query": "{ jobs(first: 1000) { totalCount } }"}, headers=hr.headers)
    assert _code(page) == "VALIDATION_FAILED"
    cursor = await client.post("/graphql", json={"query": '{ jobs(after: "@@") { totalCount } }'}, headers=hr.headers)
    assert _code(cursor) == "VALIDATION_FAILED"


async def test_limits(client: httpx.AsyncClient, hr: Actor) -> None:
    deep = (
        "{ candidates { edges { node { applications { job { applications { edges { node { candidate {"
        " applications { job { title } } } } } } } } } } } }"
    )
    response = await client.post("/graphql", json={"query": deep}, headers=hr.headers)
    assert response.status_code == 400 and _code(response) == "QUERY_TOO_COMPLEX"
    aliases = "{ " + " ".join(f"a{i}: viewer {{ name }}" for i in range(40)) + " }"
    response = await client.post("/graphql", json={"query": aliases}, headers=hr.headers)
    assert _code(response) == "QUERY_TOO_COMPLEX"
    tokens = "{ viewer { " + "name " * 3000 + "} }"
    response = await client.post("/graphql", json={"query": tokens}, headers=hr.headers)
    assert _code(response) == "QUERY_TOO_COMPLEX"
    directives = "{ " + "... on Query @include(if: true) { viewer { name } } " * 25 + "}"
    response = await client.post("/graphql", json={"query": directives}, headers=hr.headers)
    assert _code(response) == "QUERY_TOO_COMPLEX"
    introspection = await client.post("/graphql", json={"query": "{ __schema { types { name } } }"}, headers=hr.headers)
    assert introspection.status_code == 400


async def test_get_allows_queries_only(client: httpx.AsyncClient, hr: Actor) -> None:
    ok = await client.get("/graphql", params={"query": COUNT}, headers=hr.headers)
    assert ok.status_code == 200 and ok.json() == {"data": {"jobs": {"totalCount": 0}}}
    mutation = 'mutation { createJob(input: {title: "x"}) { job { id } } }'
    response = await client.get("/graphql", params={"query": mutation}, headers=hr.headers)
    assert response.status_code == 405
    assert await _jobs(client, hr) == 0


async def test_unexpected_errors_are_masked(client: httpx.AsyncClient, hr: Actor, monkeypatch: Any) -> None:
    from hub.services.store import SqlStore

    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail 13812345678")

    monkeypatch.setattr(SqlStore, "list_rows", boom)
    response = await client.post("/graphql", json={"query": COUNT}, headers=hr.headers)
    error = response.json()["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL"
    assert "13812345678" not in response.text and "Traceback" not in response.text
