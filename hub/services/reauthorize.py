"""Re-authorizing a long-lived context (a subscription) when its principal changes.

A role change, or disabling a principal, emits ``principal.updated``; each subscription of
that principal calls :func:`reauthorizer`'s function, which re-reads the principal (no cache)
and swaps the new viewer into the context, its store and its presenter. The next event is
loaded and masked for the new roles; a disabled principal's subscription ends with
``TOKEN_INVALID``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from hub.services.auth import Authenticator
from schema.context import Context

__all__ = ["reauthorizer"]


def reauthorizer(auth: Authenticator, holder: Callable[[], Context]) -> Callable[[], Awaitable[None]]:
    async def reauthorize() -> None:
        context = holder()
        viewer = await auth.refresh(context.viewer)
        context.viewer = viewer
        store: Any = context.store
        store.viewer = viewer
        presenter: Any = context.presenter
        presenter.viewer = viewer
        presenter._decisions.clear()
        if getattr(presenter, "audit", None) is not None:
            presenter.audit.viewer = viewer

    return reauthorize
