"""Admin-only reads: the audit trail and its chain verdict."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.permission import PermissionExtension
from strawberry.types import Info

from schema.queries import paginate
from schema.relay import Connection, Node, encode_global_id

__all__ = ["AdminMutation", "AdminQuery", "AuditEntry", "Principal"]


def _admin_write() -> list[Any]:
    from schema.permissions import Allow

    return [PermissionExtension(permissions=[Allow("admin:tenant")], use_directives=False)]


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


@strawberry.type(description="A user or integrator of the tenant.")
class Principal(Node):
    id: strawberry.ID
    kind: str
    name: str
    roles: list[str]
    disabled: bool

    @classmethod
    def from_row(cls, row: Any) -> Principal:
        return cls(
            id=strawberry.ID(encode_global_id("Principal", row.id)),
            kind=row.kind,
            name=row.name,
            roles=list(row.roles or []),
            disabled=row.disabled,
        )


@strawberry.input
class SetPrincipalAccessInput:
    principal_id: strawberry.ID
    roles: list[str] | None = None
    disabled: bool | None = None


@strawberry.type
class PrincipalPayload:
    principal: Principal


@strawberry.type
class AdminMutation:
    @strawberry.mutation(
        extensions=_admin_write(),
        description="Change a principal's roles or disable it; live "
        "subscriptions of that principal apply the change from their next event on.",
    )
    async def set_principal_access(self, info: Info, input: SetPrincipalAccessInput) -> PrincipalPayload:
        from schema.context import ROLES
        from schema.errors import ValidationFailed
        from schema.relay import decode_global_id

        _, principal_id = decode_global_id(input.principal_id, expect="Principal")
        values: dict[str, Any] = {}
        if input.roles is not None:
            if not input.roles or set(input.roles) - set(ROLES):
                raise ValidationFailed(f"roles must be a non-empty subset of {list(ROLES)}", field="roles")
            values["roles"] = sorted(set(input.roles))
        if input.disabled is not None:
            values["disabled"] = input.disabled
        if not values:
            raise ValidationFailed("nothing to change", field="roles")
        row = await info.context.store.update("principal", principal_id, values)
        return PrincipalPayload(principal=Principal.from_row(row))
