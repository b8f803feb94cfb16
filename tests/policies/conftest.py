"""Factories for the policy tests: KEKs, key rings and ciphers, no services needed."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from policies import FieldCipher, KeyRing, LocalKek

TENANT = "tenant-a"


def fixed_clock(moment: datetime = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)) -> Callable[[], datetime]:
    return lambda: moment


@pytest.fixture
def kek() -> LocalKek:
    return LocalKek(os.urandom(32), key_id="kek-1")


@pytest.fixture
def make_ring(kek: LocalKek) -> Callable[..., KeyRing]:
    def make(tenant_id: str = TENANT, provider: LocalKek | None = None) -> KeyRing:
        return KeyRing.create(tenant_id, provider or kek, clock=fixed_clock())

    return make


@pytest.fixture
def ring(make_ring: Callable[..., KeyRing]) -> KeyRing:
    return make_ring()


@pytest.fixture
def cipher(ring: KeyRing) -> FieldCipher:
    return FieldCipher(ring)
