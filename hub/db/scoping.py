"""Tenant scoping for every ORM statement.

A session carries its tenant in ``session.info["tenant_id"]``. Every SELECT, UPDATE and
DELETE issued through the ORM gets ``tenant_id = :tenant`` added for each
:class:`TenantScoped` entity it touches (relationship loads included), and every new row
is stamped with the session's tenant. A statement on a session with no tenant fails with
:class:`TenantScopeError`, unless the session was opened as ``system`` (migrations, the
CLI's tenant management, the sweeper that works across tenants).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from hub.db.base import TenantScoped
from hub.errors import TenantScopeError

__all__ = ["SYSTEM", "TENANT", "install_scoping"]

TENANT = "tenant_id"
SYSTEM = "system"


def _scope_statement(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    info = state.session.info
    tenant_id = info.get(TENANT)
    if tenant_id is None:
        if info.get(SYSTEM):
            return
        raise TenantScopeError("a query ran without a tenant context")
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _stamp_new_rows(session: Session, flush_context: Any, instances: Any) -> None:
    tenant_id = session.info.get(TENANT)
    for obj in session.new:
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None:
            if tenant_id is None:
                raise TenantScopeError(f"new {type(obj).__name__} has no tenant")
            obj.tenant_id = tenant_id
        elif tenant_id is not None and obj.tenant_id != tenant_id:
            raise TenantScopeError(f"new {type(obj).__name__} belongs to another tenant")
    if tenant_id is not None:
        for obj in session.dirty:
            if isinstance(obj, TenantScoped) and obj.tenant_id != tenant_id:
                raise TenantScopeError(f"{type(obj).__name__} moved to another tenant")


_installed = False


def install_scoping() -> None:
    """Register the listeners once per process (idempotent)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "do_orm_execute", _scope_statement)
    event.listen(Session, "before_flush", _stamp_new_rows)
    _installed = True
