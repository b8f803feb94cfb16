"""Path-aware field access for the hand-written (built-in) normalizers.

Each helper reads one key of an upstream object and raises `NormalizationError` with the JSON path and a
reason when the value has the wrong type; `validate` turns pydantic's findings into the same error, with
paths mapped back to the upstream fields through a ``sources`` table. Kept to plain functions because
they sit on the normalization hot path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from connectors.errors import MappingError, NormalizationError
from connectors.times import TIME_FORMATS, TimeParseError, time_parser
from schema.records import CanonicalRecord

R = TypeVar("R", bound=CanonicalRecord)

_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner, set in __init__


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (for optional envelope parts)."""
    return value if isinstance(value, dict) else {}


def loads(text: str) -> Any:
    """``json.loads`` for the small JSON-encoded strings dialects embed (Feishu forms, DingTalk extValue):
    the C scanner directly, without json.loads' Python layers (4x faster on short strings).

    Raises:
        ValueError: not JSON.
    """
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)  # leading whitespace or not JSON: let json say which
    if end != len(text) and text[end:].strip():
        raise ValueError(f"extra data after JSON at character {end}")
    return value


def fail(path: str, reason: str, model: str | None = None) -> NormalizationError:
    return NormalizationError(reason, path=path, model=model)


def obj(payload: Any, path: str = "$", model: str | None = None) -> Mapping[str, Any]:
    if payload.__class__ is dict:  # JSON objects are dicts; the ABC check below is much slower
        return payload
    if not isinstance(payload, Mapping):
        raise fail(path, f"expected a JSON object, got {type(payload).__name__}", model)
    return payload


def opt_obj(parent: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if value.__class__ is dict:
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise fail(f"{path}.{key}", f"expected an object, got {type(value).__name__}")
    return value


def req(parent: Mapping[str, Any], key: str, path: str) -> Any:
    value = parent.get(key)
    if value is None or value == "":
        raise fail(f"{path}.{key}", "required value is missing or null")
    return value


def text(parent: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = parent.get(key)
    if value.__class__ is str and value:
        return value
    if value is None or value == "":
        if required:
            raise fail(f"{path}.{key}", "required value is missing or null")
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise fail(f"{path}.{key}", f"expected a string, got {type(value).__name__} {value!r}"[:200])


def flag(parent: Mapping[str, Any], key: str, path: str, default: bool = False) -> bool:
    value = parent.get(key)
    if value is None:
        return default
    if value is True or value is False:
        return value
    raise fail(f"{path}.{key}", f"expected true or false, got {value!r}"[:200])


_PARSERS = {fmt: time_parser(fmt) for fmt in TIME_FORMATS}  # one fast parser per format


def when(parent: Mapping[str, Any], key: str, path: str, fmt: str, *, required: bool = False) -> datetime | None:
    try:
        parsed = _PARSERS[fmt](parent.get(key))
    except TimeParseError as exc:
        raise fail(f"{path}.{key}", str(exc)) from None
    if parsed is None and required:
        raise fail(f"{path}.{key}", "required time is missing or null")
    return parsed


def items(parent: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = parent.get(key)
    if value.__class__ is list:
        return value
    if value is None:
        return []
    if not isinstance(value, list):
        raise fail(f"{path}.{key}", f"expected a list, got {type(value).__name__}")
    return value


def strings(parent: Mapping[str, Any], key: str, path: str) -> list[str]:
    values = items(parent, key, path)
    if all(v.__class__ is str and v for v in values):
        return values
    out = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            if value:
                out.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append(str(value))
        elif value is not None:
            raise fail(f"{path}.{key}[{index}]", f"expected a string, got {type(value).__name__}")
    return out


def validate(cls: type[R], data: dict[str, Any], sources: Mapping[str, str], model: str) -> R:
    """``cls.model_validate(data)``; pydantic errors become one `NormalizationError` listing them all,
    with each canonical field mapped to its upstream path through ``sources`` (field -> ``$.path``)."""
    try:
        # the compiled validator directly: model_validate's Python wrapper costs as much as a small record
        return cls.__pydantic_validator__.validate_python(data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            head = str(loc[0]) if loc else ""
            rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
            errors.append(MappingError(sources.get(head, "$") + rest, error["msg"], head + rest))
        raise NormalizationError.from_errors(errors, model=model) from None
