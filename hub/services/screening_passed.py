"""``screening_result.passed``: the events through which a job's rules act on a screening run's shortlist.

A run that finishes (DONE or PARTIALLY_DONE) commits, in the same transaction as its ranking and its
``screening_run.completed`` event (the outbox: the relay publishes them after the commit), one
``screening_result.passed`` event per result in its shortlist: the top ``shortlist_size`` ranks, which are
all recommended (``passed``) results because ranking puts those first. A job rule
``{"on": "screening_result.passed", "do": "invite_ai_interview"}`` then invites each shortlisted candidate.

Not every passed result gets one: a whole-library re-screen can recommend tens of thousands, and an event
each would flood the tenant's stream, its subscribers and the workflow runner. Events go to the shortlist
only, and never to more than the :data:`MAX_PASSED_EVENTS` best ranks; a run without a shortlist size
(its shortlist is every passed result) is capped the same way. Each event says so: ``shortlist`` (the run's
shortlist size) and ``emitted`` (how many passed events the run got), so a consumer can tell a capped run.

Once per run: both ways a run finishes emit them only while marking it finished, under the run's lock
(:func:`hub.services.screening_runs.finish_run`) or the chunk's claimed key
(:func:`hub.services.screening_library.screen_whole_run`), so a re-delivered or repeated completion adds
none. The workflow step each event leads to claims its own key as well (``wf:invite:<application>``).

Events are thin: ids, the rank and the sizes; no score or personal data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db import models as m
from hub.db.base import new_id, utcnow
from hub.db.scoping import TENANT

__all__ = ["EVENT_TYPE", "MAX_PASSED_EVENTS", "add_passed_events", "emitted_count", "shortlisted"]

EVENT_TYPE = "screening_result.passed"
#: At most this many ``screening_result.passed`` events per run (the best ranks of its shortlist).
MAX_PASSED_EVENTS = 500

_RESULTS = cast(Table, m.ScreeningResult.__table__)
_EVENTS = cast(Table, m.Event.__table__)


def emitted_count(shortlist: int) -> int:
    """How many passed events a run with that shortlist size gets."""
    return max(0, min(shortlist, MAX_PASSED_EVENTS))


async def shortlisted(
    session: AsyncSession, tenant_id: uuid.UUID, run_id: uuid.UUID, shortlist: int
) -> Sequence[tuple[uuid.UUID, uuid.UUID, int]]:
    """(result id, application id, rank) of the run's ranked results that get a passed event, best first."""
    limit = emitted_count(shortlist)
    if not limit:
        return []
    results = _RESULTS
    rows = await session.execute(
        select(results.c.id, results.c.application_id, results.c.rank)
        .where(
            results.c.tenant_id == tenant_id,
            results.c.run_id == run_id,
            results.c.passed.is_(True),
            results.c.rank <= limit,
        )
        .order_by(results.c.rank)
    )
    return [(row.id, row.application_id, row.rank) for row in rows]


async def add_passed_events(
    session: AsyncSession,
    run_id: uuid.UUID,
    job_id: uuid.UUID,
    shortlist: int,
    results: Iterable[tuple[uuid.UUID, uuid.UUID, int]],
) -> int:
    """Add one passed event per (result id, application id, rank), best :func:`emitted_count` ranks only, to
    the caller's transaction (the one that marks the run finished), in rank order; answer how many were added.

    One multi-row insert: up to 500 events as ORM objects cost a large run a tenth of a second to flush."""
    chosen = list(results)[: emitted_count(shortlist)]
    if not chosen:
        return 0
    common: dict[str, Any] = {"job_id": str(job_id), "run_id": str(run_id), "shortlist": shortlist}
    common["emitted"] = len(chosen)
    tenant_id, now = session.info[TENANT], utcnow()
    await session.execute(
        insert(_EVENTS),
        [
            {
                "id": new_id(),  # time-ordered: the relay publishes them in rank order
                "tenant_id": tenant_id,
                "created_at": now,
                "updated_at": now,
                "type": EVENT_TYPE,
                "entity": "screening_result",
                "entity_id": result_id,
                "data": {**common, "application_id": str(application_id), "rank": rank},
            }
            for result_id, application_id, rank in chosen
        ],
    )
    return len(chosen)
