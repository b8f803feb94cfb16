"""Access tokens issued by the OA simulators (DingTalk, WeCom, Feishu), with expiry.

Each vendor trades app credentials for a token valid 7,200 seconds. The simulators issue random tokens,
remember them, and can expire them all at once (``POST /_sim/tokens/expire``) so connectors' refresh paths
are testable without waiting two hours.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable

__all__ = ["TokenIssuer"]


class TokenIssuer:
    """Issues and checks bearer tokens with a time to live."""

    def __init__(self, prefix: str, *, ttl: int = 7200, clock: Callable[[], float] = time.time) -> None:
        self.prefix = prefix
        self.ttl = ttl
        self._clock = clock
        self._expiry: dict[str, float] = {}

    def issue(self) -> tuple[str, int]:
        """A fresh token and its lifetime in seconds."""
        token = self.prefix + secrets.token_hex(16)
        self._expiry[token] = self._clock() + self.ttl
        return token, self.ttl

    def check(self, token: str | None) -> str | None:
        """None when valid, otherwise why not: "missing", "invalid" or "expired"."""
        if not token:
            return "missing"
        expiry = self._expiry.get(token)
        if expiry is None:
            return "invalid"
        return "expired" if self._clock() >= expiry else None

    def expire_all(self) -> int:
        """Expire every token issued so far; answers how many."""
        now = self._clock()
        for token in self._expiry:
            self._expiry[token] = now
        return len(self._expiry)
