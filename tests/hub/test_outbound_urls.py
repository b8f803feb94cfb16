"""hub/services/outbound_urls.py: the SSRF guard on outbound webhook URLs (pure: no database, no network)."""

from __future__ import annotations

import ipaddress

import pytest

from hub.services.outbound_urls import address_problem, check_url, pinned_request, resolve_target
from schema.errors import UnsafeUrl, ValidationFailed

PUBLIC = "93.184.215.14"


def resolver_for(*addresses: str):
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.8.9.10", "::1",  # loopback
        "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.1", "100.64.0.1",  # private, CGNAT
        "fd00::1", "fc00::1", "fd12:3456::1",  # unique local (fd00::/8 included)
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::1", "64:ff9b::a00:1",  # v4 embedded in v6
    ],
)  # fmt: skip
def test_private_addresses_are_refused_unless_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_problem(ip, allow_private=False) is not None
    assert address_problem(ip, allow_private=True) is None


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254", "169.254.170.2", "100.100.100.200", "fd00:ec2::254",  # cloud metadata
        "169.254.1.1", "fe80::1",  # link-local
        "224.0.0.1", "239.1.2.3", "ff02::1",  # multicast
        "0.0.0.0", "::",  # unspecified
        "240.0.0.1", "255.255.255.255", "192.0.2.10", "2001:db8::1",  # reserved, documentation
        "::ffff:169.254.169.254",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused_even_when_private_targets_are_allowed(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert address_problem(ip, allow_private=False) is not None
    assert address_problem(ip, allow_private=True) is not None


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://hooks.example.com/x", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://hooks.example.com/", "scheme"),
        ("https://user:secret@hooks.example.com/x", "credentials"),
        ("https://token@hooks.example.com/x", "credentials"),
        ("http://127.0.0.1:8080/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "metadata"),
        ("http://[fd00:ec2::254]/", "metadata"),
        ("http://10.1.2.3/hook", "private"),
        ("http://localhost:9000/hook", "internal"),
        ("http://metadata.google.internal/", "internal"),
        ("https:///nohost", "host"),
    ],
)
def test_unsafe_urls_get_unsafe_url(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUrl) as caught:
        check_url(url, allow_private=False)
    assert caught.value.code == "UNSAFE_URL" and caught.value.extensions == {"field": "url"}
    assert reason in caught.value.message


@pytest.mark.parametrize(
    "url", ["", "not a url", "http://exa mple.com", "https://[::1", "https://" + "a" * 1000 + ".io", "https://h.io/a b"]
)
def test_malformed_urls_are_validation_errors(url: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        check_url(url, allow_private=False)
    assert caught.value.code == "VALIDATION_FAILED" and caught.value.extensions == {"field": "url"}


def test_allow_private_admits_loopback_and_private_literals_but_not_metadata() -> None:
    assert check_url("http://127.0.0.1:8080/hook", allow_private=True).port == 8080
    assert check_url("http://localhost/hook", allow_private=True).host == "localhost"
    with pytest.raises(UnsafeUrl):
        check_url("http://169.254.169.254/", allow_private=True)


async def test_every_resolved_address_must_be_public() -> None:
    target = check_url("https://hooks.example.com/x", allow_private=False)
    assert await resolve_target(target, allow_private=False, resolver=resolver_for(PUBLIC)) == PUBLIC
    with pytest.raises(UnsafeUrl, match=r"resolves to 10\.0\.0\.7"):
        await resolve_target(target, allow_private=False, resolver=resolver_for(PUBLIC, "10.0.0.7"))
    with pytest.raises(UnsafeUrl, match="metadata"):
        await resolve_target(target, allow_private=True, resolver=resolver_for("169.254.169.254"))
    assert await resolve_target(target, allow_private=True, resolver=resolver_for("10.0.0.7")) == "10.0.0.7"


async def test_a_host_that_does_not_resolve_is_a_validation_error() -> None:
    async def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    target = check_url("https://nowhere.example.invalid/x", allow_private=False)
    with pytest.raises(ValidationFailed) as caught:
        await resolve_target(target, allow_private=False, resolver=nxdomain)
    assert caught.value.code == "VALIDATION_FAILED" and "does not resolve" in caught.value.message


async def test_numeric_host_spellings_are_checked_after_resolution() -> None:
    # "0x7f000001" and "2130706433" are 127.0.0.1 to the system resolver (inet_aton)
    for url in ("http://0x7f000001/", "http://2130706433/", "http://127.1/"):
        target = check_url(url, allow_private=False)
        with pytest.raises(UnsafeUrl, match="loopback"):
            await resolve_target(target, allow_private=False)


def test_the_delivery_connects_to_the_checked_address_under_the_original_name() -> None:
    target = check_url("https://hooks.example.com:8443/in?x=1", allow_private=False)
    url, headers, extensions = pinned_request(target, PUBLIC)
    assert str(url) == f"https://{PUBLIC}:8443/in?x=1"
    assert headers == {"host": "hooks.example.com:8443"} and extensions == {"sni_hostname": "hooks.example.com"}
    url, headers, _ = pinned_request(check_url("http://hooks.example.com/in", allow_private=False), "2606:4700::1")
    assert str(url) == "http://[2606:4700::1]/in" and headers == {"host": "hooks.example.com"}
