"""Every connector kind the hub knows, in one place.

Three sources, in order of precedence:

1. **Built-ins**, listed in `BUILTIN_CONNECTORS` below. Their kinds cannot be taken by anything else.
2. **Third-party Python connectors**, through the entry-point group ``recruiting_hub.connectors``: each
   entry point loads a `Connector` subclass (or a `Manifest`). A package declares, in its pyproject::

       [project.entry-points."recruiting_hub.connectors"]
       acme_ats = "acme_hub_connector:AcmeConnector"

   A plug-in that fails to load or clashes with a built-in is skipped and listed in `Registry.problems`
   (for the hub to show), so one broken plug-in never takes the hub down.
3. **Manifest connectors**, registered at runtime with `Registry.register_manifest` (GraphQL
   ``registerConnector``, ``hub connectors register FILE``). Each process keeps its own registry, so the
   hub re-registers stored manifests at start-up.

Example:
    >>> registry = Registry()
    >>> "hr" in registry.kinds() and registry.get("feishu").kind
    'feishu'
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from connectors.base import ConnectionConfig, Connector, ConnectorInfo
from connectors.dingtalk import DingTalkConnector
from connectors.errors import ManifestError, ManifestProblem, UnknownConnector
from connectors.feishu import FeishuConnector
from connectors.hr import HrConnector
from connectors.manifest import Manifest, load_manifest
from connectors.manifest_connector import ManifestConnector
from connectors.mobile import MobileConnector
from connectors.mock import MockConnector
from connectors.wecom import WeComConnector

__all__ = ["BUILTIN_CONNECTORS", "ENTRY_POINT_GROUP", "LoadProblem", "Registry", "default_registry"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "recruiting_hub.connectors"

BUILTIN_CONNECTORS: tuple[type[Connector], ...] = (
    HrConnector,
    DingTalkConnector,
    WeComConnector,
    FeishuConnector,
    MobileConnector,
)


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A plug-in that was skipped: the entry point, and why."""

    entry_point: str
    reason: str


class Registry:
    """Connector kinds -> connector classes. Build one per process (see `default_registry`)."""

    def __init__(
        self,
        *,
        builtins: bool = True,
        entry_points: bool = True,
        include_mock: bool = False,
        group: str = ENTRY_POINT_GROUP,
    ) -> None:
        self._classes: dict[str, type[Connector]] = {}
        self._reserved: set[str] = set()
        self._sources: dict[str, str] = {}
        self.problems: list[LoadProblem] = []
        if builtins:
            for cls in BUILTIN_CONNECTORS:
                self._classes[cls.kind] = cls
            self._reserved.update(cls.kind for cls in BUILTIN_CONNECTORS)
        if include_mock:
            self._classes[MockConnector.kind] = MockConnector
            self._reserved.add(MockConnector.kind)
        if entry_points:
            self.load_entry_points(_entry_points(group))

    # --- registration --------------------------------------------------------------------------------

    def register(self, cls: type[Connector], *, replace: bool = False) -> type[Connector]:
        """Register a connector class under ``cls.kind``.

        Raises:
            ValueError: the kind is a built-in's, or taken and ``replace`` is False.
        """
        if not (isinstance(cls, type) and issubclass(cls, Connector)) or not getattr(cls, "kind", None):
            raise ValueError(f"{cls!r} is not a Connector subclass with a kind")
        self._check_free(cls.kind, replace)
        self._classes[cls.kind] = cls
        return cls

    def register_manifest(
        self, manifest: Manifest | str | bytes | Mapping[str, Any], *, replace: bool = False
    ) -> type[ManifestConnector]:
        """Validate (when given as text or a mapping) and register a manifest; answers its connector class.

        Raises:
            ManifestError: the manifest is invalid, or its kind is a built-in's or already registered
                (``replace=True`` upgrades an earlier manifest of the same kind).
        """
        if not isinstance(manifest, Manifest):
            manifest = load_manifest(manifest)
        try:
            self._check_free(manifest.kind, replace, manifests_only=True)
        except ValueError as exc:
            raise ManifestError([ManifestProblem("$.kind", str(exc))]) from None
        cls = ManifestConnector.from_manifest(manifest)
        self._classes[manifest.kind] = cls
        return cls

    def unregister(self, kind: str) -> None:
        if kind in self._reserved:
            raise ValueError(f"{kind!r} is a built-in connector and cannot be removed")
        self._classes.pop(kind, None)
        self._sources.pop(kind, None)

    def load_entry_points(self, points: Iterable[EntryPoint]) -> None:
        """Register third-party connectors; failures are logged and kept in ``problems``, never raised."""
        for point in points:
            name = f"{point.name} = {point.value}"
            try:
                loaded = point.load()
                if isinstance(loaded, Manifest):
                    loaded = ManifestConnector.from_manifest(loaded)
                self.register(loaded)
                self._sources[loaded.kind] = "entry_point"
            except Exception as exc:  # a broken plug-in must never stop the hub
                log.warning("skipping connector plug-in %s: %s", name, exc)
                self.problems.append(LoadProblem(name, f"{type(exc).__name__}: {exc}"))

    def _check_free(self, kind: str, replace: bool, *, manifests_only: bool = False) -> None:
        if kind in self._reserved:
            raise ValueError(f"kind {kind!r} belongs to a built-in connector")
        existing = self._classes.get(kind)
        if existing is None:
            return
        if not replace:
            raise ValueError(f"kind {kind!r} is already registered (version {existing.version}); replace it explicitly")
        if manifests_only and not issubclass(existing, ManifestConnector):
            raise ValueError(f"kind {kind!r} is a Python connector; a manifest cannot replace it")

    # --- lookup --------------------------------------------------------------------------------------

    def get(self, kind: str) -> type[Connector]:
        """The connector class of ``kind``; `UnknownConnector` otherwise."""
        try:
            return self._classes[kind]
        except KeyError:
            raise UnknownConnector(kind, known=self.kinds()) from None

    def kinds(self) -> list[str]:
        return sorted(self._classes)

    def __contains__(self, kind: object) -> bool:
        return kind in self._classes

    def info(self, kind: str) -> ConnectorInfo:
        info = self.get(kind).info()
        source = self._sources.get(kind)
        return dataclasses.replace(info, source=source) if source else info

    def infos(self) -> list[ConnectorInfo]:
        return [self.info(k) for k in self.kinds()]

    def manifest(self, kind: str) -> Manifest | None:
        """The manifest behind a manifest connector (None for Python connectors)."""
        cls = self.get(kind)
        return cls.manifest if issubclass(cls, ManifestConnector) else None

    def create(self, kind: str, config: ConnectionConfig, **options: Any) -> Connector:
        """A connector for one connection: ``get(kind)(config, **options)`` (client, transport, breaker...)."""
        return self.get(kind)(config, **options)


def _entry_points(group: str) -> list[EntryPoint]:
    return list(entry_points(group=group))


def default_registry(manifests: Iterable[Manifest | str | Mapping[str, Any]] = ()) -> Registry:
    """Built-ins, installed plug-ins, and the given manifests (for example those the hub stored)."""
    registry = Registry()
    for manifest in manifests:
        registry.register_manifest(manifest, replace=True)
    return registry
