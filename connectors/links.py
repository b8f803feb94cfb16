"""Web Linking (RFC 8288): the ``Link`` response header, as paginated APIs use it.

GitHub, GitLab, Shopify, Okta and many HR systems answer a list with the next page's URL in a header::

    Link: <https://ats.example/api/jobs?page=3&per_page=100>; rel="next", <...?page=1>; rel="first"

`parse_link_header` reads every link-value of such a header (URIs may contain commas and semicolons;
parameters may be tokens or quoted strings); `find_link` answers the target of one relation, resolved
against the URL of the response it came with (RFC 8288 section 3.2), or None when there is none.

Example:
    >>> find_link('<https://ats.example/jobs?page=2>; rel="next last"', "next", "https://ats.example/jobs")
    'https://ats.example/jobs?page=2'
    >>> find_link('</jobs?page=2>; rel=next', "next", "https://ats.example/jobs?page=1")
    'https://ats.example/jobs?page=2'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

__all__ = ["Link", "LinkHeaderError", "find_link", "parse_link_header", "same_origin"]

_TOKEN_END = frozenset(" \t;,=")


class LinkHeaderError(ValueError):
    """The header is not a list of ``<uri>; param=value`` link-values; the message says where."""


@dataclass(frozen=True, slots=True)
class Link:
    """One link-value: its target URI reference and its parameters (names lower-cased)."""

    target: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def rels(self) -> frozenset[str]:
        """The relation types (``rel`` is a space-separated list, compared case-insensitively)."""
        return frozenset(self.params.get("rel", "").lower().split())


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos


def _quoted(text: str, pos: int) -> tuple[str, int]:
    """The quoted-string starting at ``text[pos] == '"'`` (backslash escapes), and the position after it."""
    out, pos = [], pos + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
        elif char == '"':
            return "".join(out), pos + 1
        else:
            out.append(char)
            pos += 1
    raise LinkHeaderError("unterminated quoted string")


def _token(text: str, pos: int) -> tuple[str, int]:
    start = pos
    while pos < len(text) and text[pos] not in _TOKEN_END:
        pos += 1
    return text[start:pos], pos


def parse_link_header(value: str) -> list[Link]:
    """Every link-value of a ``Link`` header (several headers joined with ``,`` are one list).

    Raises:
        LinkHeaderError: the value does not follow the RFC 8288 grammar.
    """
    links: list[Link] = []
    pos = 0
    while True:
        pos = _skip_space(value, pos)
        while pos < len(value) and value[pos] == ",":  # empty list elements are allowed (RFC 9110 #rule)
            pos = _skip_space(value, pos + 1)
        if pos >= len(value):
            return links
        if value[pos] != "<":
            raise LinkHeaderError(f"expected '<' at character {pos}")
        end = value.find(">", pos)
        if end < 0:
            raise LinkHeaderError(f"unterminated '<' at character {pos}")
        target, pos = value[pos + 1 : end].strip(), end + 1
        params: dict[str, str] = {}
        while True:
            pos = _skip_space(value, pos)
            if pos >= len(value) or value[pos] == ",":
                break
            if value[pos] != ";":
                raise LinkHeaderError(f"expected ';' or ',' at character {pos}")
            pos = _skip_space(value, pos + 1)
            name, pos = _token(value, pos)
            if not name:
                raise LinkHeaderError(f"expected a parameter name at character {pos}")
            pos = _skip_space(value, pos)
            param = ""
            if pos < len(value) and value[pos] == "=":
                pos = _skip_space(value, pos + 1)
                if pos < len(value) and value[pos] == '"':
                    param, pos = _quoted(value, pos)
                else:
                    param, pos = _token(value, pos)
            params.setdefault(name.lower(), param)  # the first occurrence wins (RFC 8288 section 3)
        links.append(Link(target, params))


def find_link(header: str | None, rel: str, base_url: str) -> str | None:
    """The absolute URL of the first link with relation ``rel`` in ``header``, or None.

    Raises:
        LinkHeaderError: the header is malformed (a caller must not read that as "no next page").
    """
    if not header:
        return None
    wanted = rel.lower()
    for link in parse_link_header(header):
        if wanted in link.rels:
            return urljoin(base_url, link.target)
    return None


def same_origin(url: str, base_url: str) -> bool:
    """Whether ``url`` has the scheme, host and port of ``base_url`` (where the connection's credentials
    may be sent)."""
    a, b = urlsplit(url), urlsplit(base_url)
    default = {"http": 80, "https": 443}
    try:
        ports = (a.port or default.get(a.scheme), b.port or default.get(b.scheme))
    except ValueError:  # a port that is not a number
        return False
    return (a.scheme.lower(), (a.hostname or "").lower(), ports[0]) == (
        b.scheme.lower(),
        (b.hostname or "").lower(),
        ports[1],
    )
