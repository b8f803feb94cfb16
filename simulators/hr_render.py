"""The seeded world rendered in the HR dialect (unified-HR-API style, with the Chinese ATS quirks).

snake_case keys, ISO 8601 ``Z`` times, ``id`` (the API's) beside ``remote_id`` (the ATS's own), a
``remote_data`` list carrying the vendor's raw payload: Chinese ``stageName`` on applications and stages,
``mode`` (``social``/``campus``) on jobs, and the people's ids in the OA systems on users.
"""

from __future__ import annotations

from typing import Any

from simulators import seed_vocab as vocab
from simulators.hr_store import Table
from simulators.seed import World
from simulators.timefmt import iso_z

__all__ = ["MODELS", "REQUIRED", "load_world", "new_tables"]

# URL path -> model name (as webhooks name it)
MODELS = {
    "candidates": "Candidate",
    "jobs": "Job",
    "applications": "Application",
    "attachments": "Attachment",
    "job-interview-stages": "JobInterviewStage",
    "interviews": "ScheduledInterview",
    "users": "RemoteUser",
    "departments": "Department",
    "offices": "Office",
}

# The fields a consumer cannot do without; a malformed record breaks one of them.
REQUIRED = {
    "candidates": ("id", "remote_id", "modified_at", "first_name", "last_name", "email_addresses"),
    "jobs": ("id", "remote_id", "modified_at", "name", "status"),
    "applications": ("id", "remote_id", "modified_at", "candidate", "job", "current_stage"),
    "attachments": ("id", "remote_id", "modified_at", "candidate", "file_url"),
    "interviews": ("id", "remote_id", "modified_at", "application", "start_at", "end_at"),
}
_EDUCATION_ZH = {key: zh for key, zh, _ in vocab.EDUCATION}


def new_tables() -> dict[str, Table]:
    """One empty table per model path."""
    return {path: Table(path) for path in MODELS}


def _common(uid: str, remote_id: str, path: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uid,
        "remote_id": remote_id,
        "remote_was_deleted": False,
        "field_mappings": {"organization_defined_targets": {}, "integration_defined_targets": {}},
        "remote_data": [{"path": f"/{path}/{remote_id}", "data": data}],
    }


def load_world(world: World, tables: dict[str, Table]) -> dict[str, str]:
    """Render every seeded entity into ``tables``; answers the resume texts by attachment id."""
    stage_by_uid = {stage.uid: stage for stage in world.stages}
    job_by_uid = {job.uid: job for job in world.jobs}
    latest_stage: dict[str, str] = {}
    texts: dict[str, str] = {}
    for app in world.applications:
        latest_stage[app.candidate] = stage_by_uid[app.stage].name_zh
    for user in world.users:
        record = _common(
            user.uid,
            user.remote_id,
            "users",
            {
                "dingtalkUserId": user.dingtalk_id,
                "wecomUserId": user.wecom_id,
                "feishuUserId": user.feishu_user_id,
                "feishuOpenId": user.feishu_open_id,
            },
        )
        record.update(
            first_name=user.first_name,
            last_name=user.last_name,
            email=user.email,
            disabled=False,
            access_role=user.role,
        )
        tables["users"].add(record, created=world.jobs[0].created_at - 86400 * 30, modified=world.jobs[0].created_at)
    first = world.jobs[0].created_at - 86400 * 60
    for uid, name_zh, name_en in world.departments:
        record = _common(uid, f"D{len(tables['departments']) + 1:02d}", "departments", {"deptName": name_zh})
        record.update(name=f"{name_zh} {name_en}", parent_departments=[], child_departments=[])
        tables["departments"].add(record, created=first, modified=first)
    for uid, name, city, address in world.offices:
        record = _common(uid, f"O{len(tables['offices']) + 1:02d}", "offices", {"officeName": name})
        record.update(name=name, location=f"{city} · {address}")
        tables["offices"].add(record, created=first, modified=first)
    for job in world.jobs:
        record = _common(
            job.uid,
            job.remote_id,
            "jobs",
            {"jobName": job.name, "mode": job.mode, "recruitType": "校招" if job.mode == "campus" else "社招"},
        )
        record.update(
            name=job.name,
            code=job.code,
            description=job.description,
            status=job.status,
            type="POSTING",
            mode=job.mode,
            departments=[job.department],
            offices=[job.office],
            hiring_managers=job.hiring_managers,
            recruiters=job.recruiters,
            job_posting_urls=[],
            confidential=False,
            remote_created_at=iso_z(job.created_at),
            remote_updated_at=iso_z(job.modified_at),
            custom_fields={
                "must_have": job.must_have,
                "nice_to_have": job.nice_to_have,
                "min_years": job.min_years,
                "min_education": job.min_education,
                "language": job.language,
                "candidate_type": job.kind,
            },
        )
        tables["jobs"].add(record, created=job.created_at, modified=job.modified_at)
    for stage in world.stages:
        record = _common(stage.uid, stage.remote_id, "stages", {"stageName": stage.name_zh})
        record.update(name=stage.name, job=stage.job, stage_order=stage.order)
        created = job_by_uid[stage.job].created_at
        tables["job-interview-stages"].add(record, created=created, modified=created)
    for c in world.candidates:
        record = _common(
            c.uid,
            c.remote_id,
            "candidates",
            {
                "name": c.full_name,
                "stageName": latest_stage.get(c.uid),
                "workYears": c.years,
                "education": _EDUCATION_ZH[c.education],
            },
        )
        record.update(
            first_name=c.first_name,
            last_name=c.last_name,
            company=c.company or None,
            title=c.title,
            remote_created_at=iso_z(c.created_at),
            remote_updated_at=iso_z(c.modified_at),
            last_interaction_at=iso_z(c.modified_at),
            is_private=False,
            can_email=True,
            locations=[c.city],
            phone_numbers=[{"value": c.phone, "phone_number_type": "MOBILE"}],
            email_addresses=[{"value": c.email, "email_address_type": "PERSONAL"}],
            urls=[{"value": url, "url_type": "PERSONAL"} for url in c.urls],
            tags=list(c.tags),
            applications=list(c.applications),
            attachments=list(c.attachments),
            remote_was_deleted=c.deleted,
            custom_fields={
                "years_of_experience": c.years,
                "highest_education": c.education,
                "skills": list(c.skills),
                "language": c.language,
            },
        )
        tables["candidates"].add(record, created=c.created_at, modified=c.modified_at)
    for r in world.resumes:
        record = _common(
            r.uid, r.remote_id, "attachments", {"fileType": "pdf", "language": r.language, "textLength": len(r.text)}
        )
        record.update(
            file_name=r.file_name,
            file_url=None,
            candidate=r.candidate,
            attachment_type="RESUME",
            remote_created_at=iso_z(r.created_at),
        )
        tables["attachments"].add(record, created=r.created_at, modified=r.created_at)
        texts[r.uid] = r.text
    for a in world.applications:
        job = job_by_uid[a.job]
        record = _common(
            a.uid, a.remote_id, "applications", {"stageName": stage_by_uid[a.stage].name_zh, "mode": job.mode}
        )
        record.update(
            candidate=a.candidate,
            job=a.job,
            applied_at=iso_z(a.applied_at),
            rejected_at=iso_z(a.rejected_at),
            offers=[],
            source=a.source,
            credited_to=job.recruiters[0],
            current_stage=a.stage,
            reject_reason=a.reject_reason,
            screening_question_answers=[],
        )
        tables["applications"].add(record, created=a.applied_at, modified=a.modified_at)
    for i in world.interviews:
        record = _common(i.uid, i.remote_id, "interviews", {"stageName": stage_by_uid[i.stage].name_zh})
        record.update(
            application=i.application,
            job_interview_stage=i.stage,
            organizer=i.organizer,
            interviewers=list(i.interviewers),
            location=i.location,
            start_at=iso_z(i.start_at),
            end_at=iso_z(i.end_at),
            remote_created_at=iso_z(i.created_at),
            remote_updated_at=iso_z(i.modified_at),
            status=i.status,
        )
        tables["interviews"].add(record, created=i.created_at, modified=i.modified_at)
    return texts
