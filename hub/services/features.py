"""The resume feature cache: NLP runs once per resume text and engine version.

Extracted features live on the resume row (``resumes.features`` as JSON, ``features_version``). A cached
entry is used only while it is *fresh*: its ``features_version`` is the running engine's
(:func:`features_version`: extractor plus gazetteer) and its ``source_digest`` is the digest of the stored
text column. The stored column is the ciphertext token when the tenant's policy encrypts resumes (every
write has a fresh nonce) or the text itself, so any change to the text, by the API, a sync or a key
rotation, makes the entry stale, and stale evidence offsets can never reach a screening result. On
PostgreSQL a trigger keeps ``resumes.text_md5`` equal to that digest, so a cached library is checked
without reading (or moving) its texts.

Beside the features, each resume keeps its screening *profile* (:func:`engines.screening_profile.profile_of`:
skill levels, years, education; no text) in ``resumes.profile`` with the same version and digest
(``{"v": ..., "d": ..., "s": ..., "y": ..., "e": ...}``), written with the features by
:func:`store_features`: re-screening a large library reads profiles only (see
:mod:`hub.services.screening_library`).

Resume text is personal and sealed by the vault: it is opened here, inside the job, only for resumes
whose features must be (re-)extracted or when a job's knock-outs read the text itself. The cache holds none
of it: evidence is stored as offsets, and quoted again from the opened text where it is shown
(:func:`engines.evidence.with_quotes`: screening with knock-outs, outlines,
:meth:`hub.services.screening.ScreeningService.explain`).

Example (inside a job)::

    resumes = await load_resumes(session, tenant, job_id, application_ids, with_text=False)
    extracted = extract_missing(resumes, vault, tenant)      # NLP for stale entries only
    await store_features(session, tenant, extracted)          # written back for the next run
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, cast

from sqlalchemy import String, Table, bindparam, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.ext.asyncio import AsyncSession

from engines.evidence import without_quotes
from engines.features import ENGINE_VERSION
from engines.gazetteer import get_gazetteer
from engines.screening_profile import profile_of
from hub.db import models as m
from hub.services.vault import Vault, reveal
from policies import DecryptionError

__all__ = [
    "ResumeFacts",
    "extract_missing",
    "features_version",
    "load_resumes",
    "open_resume_text",
    "open_stored_text",
    "profile_record",
    "source_digest",
    "store_features",
]


@cache
def features_version() -> str:
    """The cache key of the running extractor: engine version plus gazetteer version."""
    return f"{ENGINE_VERSION}+gaz.{get_gazetteer().version}"


def source_digest(stored: str) -> str:
    """A change detector for the stored text column (not a security measure): MD5, as PostgreSQL's md5()."""
    return hashlib.md5(stored.encode("utf-8"), usedforsecurity=False).hexdigest()


@dataclass
class ResumeFacts:
    """One application's latest resume as a job sees it.

    Attributes:
        application_id: the application (of the job being worked on).
        resume_id: the candidate's latest resume, or ``None`` when the candidate has none.
        features: fresh cached features (JSON form), or ``None`` when they must be extracted.
        stored_text: the text column as stored (ciphertext or text), when it was read.
        text: the opened text, once :func:`open_resume_text` or :func:`extract_missing` opened it.
        unavailable: the stored text failed to decrypt (tampered, moved, or its key is gone).
    """

    application_id: uuid.UUID
    resume_id: uuid.UUID | None
    features: dict[str, Any] | None = None
    stored_text: str | None = None
    text: str | None = field(default=None, repr=False)
    unavailable: bool = False


async def load_resumes(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    job_id: uuid.UUID,
    application_ids: Sequence[uuid.UUID],
    *,
    with_text: bool,
    skills: Collection[str] | None = None,
) -> list[ResumeFacts]:
    """The latest resume of each application's candidate, with fresh cached features where there are any.

    Applications that no longer exist, belong to another job or another tenant are left out. The text
    column is read for stale entries (to extract them) and for every entry when ``with_text``.

    With ``skills`` (the skill ids a screening asks about), PostgreSQL answers only the part of each
    cached feature set that screening reads: those skills' mentions, years and education with their
    evidence (see :func:`_projection`). Decoding the full JSON of every resume is most of what re-screening
    a cached library costs; such partial features are for screening only and never written back.
    """
    if not application_ids:
        return []
    a, r = m.Application.__table__, m.Resume.__table__
    postgres = session.bind.dialect.name == "postgresql"
    # Three index lookups rather than one join with a window function: their plans do not depend on
    # table statistics (a freshly bulk-loaded library has none yet).
    apps = (
        await session.execute(
            select(a.c.id, a.c.candidate_id).where(
                a.c.tenant_id == tenant_id, a.c.job_id == job_id, a.c.id.in_(application_ids)
            )
        )
    ).all()
    latest: dict[uuid.UUID, uuid.UUID] = {}
    if apps:
        owned = select(r.c.candidate_id, r.c.id).where(
            r.c.tenant_id == tenant_id, r.c.candidate_id.in_({app.candidate_id for app in apps})
        )
        for candidate_id, resume_id in (await session.execute(owned)).tuples():
            if candidate_id not in latest or resume_id > latest[candidate_id]:
                latest[candidate_id] = resume_id  # UUIDv7: the newest resume has the largest id
    cached: dict[uuid.UUID, Any] = {}
    if latest:
        probe = func.coalesce(r.c.text_md5, func.md5(r.c.text)) if postgres else r.c.text
        features: Any = _projection(sorted(skills)) if postgres and skills is not None else r.c.features
        rows = select(r.c.id, features, r.c.features_version, probe.label("probe")).where(
            r.c.tenant_id == tenant_id, r.c.id.in_(list(latest.values()))
        )
        cached = {row.id: row for row in (await session.execute(rows)).all()}
    version = features_version()
    facts: list[ResumeFacts] = []
    for app in apps:
        resume_id = latest.get(app.candidate_id)
        item = ResumeFacts(app.id, resume_id)
        row = cached.get(resume_id) if resume_id is not None else None
        if row is not None and row.features is not None and row.features_version == version:
            digest = row.probe if postgres else (source_digest(row.probe) if row.probe is not None else None)
            if digest is not None and row.features.get("source_digest") == digest:
                item.features = row.features
        facts.append(item)
    wanted = [f.resume_id for f in facts if f.resume_id is not None and (with_text or f.features is None)]
    if wanted:
        texts = dict(
            (await session.execute(select(r.c.id, r.c.text).where(r.c.tenant_id == tenant_id, r.c.id.in_(wanted))))
            .tuples()
            .all()
        )
        for item in facts:
            if item.resume_id in texts:
                item.stored_text = texts[item.resume_id]
    return facts


def _projection(skills: list[str]) -> Any:
    """PostgreSQL: the screening-relevant part of ``resumes.features``, built by the server (JSONB)."""
    f = m.Resume.__table__.c.features
    position: Any = literal_column("(p.value)::int")
    mentions = (
        select(func.coalesce(func.jsonb_agg(aggregate_order_by(f["skills"][position], position)), text("'[]'::jsonb")))
        .select_from(
            func.jsonb_each(f["skill_index"]).table_valued("key", "value").alias("s"),
            text("jsonb_array_elements_text(s.value) AS p"),
        )
        .where(literal_column("s.key") == func.any(array(skills, type_=String)))
        .scalar_subquery()
    )
    keys = ("years_experience", "years_evidence", "education", "education_evidence", "source_digest")
    pairs = [item for key in keys for item in (key, f[key])]
    return func.jsonb_build_object(*pairs, "skills", mentions).label("features")


def open_resume_text(item: ResumeFacts, vault: Vault, tenant_id: uuid.UUID) -> str | None:
    """Open the stored text through the vault (inside the job only); ``None`` when there is none or it
    fails its integrity check (``item.unavailable`` says which)."""
    if item.text is not None or item.stored_text is None or item.resume_id is None:
        return item.text
    item.text = open_stored_text(vault, tenant_id, item.resume_id, item.stored_text)
    item.unavailable = item.text is None
    return item.text


def open_stored_text(vault: Vault, tenant_id: uuid.UUID, resume_id: uuid.UUID, stored: str) -> str | None:
    """A resume's stored text column opened through the vault; ``None`` when it fails its integrity check."""
    try:
        return str(reveal(vault.open(tenant_id, "resume", "text", resume_id, stored)))
    except DecryptionError:
        return None


def extract_missing(
    facts: Sequence[ResumeFacts], vault: Vault, tenant_id: uuid.UUID, *, today: date | None = None
) -> list[ResumeFacts]:
    """Run NLP for every entry without fresh features; answer the entries extracted now (to store)."""
    from engines.extract import extract_features  # the NLP pipeline: loaded by the processes that extract

    extracted: list[ResumeFacts] = []
    for item in facts:
        if item.features is not None or item.stored_text is None:
            continue
        text = open_resume_text(item, vault, tenant_id)
        if text is None:
            continue
        features = extract_features(text, today=today).to_dict()
        features["source_digest"] = source_digest(item.stored_text)
        item.features = features
        extracted.append(item)
    return extracted


async def store_features(session: AsyncSession, tenant_id: uuid.UUID, extracted: Sequence[ResumeFacts]) -> None:
    """Write freshly extracted features back to their resumes (in the caller's transaction).

    The evidence is stored as offsets only (:func:`engines.evidence.without_quotes`): the resume text is
    sealed, and a cache that quoted it would hold it in the clear. Whoever needs the quotes opens the text
    and puts them back (:func:`engines.evidence.with_quotes`). ``updated_at`` is kept: features are derived
    data, not a change a sync client should see."""
    if not extracted:
        return
    r = cast(Table, m.Resume.__table__)
    stmt = (
        update(r)
        .where(r.c.tenant_id == tenant_id, r.c.id == bindparam("resume_id"))
        .values(
            features=bindparam("features", type_=r.c.features.type),
            features_version=bindparam("version"),
            profile=bindparam("profile", type_=r.c.profile.type),
            updated_at=r.c.updated_at,
        )
    )
    version = features_version()
    params = {item.resume_id: item.features for item in extracted}  # one row per resume (shared by applications)
    await session.execute(
        stmt,
        [
            {
                "resume_id": rid,
                "features": None if feats is None else without_quotes(feats),
                "version": version,
                "profile": profile_record(feats),
            }
            for rid, feats in params.items()
        ],
    )


def profile_record(features: dict[str, Any] | None) -> dict[str, Any] | None:
    """What ``resumes.profile`` holds for these (full) features: the profile, their version and digest."""
    if features is None:
        return None
    return {"v": features_version(), "d": features.get("source_digest"), **profile_of(features)}
