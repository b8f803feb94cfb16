"""The baseline for `bench/policies_dashboard.py`: the same hub with field policies switched
off (values stored in clear, no decryption, no masking decisions, no audit). Bench-only."""

from __future__ import annotations

import uuid
from typing import Any

import hub.http.graphql as endpoint
from hub.app import create_app
from hub.services.store import PERSONAL_FIELDS
from hub.settings import Settings


class _ClearPresenter:
    def __init__(self, viewer: Any, vault: Any, audit: Any = None) -> None:
        pass

    def present(self, entity: str, field: str, row: Any, subject_id: uuid.UUID | None) -> Any:
        import json

        value = getattr(row, field)
        if value is not None and PERSONAL_FIELDS.get(entity, {}).get(field) == "list":
            return json.loads(value)
        return value


class _NoAudit:
    def __init__(self, *args: Any) -> None:
        pass

    def record(self, *args: Any, **kwargs: Any) -> None:
        pass

    async def flush(self) -> None:
        pass


endpoint.Presenter = _ClearPresenter  # type: ignore[misc,assignment]
endpoint.AuditTrail = _NoAudit  # type: ignore[misc,assignment]
app = create_app(Settings.from_env())
