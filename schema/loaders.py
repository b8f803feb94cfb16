"""DataLoaders, one set per request, so a list never resolves a relation row by row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from schema.context import RecruitingStore

__all__ = ["Loaders"]


class Loaders:
    """Batches lookups by id and by foreign key through the request's store."""

    def __init__(self, store: RecruitingStore) -> None:
        self._store = store
        #: API objects already built from loaded rows (see :func:`schema.prefetch.related`)
        self.objects: dict[tuple[int, Any], Any] = {}
        self.candidate = self._by_id("candidate")
        self.job = self._by_id("job")
        self.application = self._by_id("application")
        self.applications_by_candidate = self._by_key("application", "candidate_id")
        self.resumes_by_candidate = self._by_key("resume", "candidate_id")
        self.history_by_application = self._by_key("stage_change", "application_id")
        self.interviews_by_application = self._by_key("interview", "application_id")
        self.latest_evaluation = DataLoader(load_fn=self._latest_evaluations)
        # engines: screening runs and results, interview sessions and outlines (lists newest first)
        self.screening_run = self._by_id("screening_run")
        self.interview_session = self._by_id("interview_session")
        self.screening_results_by_application = self._by_key("screening_result", "application_id", newest_first=True)
        self.interview_sessions_by_application = self._by_key(
            "interview_session", "application_id", newest_first=True
        )
        self.evaluations_by_session = self._by_key("evaluation", "session_id", newest_first=True)
        self.latest_outline = DataLoader(load_fn=self._latest_outlines)

    def _by_id(self, entity: str) -> DataLoader[uuid.UUID, Any]:
        async def load(ids: list[uuid.UUID]) -> Sequence[Any]:
            return await self._store.rows_by_ids(entity, ids)

        return DataLoader(load_fn=load)

    def _by_key(self, entity: str, key: str, *, newest_first: bool = False) -> DataLoader[uuid.UUID, list[Any]]:
        async def load(values: list[uuid.UUID]) -> Sequence[list[Any]]:
            groups = await self._store.rows_by_key(entity, key, values)
            return [rows[::-1] for rows in groups] if newest_first else groups

        return DataLoader(load_fn=load)

    async def _latest_evaluations(self, application_ids: list[uuid.UUID]) -> list[Any | None]:
        groups = await self._store.rows_by_key("evaluation", "application_id", application_ids)
        return [max(rows, key=lambda r: r.id) if rows else None for rows in groups]

    async def _latest_outlines(self, application_ids: list[uuid.UUID]) -> list[Any | None]:
        groups = await self._store.rows_by_key("interview_outline", "application_id", application_ids)
        return [max(rows, key=lambda r: r.id) if rows else None for rows in groups]
