"""Relay conventions: global ids, the ``Node`` interface, connections and cursors.

A global id is ``base64("Candidate:<uuid>")``; a cursor is the opaque base64 of the row's
hub id (UUIDv7 ids are time-ordered, so keyset pagination by id is stable and cheap).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Generic, TypeVar

import strawberry

from schema.errors import NotFound, ValidationFailed

__all__ = [
    "NOT_FOUND_MESSAGE",
    "Connection",
    "Edge",
    "Node",
    "PageInfo",
    "decode_cursor",
    "decode_global_id",
    "encode_cursor",
    "encode_global_id",
]

T = TypeVar("T")

#: The one message for an id that does not exist, is malformed, or belongs to another tenant.
NOT_FOUND_MESSAGE = "No object with this id."


@lru_cache(maxsize=65536)
def encode_global_id(type_name: str, row_id: uuid.UUID) -> str:
    """Pure and called for every object a response carries: recently seen ids are kept."""
    return base64.urlsafe_b64encode(f"{type_name}:{row_id}".encode()).decode().rstrip("=")


def decode_global_id(value: str, *, expect: str | None = None) -> tuple[str, uuid.UUID]:
    """Split a global id; a malformed one answers NOT_FOUND like any unknown id."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, raw = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        row_id = uuid.UUID(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise NotFound(NOT_FOUND_MESSAGE) from None
    if expect is not None and type_name != expect:
        raise NotFound(NOT_FOUND_MESSAGE)
    return type_name, row_id


def encode_cursor(row_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(b"c1:" + row_id.bytes).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> uuid.UUID | None:
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode())
        if not raw.startswith(b"c1:") or len(raw) != 19:
            raise ValueError
        return uuid.UUID(bytes=raw[3:])
    except (ValueError, binascii.Error):
        raise ValidationFailed("malformed cursor", field="after") from None


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def build(
        cls, rows: Sequence[Any], *, has_next: bool, has_previous: bool, total: int, wrap: Callable[[Any], T]
    ) -> Connection[T]:
        edges = [Edge(cursor=encode_cursor(row.id), node=wrap(row)) for row in rows]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=has_next,
                has_previous_page=has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )
