"""DataLoaders, one set per request, so a list never resolves a relation row by row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import RecruitingStore

__all__ = ["Loaders"]


class Loaders:
    """Batches lookups by id and by foreign key through the request's store.

    The batch functions hold the store, never the ``Loaders``: nothing here refers back to
    itself, so a request's rows and API objects are freed by reference counting when the
    request ends instead of waiting for the cycle collector (see :meth:`clear`)."""

    def __init__(self, store: RecruitingStore) -> None:
        #: API objects already built from loaded rows (see :func:`schema.prefetch.related`)
        self.objects: dict[tuple[int, Any], Any] = {}
        self.candidate = _by_id(store, "candidate")
        self.job = _by_id(store, "job")
        self.application = _by_id(store, "application")
        self.applications_by_candidate = _by_key(store, "application", "candidate_id")
        self.resumes_by_candidate = _by_key(store, "resume", "candidate_id")
        self.history_by_application = _by_key(store, "stage_change", "application_id")
        self.interviews_by_application = _by_key(store, "interview", "application_id")
        self.latest_evaluation = _latest(store, "evaluation")
        # engines: screening runs and results, interview sessions and outlines (lists newest first)
        self.screening_run = _by_id(store, "screening_run")
        self.interview_session = _by_id(store, "interview_session")
        self.screening_results_by_application = _by_key(store, "screening_result", "application_id", newest_first=True)
        self.interview_sessions_by_application = _by_key(
            store, "interview_session", "application_id", newest_first=True
        )
        self.evaluations_by_session = _by_key(store, "evaluation", "session_id", newest_first=True)
        self.latest_outline = _latest(store, "interview_outline")

    def clear(self) -> None:
        """Drop every loaded row and built object (the request is over)."""
        self.objects.clear()
        for loader in vars(self).values():
            if isinstance(loader, DataLoader):
                loader.clear_all()


def _by_id(store: RecruitingStore, entity: str) -> DataLoader[uuid.UUID, Any]:
    async def load(ids: list[uuid.UUID]) -> Sequence[Any]:
        return await store.rows_by_ids(entity, ids)

    return DataLoader(load_fn=load)


def _by_key(
    store: RecruitingStore, entity: str, key: str, *, newest_first: bool = False
) -> DataLoader[uuid.UUID, list[Any]]:
    async def load(values: list[uuid.UUID]) -> Sequence[list[Any]]:
        groups = await store.rows_by_key(entity, key, values)
        return [rows[::-1] for rows in groups] if newest_first else groups

    return DataLoader(load_fn=load)


def _latest(store: RecruitingStore, entity: str) -> DataLoader[uuid.UUID, Any]:
    """The newest ``entity`` row per application id (ids are time-ordered)."""

    async def load(application_ids: list[uuid.UUID]) -> list[Any | None]:
        groups = await store.rows_by_key(entity, "application_id", application_ids)
        return [max(rows, key=lambda r: r.id) if rows else None for rows in groups]

    return DataLoader(load_fn=load)
