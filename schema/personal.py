"""The one field extension that guards personal data.

Every personal field in the API is declared with :func:`personal_field`. Its extension
hands the stored value to the request's :class:`~schema.context.FieldPresenter`, which
decrypts, masks or hides it for the viewer's roles (and audits the read). Queries,
nested relations, ``node(id:)``, mutation payloads and subscription events all resolve
through the same types, so they all pass through here.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from schema.execution import SOURCE_RESOLVER

__all__ = ["PersonalData", "personal_field", "present"]


def present(entity: str, field: str, source: Any, context: Any) -> Any:
    """The viewer's view of ``source``'s stored ``entity.field`` (decrypted, masked or None)."""
    return context.presenter.present(entity, field, source._row, getattr(source, "_subject_id", None))


class PersonalData(FieldExtension):
    #: :func:`present` is this extension's whole work (see :data:`schema.execution.SOURCE_RESOLVER`)
    covered_by_source_resolver = True

    def __init__(self, entity: str, field: str) -> None:
        self.entity = entity
        self.field_name = field

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return present(self.entity, self.field_name, source, info.context)


def personal_field(entity: str, field: str, *, description: str | None = None) -> Any:
    """A field whose value the viewer sees in clear, masked or not at all, per policy."""
    return strawberry.field(
        resolver=lambda: None,
        extensions=[PersonalData(entity, field)],
        metadata={SOURCE_RESOLVER: partial(present, entity, field)},
        description=description or f"Personal data: shown per the tenant's field policy for `{entity}.{field}`.",
    )
