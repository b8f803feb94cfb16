"""Small pieces the three OA simulators share: request-body reading, random ids, nonces, body checks.

Kept apart from `simulators.approvals` (the engine) because these are HTTP plumbing, not approval rules.
"""

from __future__ import annotations

import json
import random
import secrets
import string
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

__all__ = ["BadRequest", "id_factory", "nonce", "read_json", "require_str"]


class BadRequest(ValueError):
    """A request body the vendor would refuse; the message names the field."""


async def read_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object, or BadRequest."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise BadRequest("body is not valid JSON") from exc
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def require_str(body: dict[str, Any], name: str) -> str:
    """A required non-empty string field, or BadRequest naming it."""
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{name} is required")
    return value


def id_factory(seed: str, style: str) -> Callable[[float], str]:
    """Deterministic instance ids per seed, given the creation time.

    ``uuid`` (lower case, DingTalk), ``UUID`` (upper case, Feishu) or ``digits`` (WeCom ``sp_no``: the UTC
    date and a 4-digit counter, ``202503090001``).
    """
    rng = random.Random(seed)  # noqa: S311 (reproducible, not crypto)
    counter = iter(range(1, 10**9))

    def new_id(at: float) -> str:
        if style == "digits":
            return time.strftime("%Y%m%d", time.gmtime(at)) + f"{next(counter):04d}"
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        return value.upper() if style == "UUID" else value

    return new_id


def nonce(length: int = 8) -> str:
    """A random alphanumeric nonce for callback query strings and headers."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))
