"""The embedded quick start: SQLite, in-process Redis, seeded demo data, a working token."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from hub.app import create_app
from hub.embedded import prepare_embedded


async def test_embedded_mode_serves_the_demo(tmp_path: Path) -> None:
    settings, banner = await asyncio.to_thread(prepare_embedded, home=tmp_path / "hub-home", port=8765)
    assert settings.database_url.startswith("sqlite") and settings.redis_url.startswith("memory://")
    token = re.search(r"Token:\s+(\S+)", banner).group(1)  # type: ignore[union-attr]
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub") as client:
        response = await client.post(
            "/graphql",
            headers={"authorization": f"Bearer {token}"},
            json={
                "query": """
          { jobs { totalCount edges { node { title requirements { mustHave } } } }
            candidates(first: 5, filter: {search: "Chen"}) { totalCount edges { node { firstName emails
              applications { stage job { title } history { toStage reason } } resumes { language } } } } }"""
            },
        )
        body = response.json()
        assert "errors" not in body, body
        assert body["data"]["jobs"]["totalCount"] == 4
        titles = {e["node"]["title"] for e in body["data"]["jobs"]["edges"]}
        assert "高级后端工程师" in titles and "Customer Success Lead" in titles
        assert body["data"]["candidates"]["totalCount"] >= 1
        assert (await client.get("/readyz")).status_code == 200
    await app.state.runtime.close()
    # a second start reuses the same data and secrets
    again, _ = await asyncio.to_thread(prepare_embedded, home=tmp_path / "hub-home", port=8765)
    assert again.jwt_secret == settings.jwt_secret
