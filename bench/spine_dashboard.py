"""Dashboard query throughput: the hub (PostgreSQL, auth, policies) versus a bare Strawberry
app serving the same response shape from memory, side by side on this machine.

    .venv/bin/python bench/spine_dashboard.py [--seconds 10] [--concurrency 8] [--rounds 2]

Needs the PostgreSQL and Redis that `scripts/test` uses. Creates and drops its own database.
Prints requests per second, p50 and p99 latency for each, and the ratio hub / bare.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import secrets
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import Server, create_scratch_database, drive, drop_scratch_database
from hub.db import Database
from hub.db import models as m
from hub.services.auth import mint_token
from hub.settings import Settings

JWT = "bench-" + secrets.token_hex(24)

HUB_QUERY = """query Dashboard { candidates(first: 50) { totalCount edges { cursor node { id firstName lastName
  emails phones updatedAt applications { id stage job { id title }
  latestEvaluation { id total recommendation } } } } } }"""
BARE_QUERY = HUB_QUERY


async def seed(settings: Settings) -> str:
    db = Database(settings)
    try:
        async with db.system_session() as session:
            tenant = m.Tenant(slug="bench", name="Bench")
            session.add(tenant)
            await session.commit()
        async with db.session(tenant.id) as session:
            jobs = [m.Job(title=f"职位 {i}", stages=["APPLIED", "SCREENING"]) for i in range(4)]
            session.add_all(jobs)
            await session.flush()
            for i in range(50):
                cand = m.Candidate(
                    first_name="伟", last_name="张", emails=f'["c{i}@example.com"]', phones='["+86-138-0000-5678"]'
                )
                session.add(cand)
                await session.flush()
                for k in range(2):
                    app = m.Application(candidate_id=cand.id, job_id=jobs[(i + k) % 4].id, stage="SCREENING")
                    session.add(app)
                    await session.flush()
                    session.add(
                        m.Evaluation(application_id=app.id, total=82.5, recommendation="advance", dimension_scores=[])
                    )
            hr = m.Principal(kind="user", name="bench hr", roles=["hr"], email="hr@bench.example")
            session.add(hr)
            await session.commit()
        return mint_token(settings, hr)
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    url = create_scratch_database()
    try:
        env = {
            "HUB_DATABASE_URL": url,
            "HUB_JWT_SECRET": JWT,
            "HUB_REDIS_PREFIX": f"hubbench:{uuid.uuid4().hex[:6]}:",
            "HUB_ENV": "production",
            "HUB_LOG_LEVEL": "warning",
            "HUB_KEK": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        }
        settings = Settings.from_env(env)
        token = asyncio.run(seed(settings))
        headers = {"authorization": f"Bearer {token}"}

        def ok(body: dict) -> bool:
            return "errors" not in body and body["data"]["candidates"]["totalCount"] == 50

        with Server("hub.asgi:app", env) as hub, Server("bench.bare_app:app") as bare:
            for srv, q in ((hub, HUB_QUERY), (bare, BARE_QUERY)):  # warm up, and check the answers
                warm = asyncio.run(
                    drive(srv.url + "/graphql", {"query": q}, headers, seconds=2, concurrency=2, check=ok)
                )
                assert warm.errors == 0, f"{srv.url} answered with errors"
            hub_runs, bare_runs = [], []
            for _ in range(args.rounds):
                hub_runs.append(
                    asyncio.run(
                        drive(
                            hub.url + "/graphql",
                            {"query": HUB_QUERY},
                            headers,
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            check=ok,
                        )
                    )
                )
                bare_runs.append(
                    asyncio.run(
                        drive(
                            bare.url + "/graphql",
                            {"query": BARE_QUERY},
                            {},
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            check=ok,
                        )
                    )
                )
        print(
            f"dashboard query: 50 candidates x 2 applications with job and latest evaluation; "
            f"{args.concurrency} concurrent clients, {args.rounds} x {args.seconds:.0f} s each"
        )
        for i, (h, b) in enumerate(zip(hub_runs, bare_runs, strict=True)):
            print(h.line(f"hub  (round {i + 1})"))
            print(b.line(f"bare (round {i + 1})"))
        hub_rps = sum(r.rps for r in hub_runs) / len(hub_runs)
        bare_rps = sum(r.rps for r in bare_runs) / len(bare_runs)
        print(f"ratio hub / bare throughput: {hub_rps / bare_rps:.2f}  (target >= 0.80)")
    finally:
        drop_scratch_database(url)


if __name__ == "__main__":
    main()
