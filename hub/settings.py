"""Settings, read once from the environment (prefix ``HUB_``).

Every setting, its default and what it does is declared in ``_SETTINGS`` below, so the
README's configuration table and this module cannot drift apart (a test compares them).
Tests build ``Settings.from_env({...})`` with their own mapping instead of patching
``os.environ``.

Example:
    >>> s = Settings.from_env({"HUB_ENV": "development"})
    >>> s.database_url
    'sqlite+aiosqlite:///./hub.db'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["SETTINGS_DOC", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The hub's configuration. Field metadata carries the env var name and its doc."""

    env: str = field(
        default="production",
        metadata={
            "doc": "`development` turns on introspection and detailed error messages; anything else is production (limits on, errors masked)."
        },
    )
    database_url: str = field(
        default="sqlite+aiosqlite:///./hub.db",
        metadata={
            "doc": "SQLAlchemy async URL: `postgresql+psycopg://user@host/db` in production, SQLite for the embedded mode."
        },
    )
    redis_url: str = field(
        default="redis://127.0.0.1:6379/0",
        metadata={
            "doc": "Redis for RQ jobs and event streams; `memory://` uses the in-process stand-in (embedded mode only)."
        },
    )
    redis_prefix: str = field(
        default="hub:",
        metadata={
            "doc": "Prefix for every Redis key and RQ queue the hub creates, so several hubs (or test runs) share one Redis."
        },
    )
    jwt_secret: str = field(
        default="", metadata={"doc": "HMAC secret for user bearer tokens (HS256). Required outside development."}
    )
    jwt_issuer: str = field(default="recruiting-hub", metadata={"doc": "`iss` claim expected on user tokens."})
    jwt_ttl_seconds: int = field(default=3600, metadata={"doc": "Lifetime of tokens minted by `hub users token`."})
    kek: str = field(
        default="", metadata={"doc": "Key-encryption key(s): base64url 32 bytes, or `kid:key,kid:key` during rotation."}
    )
    kek_file: str = field(
        default="", metadata={"doc": "Path to a file holding the key-encryption key instead of `HUB_KEK`."}
    )
    max_body_bytes: int = field(
        default=1_000_000, metadata={"doc": "Largest accepted request body; larger bodies get 413 `PAYLOAD_TOO_LARGE`."}
    )
    max_depth: int = field(default=10, metadata={"doc": "Deepest GraphQL selection accepted."})
    max_aliases: int = field(default=30, metadata={"doc": "Most aliases in one GraphQL document."})
    max_tokens: int = field(default=2000, metadata={"doc": "Most lexical tokens in one GraphQL document."})
    max_page_size: int = field(default=100, metadata={"doc": "Largest `first:` a connection accepts."})
    max_subscriptions_per_connection: int = field(
        default=20, metadata={"doc": "Concurrent subscriptions one WebSocket may hold."}
    )
    job_timeout_seconds: int = field(default=600, metadata={"doc": "Default RQ job timeout."})
    outbound_allow_private: bool = field(
        default=False,
        metadata={
            "doc": "Let outbound webhook subscriptions target loopback and private addresses (on-premises and development receivers); link-local, metadata and multicast addresses stay refused."
        },
    )
    embedded: bool = field(
        default=False,
        metadata={
            "doc": "Run the quick-start mode: in-process Redis stand-in, worker inside the hub process, demo data."
        },
    )
    host: str = field(default="127.0.0.1", metadata={"doc": "Interface `hub serve` binds."})
    port: int = field(default=8000, metadata={"doc": "Port `hub serve` binds."})
    log_level: str = field(default="info", metadata={"doc": "Python log level for the hub's loggers."})

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); ``overrides`` win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"HUB_{f.name.upper()}")
            if raw is None:
                continue
            values[f.name] = _coerce(f.type, raw, f"HUB_{f.name.upper()}")
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.development and not self.embedded and len(self.jwt_secret) < 32:
            raise ValueError("HUB_JWT_SECRET must be at least 32 characters outside development")
        if self.redis_url.startswith("memory://") and not (self.embedded or self.development):
            raise ValueError("the in-process Redis stand-in (memory://) is for the embedded mode only")


def _coerce(type_name: Any, raw: str, name: str) -> Any:
    kind = type_name if isinstance(type_name, str) else type_name.__name__
    if kind == "bool":
        if raw.lower() in {"1", "true", "yes", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be an integer, not {raw!r}") from None
    return raw


SETTINGS_DOC: list[tuple[str, str, str]] = [
    (f"HUB_{f.name.upper()}", repr(f.default), f.metadata["doc"]) for f in fields(Settings)
]
