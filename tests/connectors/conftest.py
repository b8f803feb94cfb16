"""Fixtures of the connector tests: a registry with every kind (built-ins, the mock, example manifests)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.manifest import load_manifest_file
from connectors.registry import Registry
from tests.connectors.harness import NOW

EXAMPLES = Path(__file__).resolve().parents[2] / "connectors" / "examples"


def full_registry() -> Registry:
    """Built-ins, the mock and both example manifests: every kind the contract suite covers."""
    registry = Registry(include_mock=True, entry_points=False)
    for path in sorted(EXAMPLES.glob("*.yaml")):
        registry.register_manifest(load_manifest_file(path))
    return registry


@pytest.fixture
def registry() -> Registry:
    return full_registry()


@pytest.fixture
def now() -> datetime:
    return datetime.fromtimestamp(NOW, UTC)
