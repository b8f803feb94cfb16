"""Admin-only reads: the audit trail and its chain verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from schema.queries import paginate
from schema.relay import Connection, Node, encode_global_id

__all__ = ["AdminQuery", "AuditEntry"]


def _admin() -> list[Any]:
    from schema.permissions import Allow

    return [PermissionExtension(permissions=[Allow("read:audit")], use_directives=False)]


@strawberry.type(description="One link of the tenant's hash-chained audit log (ids and codes, never values).")
class AuditEntry(Node):
    id: strawberry.ID
    seq: int
    at: datetime
    actor: str
    action: str
    entity: str
    record_id: str | None
    field: str | None
    outcome: str
    detail: str | None
    hash: str

    @classmethod
    def from_row(cls, row: Any) -> AuditEntry:
        return cls(
            id=strawberry.ID(encode_global_id("AuditEntry", row.id)),
            seq=row.seq,
            at=row.at,
            actor=row.actor,
            action=row.action,
            entity=row.entity,
            record_id=row.record_id,
            field=row.field,
            outcome=row.outcome,
            detail=row.detail,
            hash=row.hash,
        )


@strawberry.type
class AuditChainVerdict:
    ok: bool
    checked: int
    first_bad_seq: int | None
    kind: str | None
    problem: str | None


@strawberry.type
class AdminQuery:
    @strawberry.field(extensions=_admin(), description="The audit log, newest first.")
    async def audit_log(
        self, info: Info, first: int = 50, after: str | None = None, entity: str | None = None
    ) -> Connection[AuditEntry]:
        filters = {"entity": entity} if entity else {}
        return await paginate(info, "audit", AuditEntry.from_row, filters=filters, first=first, after=after)

    @strawberry.field(extensions=_admin(), description="Re-check every link of the audit chain.")
    async def audit_chain(self, info: Info) -> AuditChainVerdict:
        verdict = await info.context.services["verify_audit"](info.context.viewer.tenant_id)
        return AuditChainVerdict(
            ok=verdict.ok,
            checked=verdict.checked,
            first_bad_seq=verdict.first_bad_seq,
            kind=verdict.kind,
            problem=verdict.problem,
        )
