"""connectors/registry.py: built-ins in one place, entry points, manifests at runtime."""

from __future__ import annotations

import sys
import types
from importlib.metadata import EntryPoint
from typing import ClassVar

import pytest

from connectors.base import Capability, ConnectionConfig, Connector, Page
from connectors.errors import ManifestError, UnknownConnector
from connectors.manifest import load_manifest_file
from connectors.registry import BUILTIN_CONNECTORS, ENTRY_POINT_GROUP, Registry, default_registry
from tests.connectors.conftest import EXAMPLES


class AcmeConnector(Connector):
    kind: ClassVar[str] = "acme_ats"
    version: ClassVar[str] = "2.1.0"
    capabilities: ClassVar = {"job": frozenset({Capability.READ})}

    async def read_page(self, model, *, cursor=None, since=None) -> Page:
        return Page(items=[])

    def normalize(self, model, payload):
        raise NotImplementedError


class HijackHr(AcmeConnector):
    kind: ClassVar[str] = "hr"


@pytest.fixture
def plugin_module() -> types.ModuleType:
    module = types.ModuleType("acme_plugin")
    module.AcmeConnector = AcmeConnector  # type: ignore[attr-defined]
    module.HijackHr = HijackHr  # type: ignore[attr-defined]
    module.NotAConnector = object  # type: ignore[attr-defined]
    module.manifest = load_manifest_file(EXAMPLES / "moka_style.yaml")  # type: ignore[attr-defined]
    sys.modules["acme_plugin"] = module
    yield module
    del sys.modules["acme_plugin"]


def point(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"acme_plugin:{attr}", group=ENTRY_POINT_GROUP)


def test_builtins_are_listed_in_one_place() -> None:
    registry = Registry(entry_points=False)
    assert (
        registry.kinds()
        == sorted(cls.kind for cls in BUILTIN_CONNECTORS)
        == ["dingtalk", "feishu", "hr", "mobile", "wecom"]
    )
    assert "mock" not in registry and "mock" in Registry(entry_points=False, include_mock=True)


def test_entry_points_register_third_party_connectors(plugin_module) -> None:
    registry = Registry(entry_points=False)
    registry.load_entry_points([point("acme_ats", "AcmeConnector"), point("moka", "manifest")])
    assert registry.get("acme_ats") is AcmeConnector
    assert registry.info("acme_ats").source == "entry_point"
    assert registry.info("moka_style").source == "entry_point"
    assert registry.problems == []


def test_broken_or_hostile_plugins_are_skipped_and_reported(plugin_module) -> None:
    registry = Registry(entry_points=False)
    registry.load_entry_points([point("hr", "HijackHr"), point("x", "NotAConnector"), point("y", "Missing")])
    assert registry.get("hr").__name__ == "HrConnector"
    assert [p.entry_point.split(" ")[0] for p in registry.problems] == ["hr", "x", "y"]
    assert "built-in" in registry.problems[0].reason


def test_installed_entry_points_are_read(monkeypatch) -> None:
    monkeypatch.setattr("connectors.registry._entry_points", lambda group: [])
    assert Registry().problems == []


def test_manifests_register_at_runtime_and_upgrade_explicitly() -> None:
    registry = Registry(entry_points=False)
    cls = registry.register_manifest((EXAMPLES / "greenhouse_style.yaml").read_text(encoding="utf-8"))
    assert registry.get("greenhouse_style") is cls and cls.source == "manifest"
    assert registry.manifest("greenhouse_style").version == "1.0.0"
    assert registry.manifest("hr") is None
    with pytest.raises(ManifestError, match="already registered"):
        registry.register_manifest(load_manifest_file(EXAMPLES / "greenhouse_style.yaml"))
    registry.register_manifest(load_manifest_file(EXAMPLES / "greenhouse_style.yaml"), replace=True)
    registry.unregister("greenhouse_style")
    assert "greenhouse_style" not in registry


def test_a_manifest_cannot_take_a_builtin_kind() -> None:
    text = (
        (EXAMPLES / "greenhouse_style.yaml")
        .read_text(encoding="utf-8")
        .replace("kind: greenhouse_style", "kind: feishu")
    )
    with pytest.raises(ManifestError) as caught:
        Registry(entry_points=False).register_manifest(text, replace=True)
    assert caught.value.problems[0].path == "$.kind"
    with pytest.raises(ValueError, match="built-in"):
        Registry(entry_points=False).unregister("hr")


def test_unknown_kind() -> None:
    with pytest.raises(UnknownConnector) as caught:
        Registry(entry_points=False).get("sap")
    assert caught.value.code == "CONNECTOR_UNKNOWN" and "hr" in caught.value.message


def test_create_builds_a_connector_for_a_connection() -> None:
    registry = default_registry([load_manifest_file(EXAMPLES / "moka_style.yaml")])
    connector = registry.create("moka_style", ConnectionConfig("", {"api_key": "k", "api_secret": "s"}))
    assert connector.kind == "moka_style" and connector.http.base_url.startswith("https://api.moka-style.example")
    assert {i.kind for i in registry.infos()} >= {"hr", "moka_style"}
