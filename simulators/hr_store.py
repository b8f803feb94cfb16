"""The HR simulator's in-memory tables and cursor paging.

A `Table` keeps one model's records in insertion order; a record's position (its ``seq``) never changes, so
a cursor that remembers the last position walks every record exactly once even while records change or are
added (new ones land at the end). A record holds its rendered HR-dialect dict plus the bookkeeping the
filters need (modification time as a number, the deleted flag).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simulators.timefmt import iso_z

__all__ = ["Page", "Row", "Table"]


@dataclass(slots=True)
class Row:
    """One record and its bookkeeping."""

    seq: int
    record: dict[str, Any]
    modified: float
    created: float

    @property
    def deleted(self) -> bool:
        return bool(self.record.get("remote_was_deleted"))


@dataclass(frozen=True)
class Page:
    """One page of rows and the positions to continue from (None when there is nothing that way)."""

    rows: list[Row]
    next_after: int | None
    previous_before: int | None


class Table:
    """One model's records in insertion order, indexed by id."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.rows: list[Row] = []
        self.by_id: dict[str, Row] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def add(self, record: dict[str, Any], *, created: float, modified: float) -> Row:
        """Append a record; it gets ``created_at``/``modified_at`` from the numbers given."""
        record["created_at"] = iso_z(created)
        record["modified_at"] = iso_z(modified)
        row = Row(len(self.rows), record, modified, created)
        self.rows.append(row)
        self.by_id[record["id"]] = row
        return row

    def get(self, record_id: str) -> Row | None:
        return self.by_id.get(record_id)

    def touch(self, row: Row, now: float, **changes: Any) -> Row:
        """Apply field changes and move ``modified_at`` to ``now``."""
        row.record.update(changes)
        row.modified = max(now, row.modified)
        row.record["modified_at"] = iso_z(row.modified)
        return row

    def page(
        self,
        *,
        after: int | None,
        before: int | None,
        size: int,
        keep: Callable[[Row], bool],
    ) -> Page:
        """Up to ``size`` rows that ``keep`` accepts, after position ``after`` (or before ``before``)."""
        if before is not None:
            found: list[Row] = []
            index = min(before, len(self.rows)) - 1
            while index >= 0 and len(found) <= size:
                if keep(self.rows[index]):
                    found.append(self.rows[index])
                index -= 1
            more_before = len(found) > size
            found = found[:size][::-1]
            return Page(
                found,
                next_after=found[-1].seq if found else None,
                previous_before=found[0].seq if found and more_before else None,
            )
        found = []
        index = 0 if after is None else after + 1
        while index < len(self.rows) and len(found) <= size:
            if keep(self.rows[index]):
                found.append(self.rows[index])
            index += 1
        more_after = len(found) > size
        found = found[:size]
        return Page(
            found,
            next_after=found[-1].seq if found and more_after else None,
            previous_before=found[0].seq if found and after is not None else None,
        )
