"""The baseline: a bare Strawberry app serving the dashboard's response shape from memory.

No database, no auth, no policies: the cost of GraphQL execution alone, so the hub's
throughput can be read as a ratio against it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import strawberry
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL


@strawberry.type
class Evaluation:
    id: strawberry.ID
    total: float | None
    recommendation: str | None


@strawberry.type
class Job:
    id: strawberry.ID
    title: str


@strawberry.type
class Application:
    id: strawberry.ID
    stage: str
    job: Job
    latest_evaluation: Evaluation | None


@strawberry.type
class Candidate:
    id: strawberry.ID
    first_name: str | None
    last_name: str | None
    emails: list[str] | None
    phones: list[str] | None
    updated_at: datetime
    applications: list[Application]


@strawberry.type
class Edge:
    cursor: str
    node: Candidate


@strawberry.type
class CandidateConnection:
    total_count: int
    edges: list[Edge]


def _data() -> list[Candidate]:
    jobs = [Job(id=strawberry.ID(str(uuid.uuid4())), title=f"职位 {i}") for i in range(4)]
    now = datetime.now(UTC)
    out = []
    for i in range(50):
        apps = [
            Application(
                id=strawberry.ID(str(uuid.uuid4())),
                stage="SCREENING",
                job=jobs[(i + k) % 4],
                latest_evaluation=Evaluation(id=strawberry.ID(str(uuid.uuid4())), total=82.5, recommendation="advance"),
            )
            for k in range(2)
        ]
        out.append(
            Candidate(
                id=strawberry.ID(str(uuid.uuid4())),
                first_name="伟",
                last_name="张",
                emails=[f"c{i}@example.com"],
                phones=["+86-138-0000-5678"],
                updated_at=now,
                applications=apps,
            )
        )
    return out


CANDIDATES = _data()


@strawberry.type
class Query:
    @strawberry.field
    async def candidates(self, first: int = 20) -> CandidateConnection:
        rows = CANDIDATES[:first]
        return CandidateConnection(total_count=len(CANDIDATES), edges=[Edge(cursor=c.id, node=c) for c in rows])


async def healthz(request: object) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/healthz", healthz), Route("/graphql", GraphQL(strawberry.Schema(query=Query)))])
