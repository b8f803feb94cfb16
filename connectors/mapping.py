"""The mapping engine: a declarative spec turns upstream JSON into a canonical record, compiled once.

A model's mapping has ``identity`` (which field is the remote id, the updated-at watermark, the deleted
flag, created-at, URL) and ``fields`` (canonical field name -> field spec). A field spec is a JMESPath
string, or an object whose keys apply in this order:

=============  ============================================================================================
``path``       JMESPath from the current object (default ``@``); plain dotted paths run on a fast native
               getter, anything else on the precompiled JMESPath expression
``const``      a constant instead of ``path``
``json``       ``true``: the value is a JSON-encoded string; parse it (``""`` is null) before what follows
``select``     JMESPath applied to the value after ``json`` (``{path: extra, json: true, select: salary}``)
``fields``     build an object: sub-field name -> field spec relative to the value
``each``       map every element of a list with a field spec (null results are dropped)
``pairs``      ``{key: path, value: path}``: a list of objects becomes one object (``[{id, value}]``)
``enum``       ``{map: {upstream: canonical}, default: X, case_insensitive: bool}``; unknown values use
               ``default`` or are an error (no default)
``time``       ``auto`` | ``iso8601`` | ``epoch_s`` | ``epoch_ms`` (``0``/``"0"`` = null), ``tz`` for naive
               ISO values
``type``       ``string`` | ``integer`` | ``number`` | ``boolean``: coerce
``default``    used when the value is null or missing
``required``   ``true``: null after all of the above is an error
=============  ============================================================================================

Conveniences derived from the canonical field's type: datetime fields parse as ``time: auto`` unless told
otherwise; string fields accept numbers (remote ids are often integers); a field that ends up null is
left out so the record's own default applies.

`ModelMapping.normalize` raises `NormalizationError` with every mapping error (source JSON path,
canonical field, reason); `ModelMapping.preview` returns them instead, plus pydantic's own findings.

Example:
    >>> mapping = compile_model_mapping("candidate", {
    ...     "identity": {"remote_id": "id", "updated_at": {"path": "modified_at", "time": "iso8601"}},
    ...     "fields": {"first_name": "first_name",
    ...                "phones": {"path": "phone_numbers",
    ...                           "each": {"fields": {"value": "value", "kind": "phone_number_type"}}}}})
    >>> mapping.normalize({"id": 7, "first_name": "伟", "modified_at": "2025-03-09T10:12:44Z",
    ...                    "phone_numbers": [{"value": "+86-138", "phone_number_type": "MOBILE"}]}).phones
    [ContactValue(value='+86-138', kind='MOBILE')]
"""

from __future__ import annotations

import difflib
import functools
import json
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from connectors._normalize import loads
from connectors.errors import MappingError, NormalizationError
from connectors.paths import compile_path
from connectors.times import TIME_FORMATS, TimeParseError, resolve_tz, time_parser
from schema.records import RECORD_TYPES, CanonicalRecord

__all__ = [
    "IDENTITY_FIELDS",
    "MappingSpecError",
    "ModelMapping",
    "Preview",
    "SpecProblem",
    "compile_model_mapping",
    "format_path",
]

IDENTITY_FIELDS = {
    "remote_id": "remote_id",
    "updated_at": "remote_updated_at",
    "created_at": "remote_created_at",
    "deleted": "remote_deleted",
    "url": "remote_url",
}
_FIELD_KEYS = frozenset(
    {"path", "const", "json", "select", "fields", "each", "pairs", "enum", "time", "tz", "type", "default", "required"}
)
_TYPES = ("string", "integer", "number", "boolean")
_MISSING: Any = object()


# --- paths ------------------------------------------------------------------------------------------


Where = tuple[str | int, ...]


def format_path(parts: Where) -> str:
    """``("models", "candidate", "fields", 0)`` -> ``$.models.candidate.fields[0]``; odd keys quoted."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


@dataclass(frozen=True, slots=True)
class SpecProblem:
    """A problem in a mapping spec: where inside the spec (path parts) and a message."""

    where: Where
    message: str

    @property
    def path(self) -> str:
        return format_path(self.where)


class MappingSpecError(ValueError):
    def __init__(self, problems: list[SpecProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))


# --- canonical targets -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Target:
    kind: str  # str, datetime, enum, bool, int, float, list, model, dict, any
    enum: type[Enum] | None = None
    model: type[BaseModel] | None = None
    item: _Target | None = None


_ANY = _Target("any")


def _target_of(annotation: Any) -> _Target:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _target_of(args[0]) if len(args) == 1 else _ANY
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        return _Target("list", item=_target_of(item))
    if origin is dict or annotation is dict:
        return _Target("dict")
    if isinstance(annotation, type):
        if issubclass(annotation, Enum):
            return _Target("enum", enum=annotation)
        if issubclass(annotation, BaseModel):
            return _Target("model", model=annotation)
        if issubclass(annotation, bool):
            return _Target("bool")
        if issubclass(annotation, datetime):
            return _Target("datetime")
        for kind, cls in (("str", str), ("int", int), ("float", float)):
            if issubclass(annotation, cls):
                return _Target(kind)
    return _ANY


def _model_targets(model: type[BaseModel]) -> dict[str, _Target]:
    return {name: _target_of(info.annotation) for name, info in model.model_fields.items()}


# --- compiled nodes --------------------------------------------------------------------------------


class _Fail(Exception):
    """Mapping failures below a node: (source suffix, field suffix, reason) triples."""

    def __init__(self, items: list[tuple[str, str, str]]) -> None:
        self.items = items


def _fail(reason: str) -> _Fail:
    return _Fail([("", "", reason)])


@dataclass(slots=True)
class _Node:
    run: Callable[[Any], Any]
    src: str  # source path relative to the parent value (".a.b", "" for @)
    element: _Node | None = None
    children: dict[str, _Node] = field(default_factory=dict)

    def source_for(self, loc: tuple[str | int, ...]) -> str:
        """Source path suffix for a pydantic error location below this node."""
        if not loc:
            return ""
        head, rest = loc[0], loc[1:]
        if isinstance(head, int) and self.element is not None:
            return f"[{head}]{self.element.src}{self.element.source_for(rest)}"
        child = self.children.get(str(head))
        if child is not None:
            return child.src + child.source_for(rest)
        return ""


def _enum_key(value: Any) -> str:
    """The JSON spelling of a scalar, as enum maps are keyed: 1 -> "1", true -> "true", null -> "null"."""
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls is bool:
        return "true" if value else "false"
    if cls is int:
        return str(value)
    if value is None:
        return "null"
    return json.dumps(value)


def _to_string(value: Any) -> Any:
    if value.__class__ is str:
        return value
    return _coerce("string", value)


def _coerce(kind: str, value: Any) -> Any:
    if kind == "string":
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise _fail(f"expected a scalar to turn into a string, got {type(value).__name__}")
    if kind == "integer":
        if isinstance(value, bool):
            raise _fail("expected an integer, got a boolean")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)
        raise _fail(f"expected an integer, got {value!r}")
    if kind == "number":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _fail(f"expected a number, got {value!r}") from None
    # boolean
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n", ""):
        return False
    raise _fail(f"expected a boolean, got {value!r}")


class _Compiler:
    def __init__(self) -> None:
        self.problems: list[SpecProblem] = []

    def problem(self, where: Where, message: str) -> None:
        self.problems.append(SpecProblem(where, message))

    def node(self, spec: Any, target: _Target, where: Where) -> _Node:
        """Compile one field spec for ``target``; problems are collected, a dummy node returned."""
        if isinstance(spec, str):
            spec = {"path": spec}
        if not isinstance(spec, dict):
            self.problem(where, "a field spec is a JMESPath string or an object")
            return _Node(lambda v: None, "")
        for key in spec.keys() - _FIELD_KEYS:
            self.problem((*where, key), f"unknown key; a field spec takes {', '.join(sorted(_FIELD_KEYS))}")

        # 1. source
        src = ""
        if "const" in spec:
            if "path" in spec:
                self.problem(where, "use either path or const, not both")
            constant = spec["const"]

            def get(obj: Any) -> Any:
                return constant

        else:
            expression = spec.get("path", "@")
            try:
                get, src = compile_path(expression)  # type: ignore[assignment]
            except (ValueError, TypeError) as exc:
                self.problem((*where, "path"), str(exc))
                get = _none
        stages: list[Callable[[Any], Any]] = []

        # 2. JSON-encoded strings
        if spec.get("json"):
            stages.append(_parse_json)
        if "select" in spec:
            try:
                stages.append(compile_path(spec["select"])[0])
            except (ValueError, TypeError) as exc:
                self.problem((*where, "select"), str(exc))

        # 3. structure
        element: _Node | None = None
        children: dict[str, _Node] = {}
        shape = [k for k in ("fields", "each", "pairs") if k in spec]
        if len(shape) > 1:
            self.problem(where, f"use only one of fields, each, pairs (got {', '.join(shape)})")
        if "fields" in spec:
            sub = spec["fields"]
            if not isinstance(sub, dict):
                self.problem((*where, "fields"), "expected an object of field specs")
            else:
                children = self.fields(sub, target, (*where, "fields"))
                stages.append(_object_stage(children))
        elif "each" in spec:
            item_target = target.item if target.kind == "list" and target.item else _ANY
            if target.kind not in ("list", "any"):
                self.problem((*where, "each"), f"each produces a list but this field is a {target.kind}")
            element = self.node(spec["each"], item_target, (*where, "each"))
            stages.append(_each_stage(element))
        elif "pairs" in spec:
            stages.append(self.pairs(spec["pairs"], (*where, "pairs")))

        # 4. value transforms
        if "enum" in spec:
            stages.append(self.enum(spec["enum"], target, (*where, "enum")))
        fmt = spec.get("time")
        if fmt is None and target.kind == "datetime" and not spec.get("fields"):
            fmt = "auto"
        if fmt is not None:
            if fmt not in TIME_FORMATS:
                self.problem((*where, "time"), f"unknown time format {fmt!r}; use one of {', '.join(TIME_FORMATS)}")
            else:
                try:
                    tz = resolve_tz(spec.get("tz"))
                except TimeParseError as exc:
                    self.problem((*where, "tz"), str(exc))
                else:
                    stages.append(_time_stage(fmt, tz))
        kind = spec.get("type")
        if kind is not None:
            if kind not in _TYPES:
                self.problem((*where, "type"), f"unknown type {kind!r}; use one of {', '.join(_TYPES)}")
            else:
                stages.append(_to_string if kind == "string" else functools.partial(_coerce, kind))
        elif target.kind == "str" and "enum" not in spec:
            stages.append(_str_if_number)
        elif target.kind == "list" and target.item is not None and target.item.kind == "str" and element is None:
            stages.append(_str_items)

        # 5. defaults
        default = spec.get("default", _MISSING)
        required = bool(spec.get("required"))
        run = _pipeline(get, tuple(stages), default, required)
        if "const" in spec:
            # A constant goes through its stages once, here: a bad constant is a spec problem, and the
            # hot path just returns the result.
            try:
                fixed = run(None)
            except _Fail as exc:
                self.problem((*where, "const"), exc.items[0][2])
            else:
                run = lambda obj: fixed  # noqa: E731
        return _Node(run, src, element, children)

    def fields(self, specs: dict[str, Any], target: _Target, where: Where) -> dict[str, _Node]:
        known = _model_targets(target.model) if target.model is not None else None
        nodes = {}
        for name, spec in specs.items():
            if known is not None and name not in known:
                self.problem((*where, name), _no_field(target.model, name, known))  # type: ignore[arg-type]
                continue
            nodes[name] = self.node(spec, known.get(name, _ANY) if known else _ANY, (*where, name))
        return nodes

    def pairs(self, spec: Any, where: Where) -> Callable[[Any], Any]:
        if not isinstance(spec, dict) or set(spec) != {"key", "value"}:
            self.problem(where, "pairs takes exactly {key: <path>, value: <path>}")
            return _identity
        try:
            key_get, _ = compile_path(spec["key"])
            value_get, _ = compile_path(spec["value"])
        except (ValueError, TypeError) as exc:
            self.problem(where, str(exc))
            return _identity

        def to_object(value: Any) -> Any:
            if value is None:
                return None
            if not isinstance(value, list):
                raise _fail(f"pairs expects a list of objects, got {type(value).__name__}")
            out = {}
            for item in value:
                key = key_get(item)
                if key is not None:
                    out[str(key)] = value_get(item)
            return out

        return to_object

    def enum(self, spec: Any, target: _Target, where: Where) -> Callable[[Any], Any]:
        if not isinstance(spec, dict) or not isinstance(spec.get("map"), dict):
            self.problem(where, "enum takes {map: {upstream value: canonical value}, default?: value}")
            return _identity
        fold = bool(spec.get("case_insensitive"))
        table = {(k.lower() if fold else k): v for k, v in ((str(k), v) for k, v in spec["map"].items())}
        has_default = "default" in spec
        default = spec.get("default")
        if target.enum is not None:
            allowed = {member.value for member in target.enum}
            for key, value in spec["map"].items():
                if value is not None and value not in allowed:
                    self.problem((*where, "map", str(key)), f"{value!r} is not one of {', '.join(sorted(allowed))}")
            if has_default and default is not None and default not in allowed:
                self.problem((*where, "default"), f"{default!r} is not one of {', '.join(sorted(allowed))}")
        expected = ", ".join(sorted(table))

        def lookup(value: Any) -> Any:
            if value is None:
                return None
            key = _enum_key(value)
            if fold:
                key = key.lower()
            try:
                return table[key]
            except KeyError:
                if has_default:
                    return default
                raise _fail(f"unknown value {value!r}; expected one of {expected}") from None

        return lookup


def _no_field(model: type[BaseModel], name: str, known: Mapping[str, Any]) -> str:
    hint = difflib.get_close_matches(name, list(known), n=1)
    return f"{model.__name__} has no field {name!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")


def _none(obj: Any) -> Any:
    return None


def _identity(value: Any) -> Any:
    return value


def _parse_json(value: Any) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value  # already decoded (some upstreams are inconsistent)
    try:
        return loads(value)
    except ValueError:
        raise _fail(f"expected a JSON-encoded string, got {value[:40]!r}") from None


def _str_if_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _str_items(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for v in value]
    return value


def _time_stage(fmt: str, tz: Any) -> Callable[[Any], Any]:
    parse = time_parser(fmt, tz)

    def to_time(value: Any) -> Any:
        try:
            return parse(value)
        except TimeParseError as exc:
            raise _fail(str(exc)) from None

    return to_time


def _object_stage(children: dict[str, _Node]) -> Callable[[Any], Any]:
    items = tuple((name, node.run) for name, node in children.items())
    sources = {name: node.src for name, node in children.items()}

    def build(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            raise _fail("expected an object (or a scalar read with @), got a list; use each for lists")
        out: dict[str, Any] = {}
        failures: list[tuple[str, str, str]] = []
        for name, run in items:
            try:
                result = run(value)
            except _Fail as exc:
                failures += [(sources[name] + s, f".{name}{f}", r) for s, f, r in exc.items]
                continue
            if result is not _MISSING:
                out[name] = result
        if failures:
            raise _Fail(failures)
        return out

    return build


def _each_stage(element: _Node) -> Callable[[Any], Any]:
    run, src = element.run, element.src

    def each(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, list):
            raise _fail(f"expected a list, got {type(value).__name__}")
        out = []
        failures: list[tuple[str, str, str]] = []
        for index, item in enumerate(value):
            try:
                result = run(item)
            except _Fail as exc:
                failures += [(f"[{index}]{src}{s}", f"[{index}]{f}", r) for s, f, r in exc.items]
                continue
            if result is not None and result is not _MISSING:
                out.append(result)
        if failures:
            raise _Fail(failures)
        return out

    return each


def _compose(stages: tuple[Callable[[Any], Any], ...]) -> Callable[[Any], Any]:
    def composed(value: Any) -> Any:
        for stage in stages:
            if value is None:
                break
            value = stage(value)
        return value

    return composed


def _pipeline(
    get: Callable[[Any], Any], stages: tuple[Callable[[Any], Any], ...], default: Any, required: bool
) -> Callable[[Any], Any]:
    # Specialized closures for the common shapes: this runs once per field per record.
    if default is _MISSING and not required:
        if not stages:

            def plain(obj: Any) -> Any:
                value = get(obj)
                return _MISSING if value is None else value

            return plain
        if stages == (_str_if_number,):

            def text(obj: Any) -> Any:
                value = get(obj)
                if value is None:
                    return _MISSING
                cls = value.__class__
                if cls is int or cls is float:
                    return str(value)
                return value

            return text
        if len(stages) == 1:
            (stage,) = stages

            def one(obj: Any) -> Any:
                value = get(obj)
                if value is None:
                    return _MISSING
                value = stage(value)
                return _MISSING if value is None else value

            return one

    chain: Callable[[Any], Any] | None = stages[0] if len(stages) == 1 else _compose(stages) if stages else None

    def run(obj: Any) -> Any:
        value = get(obj)
        if value is not None and chain is not None:
            value = chain(value)
        if value is None:
            if default is not _MISSING:
                return default
            if required:
                raise _fail("required value is missing or null")
            return _MISSING
        return value

    return run


# --- the compiled model mapping ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Preview:
    """Result of a mapping preview: the record (JSON form) when valid, every error, and what mapped."""

    record: dict[str, Any] | None
    errors: list[MappingError]
    mapped: dict[str, Any]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"record": self.record, "errors": [e.to_dict() for e in self.errors], "mapped": self.mapped}


class ModelMapping:
    """One model's compiled mapping. Build with `compile_model_mapping`."""

    def __init__(self, model: str, record_type: type[CanonicalRecord], nodes: dict[str, _Node]) -> None:
        self.model = model
        self.record_type = record_type
        self._nodes = nodes
        self._items = tuple(nodes.items())
        self._runs = tuple((name, node.run) for name, node in nodes.items())
        self._validate = record_type.__pydantic_validator__.validate_python  # skips model_validate's wrapper
        self._remote_id = nodes["remote_id"]
        self._updated = nodes.get("remote_updated_at")

    def remote_id(self, payload: Any) -> str | None:
        """The remote id, or None when it cannot be read (the item will fail normalization)."""
        try:
            value = self._remote_id.run(payload)
        except _Fail:
            return None
        return None if value is _MISSING else str(value)

    def updated_at(self, payload: Any) -> datetime | None:
        if self._updated is None:
            return None
        try:
            value = self._updated.run(payload)
        except _Fail:
            return None
        return value if isinstance(value, datetime) else None

    def map(self, payload: Any) -> tuple[dict[str, Any], list[MappingError]]:
        """Apply the mapping without validating the record: the field values and every mapping error."""
        if not isinstance(payload, dict):
            return {}, [MappingError("$", f"expected a JSON object, got {type(payload).__name__}")]
        out: dict[str, Any] = {}
        errors: list[MappingError] | None = None
        for name, run in self._runs:
            try:
                value = run(payload)
            except _Fail as exc:
                if errors is None:
                    errors = []
                src = self._nodes[name].src
                errors += [MappingError(f"${src}{s}", r, f"{name}{f}") for s, f, r in exc.items]
                continue
            if value is not _MISSING:
                out[name] = value
        return out, errors or []

    def normalize(self, payload: Any) -> CanonicalRecord:
        out, errors = self.map(payload)
        if errors:
            raise NormalizationError.from_errors(errors, model=self.model)
        try:
            return self._validate(out)  # type: ignore[no-any-return]
        except ValidationError as exc:
            raise NormalizationError.from_errors(self._validation_errors(exc), model=self.model) from None

    def preview(self, payload: Any) -> Preview:
        """Map ``payload`` and collect every error: mapping errors and the record's own validation."""
        out, errors = self.map(payload)
        failed = {e.field.split(".")[0].split("[")[0] for e in errors}
        record = None
        try:
            validated = self.record_type.model_validate(out)
        except ValidationError as exc:
            errors += [e for e in self._validation_errors(exc) if e.field.split(".")[0].split("[")[0] not in failed]
        else:
            if not errors:
                record = validated.model_dump(mode="json")
        return Preview(record=record, errors=errors, mapped=_json_safe(out))

    def _validation_errors(self, exc: ValidationError) -> list[MappingError]:
        errors = []
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            name = str(loc[0]) if loc else ""
            node = self._nodes.get(name)
            source = f"${node.src}{node.source_for(loc[1:])}" if node is not None else "$"
            where = name + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
            reason = error["msg"]
            if error["type"] == "missing" and node is None:
                reason = "field required but not mapped (add it to the mapping)"
            errors.append(MappingError(source, reason, where))
        return errors


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def _identity_spec(name: str, spec: Any) -> Any:
    if name == "remote_id":
        spec = {"path": spec} if isinstance(spec, str) else dict(spec)
        spec.setdefault("type", "string")
        spec.setdefault("required", True)
        return spec
    if name == "deleted":
        if isinstance(spec, str):
            spec = {"path": spec}
        spec = dict(spec)
        if "equals" in spec:
            equals = spec.pop("equals")
            return {"path": spec.get("path", "@"), "enum": {"map": {_enum_key(equals): True}, "default": False}}
        spec.setdefault("type", "boolean")
        return spec
    return spec


def compile_model_mapping(model: str, spec: Mapping[str, Any], *, where: Where = ()) -> ModelMapping:
    """Compile ``{identity: {...}, fields: {...}}`` for canonical ``model`` once.

    Raises:
        MappingSpecError: every problem found (unknown fields, bad JMESPath, enum targets that are not
            canonical values, required canonical fields left unmapped), with JSON paths into ``spec``.
    """
    compiler = _Compiler()
    record_type = RECORD_TYPES.get(model)
    if record_type is None:
        raise MappingSpecError([SpecProblem(where, f"unknown model {model!r}; use one of {', '.join(RECORD_TYPES)}")])
    targets = _model_targets(record_type)
    nodes: dict[str, _Node] = {}
    identity = spec.get("identity") or {}
    if "remote_id" not in identity:
        compiler.problem((*where, "identity"), "identity.remote_id is required (which field is the remote id)")
    for name, canonical in IDENTITY_FIELDS.items():
        if name in identity:
            nodes[canonical] = compiler.node(
                _identity_spec(name, identity[name]), targets[canonical], (*where, "identity", name)
            )
    for name in identity.keys() - IDENTITY_FIELDS.keys():
        compiler.problem((*where, "identity", name), f"unknown identity rule; use {', '.join(IDENTITY_FIELDS)}")
    for name, field_spec in (spec.get("fields") or {}).items():
        path = (*where, "fields", name)
        if name not in targets:
            compiler.problem(path, _no_field(record_type, name, targets))
        elif name in nodes:
            compiler.problem(path, f"{name} is set by identity; map it there only")
        else:
            nodes[name] = compiler.node(field_spec, targets[name], path)
    for name, info in record_type.model_fields.items():
        if info.is_required() and name not in nodes and name != "remote_id":
            compiler.problem((*where, "fields"), f"required canonical field {name!r} is not mapped")
    if compiler.problems:
        raise MappingSpecError(compiler.problems)
    return ModelMapping(model, record_type, nodes)
