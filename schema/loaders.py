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
        self.candidate = self._by_id("candidate")
        self.job = self._by_id("job")
        self.application = self._by_id("application")
        self.applications_by_candidate = self._by_key("application", "candidate_id")
        self.resumes_by_candidate = self._by_key("resume", "candidate_id")
        self.history_by_application = self._by_key("stage_change", "application_id")
        self.interviews_by_application = self._by_key("interview", "application_id")
        self.latest_evaluation = DataLoader(load_fn=self._latest_evaluations)

    def _by_id(self, entity: str) -> DataLoader[uuid.UUID, Any]:
        async def load(ids: list[uuid.UUID]) -> Sequence[Any]:
            return await self._store.rows_by_ids(entity, ids)

        return DataLoader(load_fn=load)

    def _by_key(self, entity: str, key: str) -> DataLoader[uuid.UUID, list[Any]]:
        async def load(values: list[uuid.UUID]) -> Sequence[list[Any]]:
            return await self._store.rows_by_key(entity, key, values)

        return DataLoader(load_fn=load)

    async def _latest_evaluations(self, application_ids: list[uuid.UUID]) -> list[Any | None]:
        groups = await self._store.rows_by_key("evaluation", "application_id", application_ids)
        return [max(rows, key=lambda r: r.id) if rows else None for rows in groups]
