"""The dashboard query with field policies on (encrypted at rest, decrypted and masked per
role, audited) versus off (the same hub storing clear values), side by side.

    .venv/bin/python bench/policies_dashboard.py [--seconds 10] [--concurrency 8] [--rounds 2]

Also prints field round trips (encrypt + decrypt) per second on one core. Target: policy-on keeps
at least 0.85 of the policy-off throughput; at least 50,000 round trips per second per core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import Server, create_scratch_database, drive, drop_scratch_database
from bench.spine_dashboard import HUB_QUERY
from hub.db import Database
from hub.db import models as m
from hub.services.auth import mint_token
from hub.services.crypto import PolicyVault, kek_from_settings
from hub.services.store import SqlStore
from hub.settings import Settings
from schema.context import Viewer


async def seed(settings: Settings, *, encrypted: bool) -> str:
    db = Database(settings)
    try:
        async with db.system_session() as session:
            tenant = m.Tenant(slug=f"bench-{uuid.uuid4().hex[:6]}", name="Bench")
            session.add(tenant)
            await session.commit()
        viewer = Viewer(
            principal_id=uuid.uuid4(), tenant_id=tenant.id, kind="user", name="seed", roles=frozenset({"hr"})
        )
        vault = PolicyVault.from_settings(settings, db)
        await vault.prepare(tenant.id)
        async with db.session(tenant.id) as session:
            store = SqlStore(session, viewer, vault)
            jobs = [
                await store.create("job", {"title": f"职位 {i}", "stages": ["APPLIED", "SCREENING"]}) for i in range(4)
            ]
            for i in range(50):
                values = {
                    "first_name": "伟",
                    "last_name": "张",
                    "emails": [f"c{i}@example.com"],
                    "phones": ["+86-138-0000-5678"],
                }
                if encrypted:
                    cand = await store.create("candidate", values)
                else:
                    cand = m.Candidate(
                        first_name="伟",
                        last_name="张",
                        emails=json.dumps(values["emails"]),
                        phones=json.dumps(values["phones"]),
                    )
                    session.add(cand)
                    await session.commit()
                for k in range(2):
                    app = await store.create("application", {"candidate_id": cand.id, "job_id": jobs[(i + k) % 4].id})
                    session.add(
                        m.Evaluation(application_id=app.id, total=82.5, recommendation="advance", dimension_scores=[])
                    )
            hr = m.Principal(kind="user", name="bench hr", roles=["hr"], email="hr@bench.example")
            session.add(hr)
            await session.commit()
        return mint_token(settings, hr)
    finally:
        await db.dispose()


def crypto_round_trips(settings: Settings) -> float:
    from policies import FieldCipher, KeyRing

    kek = kek_from_settings(settings)
    tenant = str(uuid.uuid4())
    cipher = FieldCipher(KeyRing.create(tenant, kek))
    n, start = 0, time.process_time()
    while time.process_time() - start < 2:
        for _ in range(1000):
            token = cipher.encrypt(
                "+86-138-0000-5678", tenant_id=tenant, entity="candidate", field="phones", record_id="r"
            )
            cipher.decrypt(token, tenant_id=tenant, entity="candidate", field="phones", record_id="r")
        n += 1000
    return n / (time.process_time() - start)


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
            "HUB_JWT_SECRET": "bench-" + secrets.token_hex(24),
            "HUB_KEK": "YmVuY2gta2VrLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU=",
            "HUB_REDIS_PREFIX": f"hubbench:{uuid.uuid4().hex[:6]}:",
            "HUB_LOG_LEVEL": "warning",
        }
        settings = Settings.from_env(env)
        print(
            f"field round trips (encrypt + decrypt, phone number): {crypto_round_trips(settings):,.0f} per second "
            "on one core (target >= 50,000)"
        )
        token_on = asyncio.run(seed(settings, encrypted=True))
        token_off = asyncio.run(seed(settings, encrypted=False))

        def ok(body: dict) -> bool:
            return "errors" not in body and body["data"]["candidates"]["totalCount"] == 50

        with Server("hub.asgi:app", env) as on, Server("bench._policies_off_app:app", env) as off:
            for srv, token in ((on, token_on), (off, token_off)):
                warm = asyncio.run(
                    drive(
                        srv.url + "/graphql",
                        {"query": HUB_QUERY},
                        {"authorization": f"Bearer {token}"},
                        seconds=2,
                        concurrency=2,
                        check=ok,
                    )
                )
                assert warm.errors == 0, f"{srv.url} answered with errors"
            on_runs, off_runs = [], []
            for _ in range(args.rounds):
                on_runs.append(
                    asyncio.run(
                        drive(
                            on.url + "/graphql",
                            {"query": HUB_QUERY},
                            {"authorization": f"Bearer {token_on}"},
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            check=ok,
                        )
                    )
                )
                off_runs.append(
                    asyncio.run(
                        drive(
                            off.url + "/graphql",
                            {"query": HUB_QUERY},
                            {"authorization": f"Bearer {token_off}"},
                            seconds=args.seconds,
                            concurrency=args.concurrency,
                            check=ok,
                        )
                    )
                )
        for i, (a, b) in enumerate(zip(on_runs, off_runs, strict=True)):
            print(a.line(f"policies on  (round {i + 1})"))
            print(b.line(f"policies off (round {i + 1})"))
        on_rps = sum(r.rps for r in on_runs) / len(on_runs)
        off_rps = sum(r.rps for r in off_runs) / len(off_runs)
        print(f"ratio policies on / off throughput: {on_rps / off_rps:.2f}  (target >= 0.85)")
    finally:
        drop_scratch_database(url)


if __name__ == "__main__":
    main()
