"""Canonical records into the hub's tables, keyed by (connection, model, remote id): the one write path
of syncs, webhooks, replays and write-back answers.

For one batch (a page) of normalized records of one model, `Upserter.upsert`:

1. loads the provenance links of the batch (``remote_links``);
2. resolves references (application -> candidate and job, resume -> candidate, interview -> application,
   session -> candidate and application) to hub ids: by remote id on this connection first, then by the
   id systems share (``alt_remote_id``, the HR vendor's own id), then by remote id on the tenant's other
   connections. A missing required reference leaves the record out (``BatchResult.unresolved``: the
   caller quarantines it with REFERENCE_UNRESOLVED and replays it later);
3. compares each record's digest (record, raw payload and resolved references) with the stored one:
   an unchanged copy only gets ``fetched_at``/``last_seen_at`` touched; new records are inserted, changed
   ones updated, upstream deletions mark the link's ``remote_deleted_at``;
4. seals personal columns per the tenant's policy and refreshes their blind indexes (as the store does),
   and always seals the raw payload (``remote_links.raw``);
5. writes the events with the change: ``<entity>.created`` / ``.updated`` / ``.remote_deleted``,
   ``application.stage_changed``, ``interview_session.submitted`` (when a session reaches SUBMITTED) and
   ``approval.status_changed`` ``{status, application_id}`` (when an approval's status changes).

Rows are written with Core statements in batches (``executemany``), each carrying the tenant explicitly.
The caller commits: a batch is one transaction, so nothing is half-written.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from connectors.base import RawItem
from hub.db import models as m
from hub.db.base import new_id
from hub.services.bulk import blank, bulk_insert, fast_id
from hub.services.canonical_values import (
    ENTITY_OF,
    INSERT_DEFAULTS,
    INSERT_ONLY,
    TABLES,
    references,
    stage_label,
    values_of,
)
from hub.services.change_events import ChangeEvents
from hub.services.row_sealer import RowSealer
from hub.services.sealing import seal_always
from hub.services.store import PERSONAL_FIELDS
from hub.services.vault import Vault
from schema.records import ApplicationRecord, CanonicalRecord, InterviewStageRecord

__all__ = ["BatchResult", "Item", "Unresolved", "Upserter"]

LINKS = m.RemoteLink.__table__
EVENTS = m.Event.__table__
INDEXES = m.BlindIndex.__table__
STAGES = m.StageChange.__table__


@dataclass(frozen=True, slots=True)
class Item:
    """One upstream object: as received (``raw``) and normalized (``record``)."""

    raw: RawItem
    record: CanonicalRecord


@dataclass(frozen=True, slots=True)
class Unresolved:
    item: Item
    reason: str
    path: str


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    unresolved: list[Unresolved] = field(default_factory=list)
    #: remote id -> hub id of every record written or confirmed.
    entity_ids: dict[str, uuid.UUID] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        for name in ("created", "updated", "unchanged", "deleted", "skipped"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unresolved += other.unresolved
        self.entity_ids.update(other.entity_ids)


@dataclass
class _Write:
    item: Item
    entity_id: uuid.UUID
    values: dict[str, Any]
    digest: str
    link: Any | None  # the existing link row, or None
    raw_text: str = ""


def _raw_text(raw: Any) -> str:
    """The raw payload as stored (sealed) and digested: canonical JSON."""
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def _digest(record: CanonicalRecord, raw_text: str, refs: dict[str, Any]) -> str:
    text = record.model_dump_json() + raw_text
    text += json.dumps({k: str(v) if v else None for k, v in sorted(refs.items())})
    return hashlib.sha256(text.encode()).hexdigest()


class Upserter:
    """Writes batches of one connection's records for one tenant (see the module docstring)."""

    def __init__(
        self, session: AsyncSession, vault: Vault, tenant_id: uuid.UUID, connection: Any, *, source: str = "sync"
    ) -> None:
        self.session = session
        self.vault = vault
        self.tenant_id = tenant_id
        self.connection = connection
        self.source = source
        self._others: list[uuid.UUID] | None = None
        self.sealer = RowSealer(vault, tenant_id)
        self.changes = ChangeEvents(tenant_id, connection, source)
        self._matched: set[uuid.UUID] = set()  # existing applications new upstream copies were matched to

    # --- the batch ---------------------------------------------------------------------------------------

    async def upsert(self, model: str, items: Sequence[Item], *, now: datetime) -> BatchResult:
        entity = ENTITY_OF[model]
        conn = await self.session.connection()
        result = BatchResult()
        latest: dict[str, Item] = {}
        for item in items:  # a page may repeat a record (it changed while paging): the last copy wins
            latest[item.record.remote_id] = item
        batch = list(latest.values())
        if not batch:
            return result
        links = await self._links(conn, entity, [i.record.remote_id for i in batch])
        resolved = await self._resolve(conn, batch)
        stage_names = await self._stage_names(conn, batch) if model == "application" else {}
        touch: list[uuid.UUID] = []
        deletions: list[tuple[Any, Item, str, str]] = []
        writes: list[_Write] = []
        for item in batch:
            record, link = item.record, links.get(item.record.remote_id)
            refs: dict[str, Any] = {}
            missing = None
            for ref in references(record):
                hub_id = resolved.get((ref.entity, ref.remote_id)) if ref.remote_id else None
                refs[ref.column] = hub_id
                if ref.required and hub_id is None and missing is None:
                    missing = ref
            raw_text = _raw_text(item.raw.payload)
            digest = _digest(record, raw_text, refs)
            if record.remote_deleted:
                if link is None:
                    result.skipped += 1
                elif link.remote_deleted_at is not None:
                    result.unchanged += 1
                    touch.append(link.id)
                else:
                    deletions.append((link, item, digest, raw_text))
                continue
            if missing is not None:
                where = f"$.{missing.column.removesuffix('_id')}"
                reason = (
                    f"{missing.entity} {missing.remote_id!r} is not known to the hub (yet)"
                    if missing.remote_id
                    else f"no {missing.entity} reference"
                )
                result.unresolved.append(Unresolved(item, reason, where))
                continue
            if link is not None and link.digest == digest and link.remote_deleted_at is None:
                result.unchanged += 1
                result.entity_ids[record.remote_id] = link.entity_id
                touch.append(link.id)
                continue
            if model == "interview_stage":
                writes.append(_Write(item, refs["job_id"], {}, digest, link, raw_text))
                continue
            values = {**values_of(record, stage_names=stage_names), **{k: v for k, v in refs.items()}}
            if entity == "approval":
                values["connection_id"] = self.connection.id
            writes.append(
                _Write(item, link.entity_id if link is not None else new_id(), values, digest, link, raw_text)
            )
        if touch:
            await conn.execute(
                update(LINKS)
                .where(LINKS.c.tenant_id == self.tenant_id, LINKS.c.id.in_(touch))
                .values(fetched_at=now, last_seen_at=now)
            )
        if deletions:
            await self._delete(conn, entity, deletions, now, result)
        if model == "interview_stage":
            await self._stages(conn, writes, now, result)
        elif writes:
            await self._write(conn, entity, writes, now, result)
        return result

    # --- lookups -----------------------------------------------------------------------------------------

    async def _links(self, conn: AsyncConnection, entity: str, remote_ids: list[str]) -> dict[str, Any]:
        rows = await conn.execute(
            select(LINKS.c.id, LINKS.c.entity_id, LINKS.c.remote_id, LINKS.c.digest, LINKS.c.remote_deleted_at).where(
                LINKS.c.tenant_id == self.tenant_id,
                LINKS.c.connection_id == self.connection.id,
                LINKS.c.entity == entity,
                LINKS.c.remote_id.in_(remote_ids),
            )
        )
        return {row.remote_id: row for row in rows}

    async def _resolve(self, conn: AsyncConnection, batch: list[Item]) -> dict[tuple[str, str], uuid.UUID]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for item in batch:
            for ref in references(item.record):
                if ref.remote_id:
                    wanted[ref.entity].add(ref.remote_id)
        found: dict[tuple[str, str], uuid.UUID] = {}
        for entity, ids in wanted.items():
            # Each step is one index lookup: this connection's ids, the ids systems share, other connections'.
            base = (LINKS.c.tenant_id == self.tenant_id, LINKS.c.entity == entity)
            steps = [
                (LINKS.c.remote_id, LINKS.c.connection_id == self.connection.id),
                (LINKS.c.alt_remote_id, None),
                (LINKS.c.remote_id, LINKS.c.connection_id.in_(await self._other_connections(conn))),
            ]
            missing = set(ids)
            for column, scope in steps:
                if not missing:
                    break
                where = [*base, column.in_(missing)] + ([scope] if scope is not None else [])
                for key, hub_id in (await conn.execute(select(column, LINKS.c.entity_id).where(*where))).all():
                    if key in missing:
                        found[(entity, key)] = hub_id
                        missing.discard(key)
        return found

    async def _other_connections(self, conn: AsyncConnection) -> list[uuid.UUID]:
        if self._others is None:
            table = m.Connection.__table__
            rows = await conn.execute(
                select(table.c.id).where(table.c.tenant_id == self.tenant_id, table.c.id != self.connection.id)
            )
            self._others = [r.id for r in rows]
        return self._others

    async def _stage_names(self, conn: AsyncConnection, batch: list[Item]) -> dict[str, str]:
        ids = {
            i.record.current_stage
            for i in batch
            if isinstance(i.record, ApplicationRecord)
            and i.record.current_stage
            and "stage_name" not in i.record.custom_fields
        }
        if not ids:
            return {}
        rows = await conn.execute(
            select(LINKS.c.remote_id, LINKS.c.attributes).where(
                LINKS.c.tenant_id == self.tenant_id,
                LINKS.c.connection_id == self.connection.id,
                LINKS.c.entity == "interview_stage",
                LINKS.c.remote_id.in_(ids),
            )
        )
        return {r.remote_id: (r.attributes or {}).get("name") or r.remote_id for r in rows}

    # --- sealing -----------------------------------------------------------------------------------------

    def _link_values(self, link_id: uuid.UUID, entity_id: uuid.UUID, w: _Write, now: datetime) -> dict[str, Any]:
        record = w.item.record
        alt = record.custom_fields.get("vendor_remote_id")
        attributes = None
        if isinstance(record, InterviewStageRecord):
            attributes = {"name": stage_label(record, {}), "order": record.order}
        return {
            "entity_id": entity_id,
            "remote_url": record.remote_url,
            "remote_updated_at": record.remote_updated_at,
            "remote_deleted_at": None,
            "raw": seal_always(self.vault, self.tenant_id, "remote_link", "raw", link_id, w.raw_text),
            "fetched_at": now,
            "alt_remote_id": str(alt)[:255] if alt not in (None, "") else None,
            "digest": w.digest,
            "last_seen_at": now,
            "attributes": attributes,
            "updated_at": now,
        }

    async def _write_links(self, conn: AsyncConnection, entity: str, writes: list[_Write], now: datetime) -> None:
        new_links, changed = [], []
        for w in writes:
            if w.link is None:
                link_id = fast_id()
                new_links.append(
                    {
                        "id": link_id,
                        "tenant_id": self.tenant_id,
                        "connection_id": self.connection.id,
                        "entity": entity,
                        "remote_id": w.item.record.remote_id,
                        "created_at": now,
                        **self._link_values(link_id, w.entity_id, w, now),
                    }
                )
            else:
                changed.append({"b_id": w.link.id, **self._link_values(w.link.id, w.entity_id, w, now)})
        await bulk_insert(conn, LINKS, new_links)
        if changed:
            columns = [c for c in changed[0] if c != "b_id"]
            stmt = (
                update(LINKS).where(LINKS.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in columns})
            )
            await conn.execute(stmt, [{"b_id": r["b_id"], **{f"b_{c}": r[c] for c in columns}} for r in changed])

    # --- entities ----------------------------------------------------------------------------------------

    async def _existing(self, conn: AsyncConnection, table: Any, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
        ids = list(ids)
        if not ids:
            return {}
        rows = await conn.execute(select(table).where(table.c.tenant_id == self.tenant_id, table.c.id.in_(ids)))
        return {row.id: row for row in rows}

    async def _application_pairs(self, conn: AsyncConnection, writes: list[_Write]) -> None:
        """An application is a candidate x job: a new upstream copy of a pair the hub already has (made in
        the hub, or a second upstream application) becomes a second link to the same application."""
        fresh = [w for w in writes if w.link is None]
        if not fresh:
            return
        table = m.Application.__table__
        rows = await conn.execute(
            select(table.c.id, table.c.candidate_id, table.c.job_id).where(
                table.c.tenant_id == self.tenant_id,
                table.c.candidate_id.in_({w.values["candidate_id"] for w in fresh}),
            )
        )
        pairs = {(r.candidate_id, r.job_id): r.id for r in rows}
        for w in fresh:
            pair = (w.values["candidate_id"], w.values["job_id"])
            if pair in pairs:
                self._matched.add(pairs[pair])
            w.entity_id = pairs.setdefault(pair, w.entity_id)

    async def _write(
        self, conn: AsyncConnection, entity: str, writes: list[_Write], now: datetime, result: BatchResult
    ) -> None:
        table = TABLES[entity].__table__
        if entity == "application":
            await self._application_pairs(conn, writes)
        # Rows this batch made up ids for cannot exist yet; only linked ones (and matched pairs) can.
        fresh = {w.entity_id for w in writes if w.link is None} - self._matched
        existing = await self._existing(conn, table, {w.entity_id for w in writes} - fresh)
        inserts: dict[uuid.UUID, dict[str, Any]] = {}
        updates: list[tuple[_Write, Any, dict[str, Any]]] = []
        indexes: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        stage_rows: list[dict[str, Any]] = []
        reindexed: list[uuid.UUID] = []
        for w in writes:
            before = existing.get(w.entity_id)
            pending = inserts.get(w.entity_id)
            if before is None and pending is None:
                sealed, idx = self.sealer.seal(entity, w.entity_id, w.values, now)
                inserts[w.entity_id] = {
                    **INSERT_DEFAULTS.get(entity, {}),
                    **sealed,
                    "id": w.entity_id,
                    "tenant_id": self.tenant_id,
                    "created_at": now,
                    "updated_at": now,
                }
                indexes += idx
                result.created += 1
                events += self.changes.created(entity, w.entity_id, w.values, now)
                if entity == "application":
                    stage_rows.append(self.changes.stage_change(w.entity_id, None, w.values["stage"], now))
            elif pending is not None:
                result.unchanged += 1  # a second upstream copy of a row this batch creates: only linked
            else:
                values = {k: v for k, v in w.values.items() if k not in INSERT_ONLY.get(entity, ())}
                if entity == "approval":  # keys the hub put into the form (an evaluation's id) stay
                    values["form"] = {**(before.form or {}), **values["form"]}
                sealed, idx = self.sealer.seal(entity, w.entity_id, values, now)
                indexes += idx
                reindexed.append(w.entity_id)
                updates.append((w, before, sealed))
                result.updated += 1
                events += self.changes.updated(entity, w.entity_id, w.values, before, now, stage_rows)
            result.entity_ids[w.item.record.remote_id] = w.entity_id
        if inserts:
            rows = list(inserts.values())
            # COPY applies no Python-side defaults: every column with one is given explicitly.
            keys = set().union(*(r.keys() for r in rows)) | {c.name for c in table.c if c.default is not None}
            await bulk_insert(conn, table, [{k: r.get(k, blank(table, k)) for k in sorted(keys)} for r in rows])
        if updates:
            await self._update_rows(conn, table, updates, now)
        if reindexed and PERSONAL_FIELDS.get(entity):
            await conn.execute(
                delete(INDEXES).where(
                    INDEXES.c.tenant_id == self.tenant_id,
                    INDEXES.c.entity == entity,
                    INDEXES.c.record_id.in_(reindexed),
                )
            )
        await bulk_insert(conn, INDEXES, indexes)
        await bulk_insert(conn, STAGES, stage_rows)
        await self._write_links(conn, entity, writes, now)
        await bulk_insert(conn, EVENTS, events)

    async def _update_rows(
        self, conn: AsyncConnection, table: Any, updates: list[tuple[_Write, Any, dict[str, Any]]], now: datetime
    ) -> None:
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for w, before, sealed in updates:
            values = dict(sealed, updated_at=now)
            if table.name == "applications" and before.stage != values.get("stage", before.stage):
                values["stage_count"] = before.stage_count + 1
                values["last_stage_change_at"] = now
            groups[tuple(sorted(values))].append({"b_id": w.entity_id, **{f"b_{k}": v for k, v in values.items()}})
        for columns, params in groups.items():
            stmt = (
                update(table)
                .where(table.c.id == bindparam("b_id"), table.c.tenant_id == self.tenant_id)
                .values({c: bindparam(f"b_{c}") for c in columns})
            )
            await conn.execute(stmt, params)

    # --- events ------------------------------------------------------------------------------------------

    # --- deletions and stages ------------------------------------------------------------------------------

    async def _delete(
        self,
        conn: AsyncConnection,
        entity: str,
        deletions: list[tuple[Any, Item, str, str]],
        now: datetime,
        result: BatchResult,
    ) -> None:
        params = []
        events = []
        for link, _item, digest, raw_text in deletions:
            params.append(
                {
                    "b_id": link.id,
                    "b_remote_deleted_at": now,
                    "b_digest": digest,
                    "b_last_seen_at": now,
                    "b_fetched_at": now,
                    "b_raw": seal_always(self.vault, self.tenant_id, "remote_link", "raw", link.id, raw_text),
                    "b_updated_at": now,
                }
            )
            events.append(self.changes.event(f"{entity}.remote_deleted", entity, link.entity_id, now))
            result.deleted += 1
        columns = ("remote_deleted_at", "digest", "last_seen_at", "fetched_at", "raw", "updated_at")
        await conn.execute(
            update(LINKS).where(LINKS.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in columns}),
            params,
        )
        if entity != "interview_stage":
            await conn.execute(EVENTS.insert(), events)

    async def _stages(self, conn: AsyncConnection, writes: list[_Write], now: datetime, result: BatchResult) -> None:
        """Interview stages: link each to its job, then rebuild the jobs' ``stages`` in upstream order."""
        if not writes:
            return
        await self._write_links(conn, "interview_stage", writes, now)
        for w in writes:
            result.updated += w.link is not None
            result.created += w.link is None
            result.entity_ids[w.item.record.remote_id] = w.entity_id
        await self.rebuild_stages(conn, {w.entity_id for w in writes}, now)

    async def rebuild_stages(self, conn: AsyncConnection, job_ids: set[uuid.UUID], now: datetime) -> None:
        rows = await conn.execute(
            select(LINKS.c.entity_id, LINKS.c.attributes).where(
                LINKS.c.tenant_id == self.tenant_id,
                LINKS.c.connection_id == self.connection.id,
                LINKS.c.entity == "interview_stage",
                LINKS.c.entity_id.in_(job_ids),
                LINKS.c.remote_deleted_at.is_(None),
            )
        )
        stages: dict[uuid.UUID, list[tuple[int, str]]] = defaultdict(list)
        for row in rows:
            attributes = row.attributes or {}
            if attributes.get("name"):
                stages[row.entity_id].append((int(attributes.get("order") or 0), str(attributes["name"])[:200]))
        jobs = m.Job.__table__
        current = await self._existing(conn, jobs, stages)
        events = []
        for job_id, entries in stages.items():
            names = list(dict.fromkeys(name for _, name in sorted(entries)))
            before = current.get(job_id)
            if before is None or list(before.stages or []) == names:
                continue
            await conn.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.tenant_id == self.tenant_id)
                .values(stages=names, updated_at=now)
            )
            events.append(self.changes.event("job.updated", "job", job_id, now, fields=["stages"]))
        if events:
            await conn.execute(EVENTS.insert(), events)
