"""Where outbound webhooks may go: the guard against server-side request forgery (SSRF).

Integrators choose the URLs the hub POSTs to, so a URL is a request the hub makes on someone else's behalf
from inside its network. `check_url` refuses, with `UnsafeUrl` (``UNSAFE_URL``):

- schemes other than ``http`` and ``https``, credentials in the URL (``https://user:pw@host``), URLs
  without a host, longer than 1,000 characters or containing whitespace;
- hosts that resolve to an address that is not public: loopback (``127.0.0.0/8``, ``::1``), private
  (``10/8``, ``172.16/12``, ``192.168/16``, ``fc00::/7`` including ``fd00::/8``), shared CGNAT
  (``100.64/10``), link-local (``169.254/16`` with the cloud metadata endpoint ``169.254.169.254``,
  ``fe80::/10``), multicast, unspecified (``0.0.0.0``, ``::``), reserved and documentation ranges, and
  IPv6 forms that embed such an IPv4 address (``::ffff:127.0.0.1``, 6to4, NAT64 ``64:ff9b::/96``).
  Every address a name resolves to must pass, so a name with one public and one private record is refused.

`resolve_target` runs the same check again right before each delivery and answers the address it checked,
and the delivery connects to exactly that address (the ``Host`` header and TLS server name stay the
URL's), so a name that resolves to a public address at subscription time and to an internal one later (DNS
rebinding) is refused, and the address checked is the address connected to.

``HUB_OUTBOUND_ALLOW_PRIVATE=true`` (on-premises and development deployments whose receivers live on the
internal network) allows loopback, private and shared addresses. Link-local, multicast, unspecified and
reserved addresses, and the well-known metadata endpoints, stay refused whatever the setting: no webhook
receiver lives there.

Example:
    >>> check_url("https://hooks.example.com/hub", allow_private=False).host
    'hooks.example.com'
    >>> check_url("http://169.254.169.254/latest/meta-data", allow_private=True)
    Traceback (most recent call last):
    ...
    schema.errors.UnsafeUrl: url host 169.254.169.254 is a cloud metadata address
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

from schema.errors import UnsafeUrl, ValidationFailed

__all__ = ["Resolver", "Target", "address_problem", "check_url", "pinned_request", "resolve_target"]

MAX_URL_LENGTH = 1000
_RESOLVE_TIMEOUT = 5.0

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: ``(host, port) -> addresses``; the default asks the system resolver (tests pass their own).
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Never a webhook receiver, whatever the deployment: instance metadata services answer credentials.
_METADATA = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Besides loopback, what HUB_OUTBOUND_ALLOW_PRIVATE allows: where on-premises receivers live.
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


@dataclass(frozen=True, slots=True)
class Target:
    """A URL that passed the syntax checks: its parts as the delivery needs them."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host, without brackets
    port: int


def _embedded_v4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_problem(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why the hub must not connect to ``address`` (None when it may)."""
    if address in _METADATA:
        return "is a cloud metadata address"
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_v4(address)
        if inner is not None:
            problem = address_problem(inner, allow_private=allow_private)
            return None if problem is None else f"embeds {inner}, which {problem}"
    if address.is_unspecified:
        return "is unspecified"
    if address.is_multicast:
        return "is multicast"
    if address.is_link_local:
        return "is link-local"
    if address.is_loopback:
        kind = "loopback"
    elif any(address in network for network in _PRIVATE_NETWORKS):
        kind = "private"
    elif address.is_reserved or not address.is_global:
        return "is reserved"
    else:
        return None
    return None if allow_private else f"is {kind}"


def check_url(url: str, *, allow_private: bool) -> Target:
    """The syntax checks (scheme, credentials, host, length), and the address check when the host is an
    IP literal. Host names are checked by `resolve_target`.

    Raises:
        ValidationFailed: not a URL at all (``VALIDATION_FAILED``, field ``url``).
        UnsafeUrl: a URL the hub refuses to call (``UNSAFE_URL``, field ``url``).
    """
    url = (url or "").strip()
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        raise ValidationFailed(f"url must be an http(s) URL of at most {MAX_URL_LENGTH} characters", field="url")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        raise ValidationFailed("url is not a valid URL", field="url") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeUrl(f"url scheme {parsed.scheme!r} is not allowed; use http or https")
    if parsed.userinfo:
        raise UnsafeUrl("url must not carry credentials (user:password@); the signature authenticates the hub")
    host = parsed.raw_host.decode("ascii").strip("[]").rstrip(".").lower()
    if not host:
        raise UnsafeUrl("url has no host")
    literal = _ip(host)
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private)
        if problem is not None:
            raise UnsafeUrl(f"url host {host} {problem}")
    elif host == "localhost" or host.endswith((".localhost", ".internal", ".local")):
        if not allow_private:
            raise UnsafeUrl(f"url host {host} names an internal host")
    return Target(parsed, host, parsed.port or (443 if parsed.scheme == "https" else 80))


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives ``host`` (A and AAAA)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


async def resolve_target(target: Target, *, allow_private: bool, resolver: Resolver | None = None) -> str:
    """Resolve the target's host and check every address; answers the one to connect to.

    Raises:
        UnsafeUrl: an address is not one the hub may call.
        ValidationFailed: the host does not resolve (``VALIDATION_FAILED``; at delivery time the caller
            treats it like any connection failure and retries).
    """
    literal = _ip(target.host)
    if literal is not None:
        problem = address_problem(literal, allow_private=allow_private)
        if problem is not None:
            raise UnsafeUrl(f"url host {target.host} {problem}")
        return target.host
    try:
        answers = await asyncio.wait_for((resolver or system_resolver)(target.host, target.port), _RESOLVE_TIMEOUT)
    except (OSError, TimeoutError, UnicodeError):
        answers = []
    addresses = [a for a in (_ip(answer) for answer in answers) if a is not None]
    if not addresses:
        raise ValidationFailed(f"url host {target.host} does not resolve", field="url")
    for address in addresses:
        problem = address_problem(address, allow_private=allow_private)
        if problem is not None:
            raise UnsafeUrl(f"url host {target.host} resolves to {address}, which {problem}")
    return str(addresses[0])


def pinned_request(target: Target, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL with ``address`` in place of the host, the ``Host`` header and the request extensions
    (TLS server name) that keep the original host's name for the receiver and for certificate checks."""
    if address == target.host:
        return target.url, {}, {}
    url = target.url.copy_with(host=address)
    headers = {"host": target.url.netloc.decode("ascii")}
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    return url, headers, extensions


def _ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None
