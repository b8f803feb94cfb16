"""The HR simulator: dialect shape, cursor paging, incremental and deleted reads, writes, webhooks."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from simulators.hr import HR_API_KEY, HRConfig, create_hr_app
from simulators.seed import Sizes, World, build_world
from tests.simulators import independent
from tests.simulators.conftest import FakeClock, asgi_client
from tests.simulators.receivers import plain_receiver

AUTH = {"Authorization": f"Bearer {HR_API_KEY}"}
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def walk(client: httpx.Client, path: str, **params: object) -> list[dict]:  # type: ignore[type-arg]
    records, cursor = [], None
    while True:
        page = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})})
        page.raise_for_status()
        body = page.json()
        records.extend(body["results"])
        cursor = body["next"]
        if cursor is None:
            return records


@pytest.mark.e2e
def test_cursor_walk_over_real_http_sees_every_record_once(serve) -> None:  # type: ignore[no-untyped-def]
    world = build_world(11, Sizes(candidates=1000, jobs=5, deleted_candidates=10))
    server = serve(create_hr_app(world))
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        seen = walk(client, "/candidates", page_size=100)
        assert len(seen) == len({r["id"] for r in seen}) == 990  # deleted ones disappear from plain reads
        everything = walk(client, "/candidates", page_size=37, include_deleted_data="true")
        assert len({r["id"] for r in everything}) == len(everything) == 1000
        assert sum(r["remote_was_deleted"] for r in everything) == 10
        clamped = client.get("/candidates", params={"page_size": 500}).json()
        assert len(clamped["results"]) == 100 and clamped["previous"] is None


async def test_previous_cursor_returns_the_page_before(world: World) -> None:
    async with asgi_client(create_hr_app(world), headers=AUTH) as client:
        first = (await client.get("/candidates", params={"page_size": 10})).json()
        second = (await client.get("/candidates", params={"page_size": 10, "cursor": first["next"]})).json()
        back = (await client.get("/candidates", params={"page_size": 10, "cursor": second["previous"]})).json()
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]
    assert back["previous"] is None


async def test_records_speak_the_dialect(world: World) -> None:
    async with asgi_client(create_hr_app(world), headers=AUTH) as client:
        candidate = (await client.get("/candidates", params={"page_size": 1})).json()["results"][0]
        job = (await client.get("/jobs", params={"page_size": 1})).json()["results"][0]
        application = (await client.get("/applications", params={"page_size": 1})).json()["results"][0]
        stages = (await client.get("/job-interview-stages", params={"job_id": job["id"]})).json()["results"]
        interview = (await client.get("/interviews", params={"page_size": 1})).json()["results"][0]
        attachment = (await client.get("/attachments", params={"candidate_id": candidate["id"]})).json()["results"][0]
        text = await client.get(attachment["file_url"])
    for record in (candidate, job, application, interview, attachment):
        assert {"id", "remote_id", "created_at", "modified_at", "remote_was_deleted", "remote_data"} <= set(record)
        assert ISO_Z.match(record["modified_at"])
    assert re.match(r"^\+86-1\d\d-\d{4}-\d{4}$", candidate["phone_numbers"][0]["value"])
    assert candidate["phone_numbers"][0]["phone_number_type"] == "MOBILE"
    assert job["mode"] in ("social", "campus") and job["status"] in ("OPEN", "CLOSED", "DRAFT", "ARCHIVED", "PENDING")
    assert [s["stage_order"] for s in stages] == list(range(7))
    assert stages[3]["remote_data"][0]["data"]["stageName"] == "二面"
    assert re.search(r"[\u4e00-\u9fff]", application["remote_data"][0]["data"]["stageName"])
    assert interview["status"] in ("SCHEDULED", "AWAITING_FEEDBACK", "COMPLETE") and ISO_Z.match(interview["start_at"])
    assert attachment["attachment_type"] == "RESUME"
    assert text.headers["content-type"] == "text/plain; charset=utf-8" and 300 <= len(text.text) <= 2000


async def test_auth_not_found_and_bad_parameters(world: World) -> None:
    async with asgi_client(create_hr_app(world)) as client:
        assert (await client.get("/candidates")).status_code == 401
        assert (await client.get("/candidates", headers={"Authorization": "Bearer nope"})).status_code == 401
        client.headers.update(AUTH)
        assert (await client.get("/candidates/unknown")).json() == {"detail": "Not found."}
        assert (await client.get("/nothing")).status_code == 404
        assert (await client.get("/candidates", params={"cursor": "%%%"})).status_code == 400
        assert (await client.get("/candidates", params={"modified_after": "yesterday"})).status_code == 400
        assert (await client.get("/candidates", params={"page_size": 0})).status_code == 400


async def test_modified_after_and_upstream_changes(world: World, clock: FakeClock) -> None:
    app = create_hr_app(world, clock=clock)
    async with asgi_client(app, headers=AUTH) as client:
        watermark = "2025-03-01T00:00:00Z"  # after every seeded change
        assert (await client.get("/candidates", params={"modified_after": watermark})).json()["results"] == []
        some = (await client.get("/candidates", params={"page_size": 3})).json()["results"]
        await client.patch(f"/_sim/candidates/{some[0]['id']}", json={"title": "架构师"})
        await client.delete(f"/_sim/candidates/{some[1]['id']}")
        created = (
            await client.post(
                "/_sim/candidates", json={"first_name": "伟", "last_name": "张", "resume_text": "张伟 简历 Python"}
            )
        ).json()
        changed = (await client.get("/candidates", params={"modified_after": watermark})).json()["results"]
        assert {r["id"] for r in changed} == {some[0]["id"], created["record"]["id"]}
        with_deleted = (
            await client.get("/candidates", params={"modified_after": watermark, "include_deleted": "true"})
        ).json()["results"]
        assert {r["id"] for r in with_deleted if r["remote_was_deleted"]} == {some[1]["id"]}
        exact = (await client.get("/candidates", params={"modified_after": changed[0]["modified_at"]})).json()
        assert changed[0]["id"] in {r["id"] for r in exact["results"]}  # inclusive at second precision
        state = (await client.get("/_sim/state")).json()["counts"]["candidates"]
        assert state == {"total": 121, "deleted": 1}


async def test_change_stage_is_validated_and_idempotent(world: World, clock: FakeClock) -> None:
    app = create_hr_app(world, clock=clock)
    async with asgi_client(app, headers=AUTH) as client:
        application = (await client.get("/applications", params={"page_size": 1})).json()["results"][0]
        stages = (await client.get("/job-interview-stages", params={"job_id": application["job"]})).json()["results"]
        target = next(s for s in stages if s["name"] == "Second Interview")
        url = f"/applications/{application['id']}/change-stage"
        headers = {"Idempotency-Key": "move-1"}
        first = await client.post(url, json={"job_interview_stage": target["id"]}, headers=headers)
        clock.advance(60)
        replay = await client.post(url, json={"job_interview_stage": target["id"]}, headers=headers)
        conflict = await client.post(url, json={"job_interview_stage": stages[0]["id"]}, headers=headers)
        other_job = await client.post(url, json={"job_interview_stage": "not-a-stage"})
        missing = await client.post("/applications/nope/change-stage", json={"job_interview_stage": target["id"]})
    assert first.status_code == 200 and first.json()["model"]["current_stage"] == target["id"]
    assert first.json()["model"]["remote_data"][0]["data"]["stageName"] == "二面"
    assert replay.json() == first.json() and replay.headers["Idempotent-Replayed"] == "true"
    assert conflict.status_code == 422
    assert other_job.status_code == 400 and other_job.json()["errors"][0]["problem_type"] == "INVALID_FIELD"
    assert missing.status_code == 404


async def test_create_interview_and_screening_results(world: World, clock: FakeClock) -> None:
    app = create_hr_app(world, clock=clock)
    async with asgi_client(app, headers=AUTH) as client:
        application = (await client.get("/applications", params={"page_size": 1})).json()["results"][0]
        user = (await client.get("/users", params={"page_size": 1})).json()["results"][0]
        before = len((await client.get("/interviews", params={"page_size": 100})).json()["results"])
        model = {
            "application": application["id"],
            "start_at": "2025-03-10T02:00:00Z",
            "end_at": "2025-03-10T03:00:00Z",
            "organizer": user["id"],
            "interviewers": [user["id"]],
            "location": "北京总部 3F 会议室",
        }
        body = {"model": model}
        created = [await client.post("/interviews", json=body, headers={"Idempotency-Key": "i-1"}) for _ in range(2)]
        after = (await client.get("/interviews", params={"page_size": 100})).json()["results"]
        bad_time = await client.post("/interviews", json={"model": {**model, "end_at": "2025-03-10T01:00:00Z"}})
        no_model = await client.post("/interviews", json={"application": application["id"]})
        not_json = await client.post("/interviews", content=b"{", headers={"Content-Type": "application/json"})
        url = f"/applications/{application['id']}/screening-results"
        result = await client.post(
            url,
            json={
                "model": {
                    "score": 86.5,
                    "passed": True,
                    "rank": 3,
                    "reasons": [{"text": "熟悉 Kafka", "evidence": "Kafka"}],
                }
            },
        )
        bad_score = await client.post(url, json={"model": {"score": 120, "passed": True, "reasons": []}})
        listed = (await client.get(url)).json()["results"]
        reread = (await client.get(f"/applications/{application['id']}")).json()
    assert created[0].status_code == 201 and created[1].json() == created[0].json()
    assert len(after) == before + 1  # the replay created nothing
    assert created[0].json()["model"]["status"] == "SCHEDULED"
    assert bad_time.status_code == 400 and bad_time.json()["errors"][0]["source"]["pointer"] == "/model/end_at"
    assert no_model.status_code == 400 and not_json.status_code == 400
    assert result.status_code == 201 and listed == [result.json()["model"]]
    assert bad_score.status_code == 400
    assert reread["remote_data"][0]["data"]["screeningScore"] == 86.5


async def test_webhooks_are_signed_and_sometimes_repeat(world: World, clock: FakeClock) -> None:
    receiver_app, receiver = plain_receiver()
    config = HRConfig(webhook_url="http://receiver/hook", webhook_secret="whk", duplicate_rate=1.0)
    app = create_hr_app(world, clock=clock, config=config, transport=httpx.ASGITransport(app=receiver_app))
    async with asgi_client(app, headers=AUTH) as client:
        candidate = (await client.get("/candidates", params={"page_size": 1})).json()["results"][0]
        answer = (await client.patch(f"/_sim/candidates/{candidate['id']}", json={"tags": ["vip"]})).json()
        await client.post("/_sim/webhook", json={"duplicate_rate": 0})
        application = (await client.get("/applications", params={"page_size": 1})).json()["results"][0]
        url = f"/applications/{application['id']}/screening-results"
        await client.post(url, json={"model": {"score": 70, "passed": False, "reasons": ["年限不足"]}})
        deliveries = (await client.get("/_sim/deliveries")).json()["deliveries"]
    assert len(answer["deliveries"]) == 2 and len(receiver.received) == 3 == len(deliveries)
    first, duplicate, _screening = receiver.received
    assert first.body == duplicate.body  # the same event, delivered twice: receivers must dedupe by id
    for item in receiver.received:
        assert independent.hr_valid("whk", item.headers["x-hr-signature"], item.body)
    events = [json.loads(item.body) for item in receiver.received]
    assert events[0]["event"] == "candidate.changed" and events[0]["data"]["tags"] == ["vip"]
    assert events[2]["event"] == "screening_result.created" and events[2]["model"] == "Application"
    assert all(d["accepted"] for d in deliveries)


async def test_notes_on_an_application(world: World, clock: FakeClock) -> None:
    app = create_hr_app(world, clock=clock)
    async with asgi_client(app, headers=AUTH) as client:
        application = (await client.get("/applications", params={"page_size": 1})).json()["results"][0]
        url = f"/applications/{application['id']}/notes"
        body = {"model": {"subject": "二面审批被拒绝", "body": "候选人未被拒绝，请 HR 决定。"}}
        created = [await client.post(url, json=body, headers={"Idempotency-Key": "n-1"}) for _ in range(2)]
        listed = (await client.get(url)).json()["results"]
        no_body = await client.post(url, json={"model": {"subject": "x"}})
        bad_visibility = await client.post(url, json={"model": {**body["model"], "visibility": "EVERYONE"}})
        missing = await client.post("/applications/nope/notes", json=body)
    assert created[0].status_code == 201 and created[1].json() == created[0].json()
    note = created[0].json()["model"]
    assert listed == [note], "the replay added nothing"
    assert (note["activity_type"], note["visibility"]) == ("NOTE", "ADMIN_ONLY")
    assert note["candidate"] == application["candidate"]
    assert no_body.status_code == 400 and no_body.json()["errors"][0]["source"]["pointer"] == "/model/body"
    assert bad_visibility.status_code == 400 and missing.status_code == 404
