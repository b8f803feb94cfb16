"""Jobs on recruiting records."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from hub.db import Database
from hub.db import models as m
from hub.jobs.runtime import idempotent

__all__ = ["recompute_application"]


def recompute_application(tenant_id: str, application_id: str, *, idempotency_key: str) -> dict[str, Any]:
    """Recompute an application's derived fields (stage count, last change) from its history."""

    async def body(db: Database, tenant: uuid.UUID) -> dict[str, Any]:
        app_id = uuid.UUID(application_id)
        async with db.session(tenant) as session:
            app = (await session.scalars(select(m.Application).where(m.Application.id == app_id))).first()
            if app is None:
                return {"status": "missing"}
            count, last = (
                await session.execute(
                    select(func.count(), func.max(m.StageChange.created_at)).where(
                        m.StageChange.application_id == app_id, m.StageChange.from_stage.is_not(None)
                    )
                )
            ).one()
            app.stage_count = count
            app.last_stage_change_at = last
            await session.commit()
            return {"status": "ok", "stage_count": count}

    return idempotent(tenant_id, idempotency_key, "hub.jobs.recompute_application", body)
