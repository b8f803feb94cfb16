"""A full sync of 10,000 candidates from the simulated HR system, end to end.

The HR simulator runs under uvicorn on a loopback port in a process of its own (it is another system: in
the hub's process its JSON rendering would compete for the hub's GIL); the hub reads it over HTTP with
the built-in HR connector (pages of 100, the next page read while the current one is written),
normalizes every record and upserts it through
the sync path into a fresh PostgreSQL database: names, emails, phones and locations sealed per the default
policy with their blind indexes, raw payloads sealed into ``remote_links``, one ``candidate.created`` event
each. Then the same sync runs again (every record unchanged) to show the cost of a no-op full read.
Target: the first sync in under 30 seconds.

    .venv/bin/python bench/connectors_sync.py              # 10,000 candidates
    .venv/bin/python bench/connectors_sync.py -n 2000      # quicker

The database is created on the server in ``HUB_TEST_PG_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, used only to create and drop it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from hub.db import Database  # noqa: E402
from hub.db import models as m  # noqa: E402
from hub.db.migrate import upgrade  # noqa: E402
from hub.services.connections import create_connection  # noqa: E402
from hub.services.crypto import PolicyVault  # noqa: E402
from hub.services.sync import run_sync, start_sync  # noqa: E402
from hub.settings import Settings  # noqa: E402
from simulators.hr import HR_API_KEY, HRConfig  # noqa: E402

ADMIN = os.environ.get("HUB_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KEK = "YmVuY2gta2VrLTAxMjM0NTY3ODlhYmNkZWYwMTIzNDU="
TARGET_SECONDS = 30.0


async def sync_once(db: Database, vault: PolicyVault, tenant_id, connection_id) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    (run,) = await start_sync(db, tenant_id, connection_id, ["candidate"], full=True)
    started = time.perf_counter()
    outcome = await run_sync(db, vault, tenant_id, connection_id, "candidate", run_id=run.id, full=True)
    return time.perf_counter() - started, outcome


async def bench(url: str, count: int, hr_url: str) -> None:
    settings = Settings.from_env({}, env="bench", database_url=url, jwt_secret="b" * 40, kek=KEK)
    db = Database(settings)
    vault = PolicyVault.from_settings(settings, db)
    try:
        async with db.system_session() as session:
            tenant = m.Tenant(slug="bench", name="Bench")
            session.add(tenant)
            await session.commit()
        connection = await create_connection(
            db, vault, tenant.id, name="hr", kind="hr", base_url=hr_url, credentials={"api_key": HR_API_KEY},
            settings={}, webhook_secret=HRConfig().webhook_secret,
        )  # fmt: skip
        seconds, outcome = await sync_once(db, vault, tenant.id, connection.id)
        async with db.session(tenant.id) as session:
            stored = (await session.execute(select(func.count()).select_from(m.Candidate))).scalar()
            links = (await session.execute(select(func.count()).select_from(m.RemoteLink))).scalar()
            indexes = (await session.execute(select(func.count()).select_from(m.BlindIndex))).scalar()
            events = (await session.execute(select(func.count()).select_from(m.Event))).scalar()
        read = outcome["read"]
        print(f"first full sync:  {read} candidates read, {outcome['created']} created, "
              f"{outcome['skipped']} deleted upstream (skipped), {outcome['quarantined']} quarantined")  # fmt: skip
        print(f"  stored: {stored} candidates, {links} remote links (raw sealed), {indexes} blind indexes, "
              f"{events} events")  # fmt: skip
        print(f"  {seconds:.2f} s total, {read / seconds:,.0f} records/s end to end "
              f"({'within' if seconds < TARGET_SECONDS else 'OVER'} the {TARGET_SECONDS:.0f} s target)")  # fmt: skip
        again, outcome = await sync_once(db, vault, tenant.id, connection.id)
        print(f"second full sync: {outcome['unchanged']} unchanged, {outcome['updated']} updated: "
              f"{again:.2f} s, {outcome['read'] / again:,.0f} records/s")  # fmt: skip
    finally:
        await db.dispose()


_SERVE_HR = """
import sys
from simulators.hr import create_hr_app
from simulators.seed import Sizes, build_world
from simulators.server import run_in_thread
server = run_in_thread(create_hr_app(build_world(7, Sizes(candidates=int(sys.argv[1])))))
print(server.url, flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
server.stop()
"""


def serve_hr(candidates: int) -> tuple[subprocess.Popen[str], str]:
    """The HR simulator in a subprocess; answers it and its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE_HR, str(candidates)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise RuntimeError("the HR simulator did not start")
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--candidates", type=int, default=10_000)
    args = parser.parse_args()
    print(f"starting the HR simulator with {args.candidates} candidates ...")
    simulator, hr_url = serve_hr(args.candidates)
    name = f"hub_bench_sync_{secrets.token_hex(4)}"
    admin = ADMIN.replace("postgresql+psycopg://", "postgresql://")
    base, _, _ = ADMIN.rpartition("/")
    url = f"{base}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        asyncio.run(bench(url, args.candidates, hr_url))
    finally:
        assert simulator.stdin is not None
        simulator.stdin.close()
        simulator.wait(timeout=30)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
