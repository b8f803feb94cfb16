"""The one field extension that guards personal data.

Every personal field in the API is declared with :func:`personal_field`. Its extension
hands the stored value to the request's :class:`~schema.context.FieldPresenter`, which
decrypts, masks or hides it for the viewer's roles (and audits the read). Queries,
nested relations, ``node(id:)``, mutation payloads and subscription events all resolve
through the same types, so they all pass through here.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

__all__ = ["PersonalData", "personal_field"]


class PersonalData(FieldExtension):
    def __init__(self, entity: str, field: str) -> None:
        self.entity = entity
        self.field_name = field

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        row = source._row
        subject = getattr(source, "_subject_id", None)
        return info.context.presenter.present(self.entity, self.field_name, row, subject)


def personal_field(entity: str, field: str, *, description: str | None = None) -> Any:
    """A field whose value the viewer sees in clear, masked or not at all, per policy."""
    return strawberry.field(
        resolver=lambda: None,
        extensions=[PersonalData(entity, field)],
        description=description or f"Personal data: shown per the tenant's field policy for `{entity}.{field}`.",
    )
