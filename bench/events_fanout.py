"""Event fan-out: latency from a job committing its result to each of N WebSocket subscribers
receiving it, on one hub process; events per second fanned out; memory per idle subscriber.

    .venv/bin/python bench/events_fanout.py [--subscribers 1000] [--events 20] [--deflate]

The producer does what a scoring job does: commit an evaluation and its event in one
transaction, then publish. Targets: p99 under 250 ms with 1,000 subscribers.

Latencies depend on what else the machine runs (the clients share it with the hub); the hub's
CPU time per delivery (user + system, from /proc) is the figure to compare between runs. The hub
runs as `hub serve` runs it: `hub.asgi:app`, per-message deflate off (``--deflate`` to offer it).
All subscribers use one operation and one role, so they form one group (see schema/fanout.py).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import sys
import time
import uuid
from pathlib import Path

import uvloop
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._load import Server, create_scratch_database, drop_scratch_database
from hub.db import Database
from hub.db import models as m
from hub.events import publish_pending
from hub.redis import async_redis
from hub.services.auth import mint_token
from hub.settings import Settings

SUBSCRIPTION = (
    'subscription { events(types: ["evaluation.created"]) { cursor type '
    "node { id ... on Evaluation { total recommendation } } } }"
)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU the process used so far (load on the machine does not inflate it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def seed(settings: Settings) -> tuple[uuid.UUID, uuid.UUID, str]:
    db = Database(settings)
    try:
        async with db.system_session() as session:
            tenant = m.Tenant(slug=f"fanout-{uuid.uuid4().hex[:6]}", name="Fan-out")
            session.add(tenant)
            await session.commit()
        async with db.session(tenant.id) as session:
            job = m.Job(title="后端", stages=["A"])
            cand = m.Candidate(first_name="x")
            session.add_all([job, cand])
            await session.flush()
            app = m.Application(candidate_id=cand.id, job_id=job.id, stage="A")
            hr = m.Principal(kind="user", name="hr", roles=["hr"], email="hr@fanout.example")
            session.add_all([app, hr])
            await session.commit()
        return tenant.id, app.id, mint_token(settings, hr)
    finally:
        await db.dispose()


async def subscriber(
    url: str, token: str, ready: asyncio.Event, received: list[tuple[str, float]], counter: list[int], target: int
) -> None:
    ws = await websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")], max_queue=None, open_timeout=60
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    counter[0] += 1
    if counter[0] == target:
        ready.set()
    try:
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            if message.get("type") == "next":
                received.append((message["payload"]["data"]["events"]["node"]["id"], now))
            elif message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
    except websockets.ConnectionClosed:
        pass


async def produce(settings: Settings, tenant: uuid.UUID, application: uuid.UUID) -> tuple[str, float]:
    """What a scoring job does: commit the evaluation with its event, then publish."""
    from schema.relay import encode_global_id

    db = Database(settings)
    redis = async_redis(settings.redis_url)
    try:
        async with db.session(tenant) as session:
            evaluation = m.Evaluation(
                application_id=application, total=86.0, recommendation="advance", dimension_scores=[]
            )
            session.add(evaluation)
            await session.flush()
            session.add(
                m.Event(
                    type="evaluation.created",
                    entity="evaluation",
                    entity_id=evaluation.id,
                    data={"application_id": str(application)},
                )
            )
            await session.commit()
        committed = time.time()
        await publish_pending(db, redis, settings.redis_prefix)
        return encode_global_id("Evaluation", evaluation.id), committed
    finally:
        await redis.aclose()
        await db.dispose()


async def run(
    url: str,
    settings: Settings,
    pid: int,
    args: argparse.Namespace,
    token: str,
    tenant: uuid.UUID,
    application: uuid.UUID,
) -> None:
    ready, received, counter = asyncio.Event(), [], [0]
    base = rss_kib(pid)
    tasks = []
    for i in range(args.subscribers):
        tasks.append(asyncio.create_task(subscriber(url, token, ready, received, counter, args.subscribers)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    await asyncio.wait_for(ready.wait(), 300)
    await asyncio.sleep(2)
    idle = rss_kib(pid)
    print(
        f"{args.subscribers} idle subscribers: hub RSS {base / 1024:.0f} MiB -> {idle / 1024:.0f} MiB, "
        f"{(idle - base) / args.subscribers:.1f} KiB per idle subscriber"
    )
    latencies: list[float] = []
    cpu = cpu_seconds(pid)
    for _ in range(args.events):
        received.clear()
        gid, committed = await produce(settings, tenant, application)
        deadline = time.time() + 30
        while sum(1 for g, _t in received if g == gid) < args.subscribers and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        got = [t - committed for g, t in received if g == gid]
        if len(got) < args.subscribers:
            print(f"  only {len(got)} of {args.subscribers} subscribers received an event within 30 s")
        latencies.extend(got)
        await asyncio.sleep(args.gap)
    cpu = cpu_seconds(pid) - cpu
    latencies.sort()
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    print(
        f"commit -> client latency over {len(latencies)} deliveries: p50 {p(0.5):.0f} ms, p99 {p(0.99):.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms (target p99 < 250 ms); "
        f"hub CPU {1e6 * cpu / max(1, len(latencies)):.0f} us per delivery"
    )
    # throughput: a burst of events, as fast as the producer commits them
    received.clear()
    cpu = cpu_seconds(pid)
    start = time.time()
    burst = [await produce(settings, tenant, application) for _ in range(args.burst)]
    wanted = {g for g, _c in burst}
    while sum(1 for g, _t in received if g in wanted) < args.burst * args.subscribers and time.time() - start < 120:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    delivered = sum(1 for g, _t in received if g in wanted)
    elapsed, cpu = time.time() - start, cpu_seconds(pid) - cpu
    print(
        f"burst of {args.burst} events to {args.subscribers} subscribers: {delivered} deliveries in "
        f"{elapsed:.1f} s = {delivered / elapsed:.0f} deliveries/s; hub CPU {1e6 * cpu / max(1, delivered):.0f} us "
        "per delivery"
    )
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    # The clients are the measuring instrument: keep their own GC pauses out of the latencies
    # (the hub process tunes its collector itself, in hub.asgi).
    gc.set_threshold(20_000, 20, 20)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--gap", type=float, default=0.3)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--deflate", action="store_true", help="offer per-message deflate (off in `hub serve`)")
    args = parser.parse_args()
    db_url = create_scratch_database()
    try:
        import base64

        env = {
            "HUB_DATABASE_URL": db_url,
            "HUB_JWT_SECRET": "bench-" + secrets.token_hex(24),
            "HUB_KEK": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "HUB_REDIS_PREFIX": f"hubbench:{uuid.uuid4().hex[:6]}:",
            "HUB_LOG_LEVEL": "warning",
            "HUB_MAX_SUBSCRIPTIONS_PER_CONNECTION": "5",
            # as `hub serve` runs uvicorn (per-message deflate off: see hub/cli.py)
            "UVICORN_WS_PER_MESSAGE_DEFLATE": "false" if not args.deflate else "true",
        }
        settings = Settings.from_env(env)
        tenant, application, token = asyncio.run(seed(settings))
        with Server("hub.asgi:app", env) as hub:
            uvloop.run(  # the clients on the loop the hub uses: less of their own overhead in the latencies
                run(
                    hub.url.replace("http", "ws") + "/graphql", settings, hub.proc.pid, args, token, tenant, application
                )
            )
    finally:
        drop_scratch_database(db_url)


if __name__ == "__main__":
    main()
