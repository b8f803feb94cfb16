"""Screening results back to the HR system: each result of a finished run, once, through its connector.

When a run is finished (DONE or PARTIALLY_DONE), :func:`plan_write_back` picks the tenant's first active
connection that performs ``application.screening_results`` (`hub.services.connections.find_connection`)
and the run's results whose application came from that connection (a ``remote_links`` row), not yet
written back, in rank order; the job layer splits them into batches of :data:`BATCH_SIZE`, one RQ job each
(`hub.jobs.write_back_screening_results`). Applications the upstream does not know (created in the hub,
or deleted upstream) are skipped: there is nothing to write them to.

:func:`write_back_batch` writes each result with `hub.services.connections.write_back` under the key
``screening_result:<result id>``: the HR API receives that as its ``Idempotency-Key`` and the hub records
the outcome, so a batch that is delivered again, or retried after an outage, never writes a result twice.
The payload is the canonical one (``connectors.base.WRITE_OPERATIONS``): score, the engine's
recommendation (``passed``), the rank, the run id, and the reasons as one line each (``CODE skill: detail
(+points)``) without the evidence quotes, which the HR system holds in the resume. The canonical payload
has no shortlist field, so a last line ``SHORTLISTED: yes`` or ``no`` says whether the result is in the
run's shortlist (the top ``shortlistSize`` ranks).
A written result gets ``written_back_at`` and a provenance link to the upstream's screening result.

A run that finished while the connection was PAUSED or DISABLED is planned with ``no_connection`` and
nothing is written; when the connection is set ACTIVE again (``connection.resumed``), the workflow runner
plans such runs again (:func:`pending_runs`), under a key of their own per resumption.

A result the upstream refuses for good (it rejected the payload, the application is gone upstream) keeps
the connector's error code in ``write_back_error`` (``ScreeningResult.writeBackError`` in GraphQL) and is
not offered again by later plans: a refusal is an answer, and repeating the request would get the same one.

Only ids travel through Redis: the batch job carries result ids and reads everything else here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, update

from hub.db import Database
from hub.db import models as m
from hub.services.connections import ConnectorFailed, find_connection, write_back
from hub.services.screening import stored_reasons
from hub.services.vault import Vault

__all__ = [
    "BATCH_SIZE",
    "OPERATION",
    "BatchOutcome",
    "pending_runs",
    "plan_write_back",
    "reason_lines",
    "write_back_batch",
]

OPERATION = "application.screening_results"
#: Results per write-back job: one upstream request each, so a batch takes seconds, not minutes.
BATCH_SIZE = 200
_WRITABLE = ("DONE", "PARTIALLY_DONE")


def reason_lines(reasons: Sequence[dict[str, Any]]) -> list[str]:
    """A result's reasons as the HR system shows them: ``CODE skill: detail (+points)``, one per reason."""
    lines = []
    for reason in reasons:
        skill = f" {reason['skill_id']}" if reason.get("skill_id") else ""
        detail = f": {reason['detail']}" if reason.get("detail") else ""
        lines.append(f"{reason['code']}{skill}{detail} ({float(reason['points']):+g})")
    return lines


async def plan_write_back(
    db: Database, tenant_id: uuid.UUID, run_id: uuid.UUID
) -> tuple[uuid.UUID | None, list[uuid.UUID], str]:
    """(connection id, result ids to write in rank order, why) for a finished run.

    The list is empty when the run is not finished (``why`` = ``not_finished``), when no active connection
    takes screening results (``no_connection``) or when none of its applications came from it.
    """
    async with db.session(tenant_id) as session:
        status = (await session.scalars(select(m.ScreeningRun.status).where(m.ScreeningRun.id == run_id))).first()
    if status is None:
        return None, [], "missing"
    if status not in _WRITABLE:
        return None, [], "not_finished"
    connection = await find_connection(db, tenant_id, capability_model="application", operation=OPERATION)
    if connection is None:
        return None, [], "no_connection"
    results = m.ScreeningResult
    async with db.session(tenant_id) as session:
        ids = (await session.scalars(_unwritten(connection.id, run_id).order_by(results.rank, results.id))).all()
    return connection.id, list(dict.fromkeys(ids)), "ok"


def _unwritten(connection_id: uuid.UUID, run_id: Any) -> Select[tuple[uuid.UUID]]:
    """The ids of the run's results not yet written back whose application came from that connection."""
    results, links = m.ScreeningResult, m.RemoteLink
    return (
        select(results.id)
        .join(
            links,
            (links.entity == "application")
            & (links.entity_id == results.application_id)
            & (links.connection_id == connection_id)
            & links.remote_deleted_at.is_(None),
        )
        .where(results.run_id == run_id, results.written_back_at.is_(None), results.write_back_error.is_(None))
    )


async def pending_runs(db: Database, tenant_id: uuid.UUID, connection_id: uuid.UUID | None) -> list[uuid.UUID]:
    """Finished runs with results still to write back to ``connection_id``, oldest first: what a connection
    that was PAUSED or DISABLED when they finished missed (their write-back found no connection).

    Empty unless that connection is the one :func:`plan_write_back` now picks. Planning them again writes
    only results without ``written_back_at``, each under its ``screening_result:<id>`` key, so results that
    were written are never written twice; those the upstream refused for good are not offered again.
    """
    connection = await find_connection(db, tenant_id, capability_model="application", operation=OPERATION)
    if connection is None or connection.id != connection_id:
        return []
    runs = m.ScreeningRun
    waiting = _unwritten(connection.id, runs.id)  # correlated: per run
    async with db.session(tenant_id) as session:
        ids = await session.scalars(
            select(runs.id).where(runs.status.in_(_WRITABLE), waiting.exists()).order_by(runs.created_at, runs.id)
        )
        return list(ids)


@dataclass
class BatchOutcome:
    written: int = 0
    skipped: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # result id -> error code (permanent failures)
    retry: ConnectorFailed | None = None  # a retryable failure stopped the batch

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "retry" if self.retry else "ok",
            "written": self.written,
            "skipped": self.skipped,
            "failed": self.failed,
        }


async def write_back_batch(
    db: Database,
    vault: Vault,
    tenant_id: uuid.UUID,
    run_id: uuid.UUID,
    connection_id: uuid.UUID,
    result_ids: Sequence[uuid.UUID],
) -> BatchOutcome:
    """Write each result of the batch not yet written back (see the module docstring).

    A permanent failure (the upstream refused the payload, the application is gone upstream) is counted,
    recorded on the result (``write_back_error``) and the batch goes on; a retryable one (upstream down,
    rate limited, circuit open) stops the batch and is returned in ``retry``, so the job raises and RQ runs
    the batch again later: what was written stays written, the rest follows.
    """
    outcome = BatchOutcome()
    results, runs, links = m.ScreeningResult, m.ScreeningRun, m.RemoteLink
    async with db.session(tenant_id) as session:
        run = (await session.execute(select(runs.shortlist_size, runs.requirements).where(runs.id == run_id))).first()
        shortlist = (run.shortlist_size if run is not None else None) or 0
        snapshot = run.requirements if run is not None else {}
        rows = (
            await session.execute(
                select(
                    results.id,
                    results.score,
                    results.passed,
                    results.rank,
                    results.reasons,
                    results.profile_key,
                    links.remote_id,
                )
                .join(
                    links,
                    (links.entity == "application")
                    & (links.entity_id == results.application_id)
                    & (links.connection_id == connection_id),
                )
                .where(
                    results.run_id == run_id,
                    results.id.in_(list(result_ids)),
                    results.written_back_at.is_(None),
                    links.remote_deleted_at.is_(None),
                )
                .order_by(results.rank, results.id, links.created_at, links.id)
            )
        ).all()
    # Two upstream applications the hub merged into one (same candidate and job) get the result once: on
    # the copy the hub linked first.
    rows = list({row.id: row for row in reversed(rows)}.values())[::-1]
    outcome.skipped = len(result_ids) - len(rows)
    for row in rows:
        shortlisted = row.rank is not None and row.rank <= shortlist
        payload = {
            "application_remote_id": row.remote_id,
            "score": row.score,
            "passed": row.passed,
            "rank": row.rank,
            "reasons": [
                *reason_lines(stored_reasons(row.reasons, row.profile_key, snapshot)),
                f"SHORTLISTED: {'yes' if shortlisted else 'no'}",
            ],
            "run_id": str(run_id),
            "screening_result_id": str(row.id),
        }
        try:
            await write_back(
                db, vault, tenant_id, connection_id, OPERATION, payload, idempotency_key=f"screening_result:{row.id}"
            )
        except ConnectorFailed as exc:
            if exc.retryable:
                outcome.retry = exc
                return outcome
            outcome.failed[str(row.id)] = str(exc.code)
            async with db.session(tenant_id) as session:
                await session.execute(
                    update(results).where(results.id == row.id).values(write_back_error=str(exc.code)[:60])
                )
                await session.commit()
            continue
        outcome.written += 1
    return outcome
