"""Declarative connector manifests: load YAML or JSON, validate, compile, preview.

A manifest is checked in two passes and every problem is reported at once, each with its JSON path and,
when the manifest came as text, the line and column of the offending node:

1. the published JSON Schema (``manifest.schema.json``, draft 2020-12; `manifest_schema()`);
2. meaning: field names exist on the canonical record, required canonical fields are mapped, JMESPath
   expressions and ``${...}`` templates compile, enum maps target canonical values, webhook models exist.

A valid `Manifest` holds its compiled mappings (JMESPath compiled once) and is immutable; register it with
``Registry.register_manifest`` to get a connector class.

Example:
    >>> manifest = load_manifest_file("connectors/examples/greenhouse_style.yaml")
    >>> preview = preview_mapping(manifest, "job", {"id": 4, "name": "", "status": "weird"})
    >>> [(e.path, e.reason) for e in preview.errors]  # doctest: +NORMALIZE_WHITESPACE
    [('$.status', "unknown value 'weird'; expected one of closed, draft, open"),
     ('$.name', 'String should have at least 1 character')]
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from connectors.base import Capability
from connectors.errors import ManifestError, ManifestProblem, UnsupportedOperation
from connectors.mapping import (
    MappingSpecError,
    ModelMapping,
    Preview,
    Where,
    compile_model_mapping,
    format_path,
)
from connectors.paths import compile_path
from connectors.templates import TEMPLATE_ROOTS, expressions

__all__ = [
    "SCHEMA_PATH",
    "Manifest",
    "load_manifest",
    "load_manifest_file",
    "manifest_schema",
    "preview_mapping",
    "validate_manifest",
]

SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
_NON_RECORD_MODELS = frozenset({"notification"})


@cache
def manifest_schema() -> dict[str, Any]:
    """The published JSON Schema of manifests."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = manifest_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# --- reading text with positions -----------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.2-like scalars: only true/false are booleans, dates stay strings (JSON has neither)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

Positions = dict[Where, tuple[int, int]]


@dataclass(slots=True)
class _Source:
    data: Any = None
    positions: Positions = field(default_factory=dict)  # value nodes
    key_positions: Positions = field(default_factory=dict)  # mapping keys
    problems: list[ManifestProblem] = field(default_factory=list)


def _walk(node: yaml.Node, where: Where, src: _Source) -> None:
    src.positions[where] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _key(key_node.value) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen and key != "<<":
                src.problems.append(
                    ManifestProblem(
                        format_path((*where, key)),
                        f"duplicate key {key!r} (first at line {seen[key]})",
                        line,
                        key_node.start_mark.column + 1,
                    )
                )
            seen.setdefault(key, line)
            src.key_positions[(*where, key)] = (line, key_node.start_mark.column + 1)
            _walk(value_node, (*where, key), src)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*where, index), src)


def _key(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _stringify_keys(value: Any) -> Any:
    # JSON objects only have string keys; YAML ``1: PENDING`` gives an int key, read it as "1".
    if isinstance(value, dict):
        return {_key(k): _stringify_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_keys(v) for v in value]
    return value


def _read(text: str) -> _Source:
    src = _Source()
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            src.data = json.loads(text)
        except json.JSONDecodeError as exc:
            src.problems.append(ManifestProblem("$", f"not valid JSON: {exc.msg}", exc.lineno, exc.colno))
            return src
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if src.data is None:
                src.data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        if src.data is not None:
            return src  # valid JSON that PyYAML cannot position: keep the data, lose the lines
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        src.problems.append(
            ManifestProblem(
                "$", f"not valid YAML: {problem}", mark.line + 1 if mark else None, mark.column + 1 if mark else None
            )
        )
        return src
    if node is not None:
        _walk(node, (), src)
    src.data = _stringify_keys(src.data)
    return src


# --- problems ----------------------------------------------------------------------------------------


def _locate(where: Where, src: _Source) -> tuple[int | None, int | None]:
    # The key's position reads best ("line 12: status:"); list items and the root have only values.
    probe = where
    while True:
        if probe in src.key_positions:
            return src.key_positions[probe]
        if probe in src.positions:
            return src.positions[probe]
        if not probe:
            return None, None
        probe = probe[:-1]


def _problem(where: Where, message: str, src: _Source, *, key: bool = False) -> ManifestProblem:
    line, column = _locate(where, src)
    return ManifestProblem(format_path(where), message, line, column)


def _schema_problems(data: Any, src: _Source) -> list[ManifestProblem]:
    problems = []
    for error in _validator().iter_errors(data):
        if error.context and error.validator in ("anyOf", "oneOf"):
            error = jsonschema.exceptions.best_match(error.context)
        where: Where = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = list(error.schema.get("properties", {}))
            for extra in [k for k in error.instance if k not in known]:
                hint = difflib.get_close_matches(extra, known, n=1)
                message = f"unknown key {extra!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
                problems.append(_problem((*where, extra), message, src, key=True))
            continue
        if "propertyNames" in error.relative_schema_path:
            name = str(error.instance)
            allowed = error.schema.get("enum")
            message = f"{name!r} is not allowed here" + (
                f"; use one of {', '.join(allowed)}" if allowed else f" (must match {error.schema.get('pattern')})"
            )
            problems.append(_problem((*where, name), message, src, key=True))
            continue
        message = error.message
        if error.validator == "not" and error.validator_value == {}:  # the schema's "key not allowed here"
            message = f"{where[-1]} does not apply here" if where else "not allowed here"
            if len(where) > 1 and where[-2] == "pagination":
                message += " (link pagination follows the Link header's URL)"
        if error.validator == "type" and isinstance(error.instance, int | float | bool):
            message += " (quote it in YAML to make it a string)"
        problems.append(_problem(where, message, src))
    return problems


def _jmespath_problem(where: Where, expression: Any, src: _Source) -> ManifestProblem | None:
    if not isinstance(expression, str):
        return None
    try:
        compile_path(expression)
    except ValueError as exc:
        return _problem(where, str(exc), src)
    return None


def _template_problems(where: Where, value: Any, src: _Source) -> list[ManifestProblem]:
    problems = []
    for expression in expressions(value):
        try:
            compile_path(expression)
        except ValueError as exc:
            problems.append(_problem(where, f"template: {exc}", src))
            continue
        root = expression.split(".", 1)[0].split("[", 1)[0].strip()
        if root.isidentifier() and root not in TEMPLATE_ROOTS:
            problems.append(
                _problem(
                    where,
                    f"template ${{{expression}}} starts with {root!r}; use one of {', '.join(sorted(TEMPLATE_ROOTS))}",
                    src,
                )
            )
    return problems


def _meaning_problems(
    data: dict[str, Any], src: _Source, clean: Callable[[Where], bool]
) -> tuple[list[ManifestProblem], dict[str, ModelMapping]]:
    """Meaning checks of every part that passed the schema (``clean``), so one run reports both kinds."""
    problems: list[ManifestProblem] = []
    mappings: dict[str, ModelMapping] = {}
    models: dict[str, Any] = data["models"] if isinstance(data.get("models"), dict) else {}
    for model, spec in models.items():
        where: Where = ("models", model)
        if not isinstance(spec, dict):
            continue
        if clean((*where, "identity")) and clean((*where, "fields")):
            try:
                mappings[model] = compile_model_mapping(model, spec, where=where)
            except MappingSpecError as exc:
                problems += [_problem(p.where, p.message, src) for p in exc.problems]
        for part in ("read", "fetch"):
            endpoint = spec.get(part)
            if not endpoint or not clean((*where, part)):
                continue
            for key in ("path", "params", "body"):
                if key in endpoint:
                    problems += _template_problems((*where, part, key), endpoint[key], src)
            for key in ("items", "item"):
                p = _jmespath_problem((*where, part, key), endpoint.get(key), src)
                problems += [p] if p else []
            for key in ("next_path", "has_more_path", "total_path"):
                p = _jmespath_problem((*where, part, "pagination", key), endpoint.get("pagination", {}).get(key), src)
                problems += [p] if p else []
        fetch = spec.get("fetch")
        if clean((*where, "fetch")) and fetch and "remote_id" not in "".join(expressions(fetch.get("path", ""))):
            problems.append(_problem((*where, "fetch", "path"), "fetch.path must contain ${remote_id}", src))
    if not clean(("models",)) and not mappings:
        return problems, mappings
    for operation, write in (data.get("writes") or {}).items() if clean(("writes",)) else ():
        where = ("writes", operation)
        for key in ("path", "params", "headers", "body"):
            if key in write:
                problems += _template_problems((*where, key), write[key], src)
        p = _jmespath_problem((*where, "remote_id"), write.get("remote_id"), src)
        problems += [p] if p else []
    auth: dict[str, Any] = data["auth"] if clean(("auth",)) and isinstance(data.get("auth"), dict) else {}
    for key in ("token", "value", "username", "password", "secret", "key_id", "client_id", "client_secret"):
        if key in auth:
            problems += _template_problems(("auth", key), auth[key], src)
    for key in ("token_path", "expires_in_path"):
        p = _jmespath_problem(("auth", key), auth.get(key), src)
        problems += [p] if p else []
    for key, value in (data.get("headers") or {}).items() if clean(("headers",)) else ():
        problems += _template_problems(("headers", key), value, src)
    for key in ("success_path", "message_path"):
        p = (
            _jmespath_problem(("response", key), (data.get("response") or {}).get(key), src)
            if clean(("response",))
            else None
        )
        problems += [p] if p else []
    webhook = data.get("webhook") if clean(("webhook",)) else None
    if webhook:
        for key in ("event_id", "event_type", "remote_id", "item"):
            p = _jmespath_problem(("webhook", key), webhook.get(key), src)
            problems += [p] if p else []
        for event_type, model in webhook["models"].items():
            if model not in models and model not in _NON_RECORD_MODELS:
                problems.append(
                    _problem(("webhook", "models", event_type), f"model {model!r} is not described under models", src)
                )
        if webhook["scheme"] != "standard_webhooks" and "event_id" not in webhook:
            problems.append(_problem(("webhook",), "event_id is required for this scheme (dedupe key)", src))
    return problems, mappings


# --- the manifest ------------------------------------------------------------------------------------


class Manifest:
    """A validated, compiled manifest. Build with `load_manifest`; treat as immutable."""

    def __init__(self, data: dict[str, Any], mappings: dict[str, ModelMapping], *, source: str = "") -> None:
        self.data = data
        self.source = source
        self.kind: str = data["kind"]
        self.name: str = data["name"]
        self.version: str = data["version"]
        self.models: dict[str, dict[str, Any]] = data["models"]
        self.writes: dict[str, dict[str, Any]] = data.get("writes") or {}
        self.webhook: dict[str, Any] | None = data.get("webhook")
        self._mappings = mappings
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.digest = hashlib.sha256(canonical.encode()).hexdigest()

    def __repr__(self) -> str:
        return f"Manifest(kind={self.kind!r}, version={self.version!r}, models={sorted(self.models)})"

    def mapping(self, model: str) -> ModelMapping:
        try:
            return self._mappings[model]
        except KeyError:
            raise UnsupportedOperation(f"manifest {self.kind!r} maps no model {model!r}") from None

    @property
    def capabilities(self) -> dict[str, frozenset[Capability]]:
        caps: dict[str, set[Capability]] = {model: set() for model in self.models}
        for model, spec in self.models.items():
            if "read" in spec or "fetch" in spec:
                caps[model].add(Capability.READ)
        for operation in self.writes:
            model = operation.split(".", 1)[0]
            if model in caps:
                caps[model].add(Capability.WRITE)
        if self.webhook:
            for model in self.webhook["models"].values():
                if model in caps:
                    caps[model].add(Capability.WEBHOOK)
        return {model: frozenset(c) for model, c in caps.items()}

    @property
    def required_credentials(self) -> frozenset[str]:
        """Credential names the templates use (``${credentials.api_key}`` -> ``api_key``)."""
        names = set()
        for expression in expressions(self.data):
            if expression.startswith("credentials."):
                names.add(expression.split(".", 2)[1])
        return frozenset(names)

    def to_json(self) -> str:
        """The manifest as JSON (what the hub stores; `load_manifest` reads it back)."""
        return json.dumps(self.data, ensure_ascii=False, indent=2)


def validate_manifest(source: str | bytes | Mapping[str, Any], *, name: str = "<manifest>") -> list[ManifestProblem]:
    """Every problem of a manifest (empty list: valid), in document order."""
    try:
        load_manifest(source, name=name)
    except ManifestError as exc:
        return exc.problems
    return []


def load_manifest(source: str | bytes | Mapping[str, Any], *, name: str = "<manifest>") -> Manifest:
    """Parse (YAML or JSON text, or an already-parsed mapping), validate and compile a manifest.

    Raises:
        ManifestError: with every problem (JSON path, message, line and column).
    """
    if isinstance(source, Mapping):
        src = _Source(data=_stringify_keys(dict(source)))
        text = ""
    else:
        text = source.decode("utf-8") if isinstance(source, bytes) else source
        src = _read(text)
    if src.problems and src.data is None:
        raise ManifestError(src.problems, source=name)
    problems = list(src.problems)
    if not isinstance(src.data, dict):
        problems.append(ManifestProblem("$", "a manifest is a mapping (object) at the top level", 1, 1))
        raise ManifestError(problems, source=name)
    schema = _schema_problems(src.data, src)
    problems += schema
    broken = [p.path for p in schema]

    def clean(where: Where) -> bool:
        prefix = format_path(where)
        return not any(b == prefix or b.startswith((prefix + ".", prefix + "[")) for b in broken)

    meaning, mappings = _meaning_problems(src.data, src, clean)
    known = {(p.path, p.message) for p in problems}
    paths = {p.path for p in problems}
    problems += [p for p in meaning if (p.path, p.message) not in known and p.path not in paths]
    if problems:
        raise ManifestError(_sorted(problems), source=name)
    return Manifest(src.data, mappings, source=text)


def _sorted(problems: list[ManifestProblem]) -> list[ManifestProblem]:
    return sorted(problems, key=lambda p: (p.line or 0, p.column or 0))


def load_manifest_file(path: str | Path) -> Manifest:
    path = Path(path)
    return load_manifest(path.read_text(encoding="utf-8"), name=str(path))


def preview_mapping(manifest: Manifest | str | bytes | Mapping[str, Any], model: str, sample: Any) -> Preview:
    """Normalize one sample payload with a manifest's mapping and return the record and EVERY error.

    Raises:
        ManifestError: the manifest itself is invalid (its problems, as from `load_manifest`).
        UnsupportedOperation: the manifest does not map ``model``.
    """
    if not isinstance(manifest, Manifest):
        manifest = load_manifest(manifest)
    return manifest.mapping(model).preview(sample)
